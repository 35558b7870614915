import type { RuleMode } from './policy.ts';
import type { RuleId } from './rules.ts';

export type WriteVerb = 'create' | 'apply' | 'patch' | 'replace' | 'scale' | 'delete' | 'restart' | 'undo';

/** One write an agent asks for, described well enough to judge it without calling the cluster. */
export interface WriteIntent {
  verb: WriteVerb;
  cluster: string;
  /** e.g. `Deployment`. */
  kind: string;
  apiVersion?: string;
  /**
   * Whether the kind is namespaced, as the API server's discovery says (`ResourceInfo.namespaced`),
   * never guessed from the manifest. Every scope rule judges from it: a cluster-scoped object is
   * judged as cluster-scoped whatever `metadata.namespace` it carries (the API server drops that
   * field), and a namespaced one by the namespace it is written to.
   */
  namespaced: boolean;
  /**
   * The namespace the write goes to (the request path). Ignored for cluster-scoped kinds; for a
   * namespaced kind, when left out, the object's `metadata.namespace` stands in.
   */
  namespace?: string;
  name?: string;
  /**
   * The full object as it will be after the write: the manifest for apply/create/replace, the
   * server-side dry-run result for patch/scale/restart/undo; absent for delete. Without it only the
   * scope rules run.
   */
  object?: Record<string, unknown>;
  /** Number of objects a delete-by-selector would remove. */
  count?: number;
}

export interface Finding {
  /** Stable id, e.g. `pss-baseline/privileged`. */
  ruleId: RuleId;
  /** Effective mode of the rule for this write. */
  mode: RuleMode;
  /**
   * Offending field path in the object, e.g. `spec.template.spec.containers[0].securityContext.privileged`;
   * `metadata.namespace` / `metadata.name` for namespace rules; empty when the finding is about the
   * write as a whole (read-only cluster, delete count).
   */
  path: string;
  /** What is wrong, naming the container where relevant. */
  message: string;
  /** How to fix it, concretely. */
  fix: string;
}

/** `allowed` is true when no finding is enforced. */
export interface Verdict {
  allowed: boolean;
  findings: Finding[];
}

/** A finding before the policy gives it a mode. */
export type RawFinding = Omit<Finding, 'mode'>;
