import type { DeliverResult, ReconcileResult } from '../alerts/types.ts';

/*
 * The drift check's contract (issue 12): what the tools, the CLI, the schedule functions and the
 * alerting see of it.
 */

/** Per object: never a silent skip. `deleted`: the baselined object is gone; `error`: it could not be compared. */
export type DriftState = 'clean' | 'drifted' | 'deleted' | 'error';

export interface FieldChange {
  /** Display path, e.g. `spec.template.spec.containers[web].image`. */
  path: string;
  /** What the baseline set, as bounded display text (Secret values: `sha256:<12 hex>`). */
  baseline: string;
  /** What the cluster has now, bounded display text; `(absent)` when the field is gone. */
  live: string;
  /** The field manager that owns the field now (managedFields), when known. */
  manager?: string;
}

export interface DriftObjectResult {
  cluster: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  state: DriftState;
  /** The changed fields (at most a bounded number; `changesTotal` counts all). */
  changes: FieldChange[];
  changesTotal: number;
  /** Why the object could not be compared (state `error`). */
  error?: string;
  /** The tool call that would restore the baseline (drifted or deleted). */
  restore?: { tool: string; arguments: Record<string, unknown> };
  /** How to restore when no tool call can (a Secret, whose values are not kept; a baseline holding digests). */
  restoreHint?: string;
  /** Differences the policy says are not drift (controller-owned fields, ignore rules). */
  ignored?: number;
  /** Why the first ignored difference was ignored. */
  ignoredReason?: string;
}

export interface DriftCheckInput {
  /** One cluster (or a cloud baseline's id, `eks:…`/`gke:…`); all configured clusters and cloud baselines when absent. */
  cluster?: string;
  /** One namespace; all baselined namespaces when absent. */
  namespace?: string;
  trigger: 'schedule' | 'cli' | 'tool';
  requestId: string;
}

export interface DriftCheckReport {
  checkedAt: string;
  clusters: string[];
  counts: { objects: number; clean: number; drifted: number; deleted: number; error: number };
  /** Results that are not clean, drifted and deleted first; bounded (see `counts`). */
  findings: DriftObjectResult[];
  /** Kubernetes API calls the check made (one list per kind and namespace set). */
  apiCalls: number;
  /** EKS/GKE cluster descriptions the check asked for (cloud baselines), when any. */
  cloudDescribes?: number;
  /** What the check queued and delivered, when alerting ran. */
  alerts?: { reconcile: ReconcileResult; deliver: DeliverResult };
}
