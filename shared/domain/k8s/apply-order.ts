/**
 * The order in which one manifest's documents are written, so that a manifest holding a Namespace
 * or a CustomResourceDefinition and the objects inside it applies in one call. Pure: no client.
 *
 * Three phases: Namespaces, then CustomResourceDefinitions (the caller waits until they are
 * Established and discovery serves their kinds), then every other object. Within a phase, kinds
 * follow Helm's install order (helm/helm pkg/releaseutil/kind_sorter.go, `InstallOrder`): what
 * others refer to (ServiceAccounts, Secrets, ConfigMaps, PVCs, RBAC, Services) before the
 * workloads that use them; kinds it does not list come last, alphabetically by kind; documents of
 * one kind keep their manifest order (Helm sorts stably).
 */
import type { KubeObject, ResourceInfo } from './model.ts';
import { isRecord } from './object-guards.ts';

export type ApplyPhase = 'namespaces' | 'definitions' | 'objects';

export const APPLY_PHASES: readonly ApplyPhase[] = ['namespaces', 'definitions', 'objects'];

export const PHASE_TITLE: Record<ApplyPhase, string> = {
  namespaces: 'namespaces',
  definitions: 'custom resource definitions',
  objects: 'objects',
};

/** helm/helm pkg/releaseutil/kind_sorter.go, InstallOrder (Helm 3). */
export const HELM_INSTALL_ORDER: readonly string[] = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];

const RANK = new Map(HELM_INSTALL_ORDER.map((k, i) => [k, i]));

/** The phase of a resolved resource type: decided by what discovery says the kind is. */
export function phaseOf(res: Pick<ResourceInfo, 'group' | 'kind'>): ApplyPhase {
  if (res.group === '' && res.kind === 'Namespace') return 'namespaces';
  if (res.group === 'apiextensions.k8s.io' && res.kind === 'CustomResourceDefinition') return 'definitions';
  return 'objects';
}

/**
 * Sorts items (stably) by phase, then by Helm's install order of their kind; unknown kinds after
 * known ones, alphabetically, each kind in its manifest order.
 */
export function sortForApply<T>(items: readonly T[], view: (item: T) => { phase: ApplyPhase; kind: string }): T[] {
  const keyed = items.map((item, index) => ({ item, index, ...view(item) }));
  keyed.sort((a, b) => {
    const phase = APPLY_PHASES.indexOf(a.phase) - APPLY_PHASES.indexOf(b.phase);
    if (phase !== 0) return phase;
    const ra = RANK.get(a.kind);
    const rb = RANK.get(b.kind);
    if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb;
    if (ra !== undefined && rb === undefined) return -1;
    if (ra === undefined && rb !== undefined) return 1;
    if (ra === undefined && rb === undefined && a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
    return a.index - b.index;
  });
  return keyed.map((k) => k.item);
}

/** A kind that a CustomResourceDefinition of the manifest defines, as discovery will serve it. */
export interface DefinedKind {
  /** metadata.name of the CRD, e.g. `widgets.example.com`. */
  crdName: string;
  res: ResourceInfo;
}

/**
 * The resource types the manifest's CRDs will serve (one per served version), so that documents of
 * those kinds can be judged before the CRD exists. Scope comes from the CRD's `spec.scope`, which
 * is what the API server will serve; the caller re-resolves through discovery once the CRD is
 * Established and judges again with what the server reports.
 */
export function kindsDefinedBy(docs: readonly KubeObject[]): DefinedKind[] {
  const out: DefinedKind[] = [];
  for (const doc of docs) {
    if (doc.kind !== 'CustomResourceDefinition' || !String(doc.apiVersion).startsWith('apiextensions.k8s.io/'))
      continue;
    const spec = isRecord(doc.spec) ? doc.spec : undefined;
    const names = isRecord(spec?.names) ? spec.names : undefined;
    const group = typeof spec?.group === 'string' ? spec.group : '';
    const kind = typeof names?.kind === 'string' ? names.kind : '';
    const pluralName = typeof names?.plural === 'string' ? names.plural : '';
    if (!group || !kind || !pluralName) continue;
    const versions = Array.isArray(spec?.versions) ? spec.versions : [];
    for (const v of versions) {
      if (!isRecord(v) || typeof v.name !== 'string' || v.served === false) continue;
      const subresources = isRecord(v.subresources) ? Object.keys(v.subresources) : [];
      out.push({
        crdName: doc.metadata?.name ?? `${pluralName}.${group}`,
        res: {
          group,
          version: v.name,
          apiVersion: `${group}/${v.name}`,
          kind,
          plural: pluralName,
          singular: typeof names?.singular === 'string' ? names.singular : kind.toLowerCase(),
          namespaced: spec?.scope !== 'Cluster',
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          shortNames: Array.isArray(names?.shortNames)
            ? names.shortNames.filter((s): s is string => typeof s === 'string')
            : [],
          subresources,
        },
      });
    }
  }
  return out;
}

/** The kind a document names, if one of the manifest's CRDs defines it. */
export function definedKindFor(defined: readonly DefinedKind[], doc: KubeObject): DefinedKind | undefined {
  return defined.find((d) => d.res.apiVersion === doc.apiVersion && d.res.kind === doc.kind);
}

/** Whether a CRD object reports Established=True. */
export function isEstablished(crd: KubeObject | undefined): boolean {
  const status = isRecord(crd?.status) ? crd.status : undefined;
  const conditions = Array.isArray(status?.conditions) ? status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Established' && c.status === 'True');
}
