/**
 * How the core sees a Kubernetes object and a resource type: plain wire shapes (JSON objects as the
 * API server sends them). The Kubernetes port (shared/ports/kube.ts) speaks in these types.
 */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMeta;
};

export interface KubeMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  [k: string]: unknown;
}

/** One resource type as discovery reports it. */
export interface ResourceInfo {
  group: string;
  version: string;
  /** `v1` or `apps/v1`. */
  apiVersion: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** Subresource names, e.g. `scale`, `status`, `log`. */
  subresources: string[];
}
