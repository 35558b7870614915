// Shapes shared across the fake API server.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

/** A Kubernetes object as stored and served. Everything below metadata stays untyped JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** A List response (`PodList`, `WidgetList`, ...). */
export interface KubeList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export interface SubresourceType {
  name: 'status' | 'scale' | 'log';
  kind: string;
  group?: string;
  version?: string;
  verbs: readonly string[];
}

export interface ScalePaths {
  specReplicasPath: readonly string[];
  statusReplicasPath: readonly string[];
  labelSelectorPath?: readonly string[];
}

export interface ResourceType {
  group: string;
  version: string;
  /** `v1` for core, `group/version` otherwise. */
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: readonly string[];
  shortNames: readonly string[];
  categories: readonly string[];
  subresources: readonly SubresourceType[];
  /** Objects of several served types can share one storage (core and events.k8s.io events). */
  storage: string;
  /** Built-in types are typed lists (items without kind/apiVersion); custom resources are not. */
  builtIn: boolean;
  /** metadata.generation is maintained for this type. */
  hasGeneration: boolean;
  /** Served from computed data rather than storage (metrics.k8s.io). */
  virtual?: 'metrics';
  scale?: ScalePaths;
  /** Extra field selectors accepted besides metadata.name and metadata.namespace. */
  fieldSelectors: readonly string[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface KubeStatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: KubeStatusCause[];
    retryAfterSeconds?: number;
  };
  code?: number;
}
