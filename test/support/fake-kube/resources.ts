// The catalogue of served resource types: built-in groups plus CustomResourceDefinitions.
import { asArray, asRecord, asString, isRecord } from './json.ts';
import type { KubeObject, ResourceType, ScalePaths, SubresourceType } from './types.ts';

const STANDARD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const NAMESPACE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;
const SUB_VERBS = ['get', 'patch', 'update'] as const;

interface BuiltInSpec {
  plural: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  scale?: boolean;
  log?: boolean;
  verbs?: readonly string[];
  generation?: boolean;
  storage?: string;
  singular?: string;
  fieldSelectors?: string[];
}

interface BuiltInGroup {
  group: string;
  version: string;
  resources: BuiltInSpec[];
}

const POD_FIELDS = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];
const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];
const EVENTS_V1_FIELDS = [
  'regarding.kind',
  'regarding.namespace',
  'regarding.name',
  'regarding.uid',
  'regarding.apiVersion',
  'regarding.resourceVersion',
  'regarding.fieldPath',
  'reason',
  'reportingController',
  'type',
];

const BUILT_IN: BuiltInGroup[] = [
  {
    group: '',
    version: 'v1',
    resources: [
      { plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] },
      { plural: 'endpoints', kind: 'Endpoints', shortNames: ['ep'], singular: 'endpoints' },
      { plural: 'events', kind: 'Event', shortNames: ['ev'], fieldSelectors: EVENT_FIELDS },
      {
        plural: 'namespaces',
        kind: 'Namespace',
        namespaced: false,
        shortNames: ['ns'],
        status: true,
        verbs: NAMESPACE_VERBS,
        fieldSelectors: ['status.phase'],
      },
      {
        plural: 'nodes',
        kind: 'Node',
        namespaced: false,
        shortNames: ['no'],
        status: true,
        fieldSelectors: ['spec.unschedulable'],
      },
      { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', shortNames: ['pvc'], status: true },
      {
        plural: 'pods',
        kind: 'Pod',
        shortNames: ['po'],
        categories: ['all'],
        status: true,
        log: true,
        fieldSelectors: POD_FIELDS,
      },
      {
        plural: 'replicationcontrollers',
        kind: 'ReplicationController',
        shortNames: ['rc'],
        categories: ['all'],
        status: true,
        scale: true,
        generation: true,
        fieldSelectors: ['status.replicas'],
      },
      { plural: 'secrets', kind: 'Secret', fieldSelectors: ['type'] },
      { plural: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] },
      { plural: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], status: true },
    ],
  },
  {
    group: 'apps',
    version: 'v1',
    resources: [
      { plural: 'controllerrevisions', kind: 'ControllerRevision' },
      {
        plural: 'daemonsets',
        kind: 'DaemonSet',
        shortNames: ['ds'],
        categories: ['all'],
        status: true,
        generation: true,
      },
      {
        plural: 'deployments',
        kind: 'Deployment',
        shortNames: ['deploy'],
        categories: ['all'],
        status: true,
        scale: true,
        generation: true,
      },
      {
        plural: 'replicasets',
        kind: 'ReplicaSet',
        shortNames: ['rs'],
        categories: ['all'],
        status: true,
        scale: true,
        generation: true,
        fieldSelectors: ['status.replicas'],
      },
      {
        plural: 'statefulsets',
        kind: 'StatefulSet',
        shortNames: ['sts'],
        categories: ['all'],
        status: true,
        scale: true,
        generation: true,
      },
    ],
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    resources: [
      { plural: 'events', kind: 'Event', shortNames: ['ev'], storage: 'events', fieldSelectors: EVENTS_V1_FIELDS },
    ],
  },
  {
    group: 'autoscaling',
    version: 'v2',
    resources: [
      {
        plural: 'horizontalpodautoscalers',
        kind: 'HorizontalPodAutoscaler',
        shortNames: ['hpa'],
        categories: ['all'],
        status: true,
        generation: true,
      },
    ],
  },
  {
    group: 'batch',
    version: 'v1',
    resources: [
      { plural: 'cronjobs', kind: 'CronJob', shortNames: ['cj'], categories: ['all'], status: true, generation: true },
      { plural: 'jobs', kind: 'Job', categories: ['all'], status: true, generation: true },
    ],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resources: [
      { plural: 'ingresses', kind: 'Ingress', shortNames: ['ing'], status: true, generation: true },
      { plural: 'networkpolicies', kind: 'NetworkPolicy', shortNames: ['netpol'], generation: true },
    ],
  },
  {
    group: 'policy',
    version: 'v1',
    resources: [
      {
        plural: 'poddisruptionbudgets',
        kind: 'PodDisruptionBudget',
        shortNames: ['pdb'],
        status: true,
        generation: true,
      },
    ],
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resources: [
      { plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
      { plural: 'clusterroles', kind: 'ClusterRole', namespaced: false },
      { plural: 'rolebindings', kind: 'RoleBinding' },
      { plural: 'roles', kind: 'Role' },
    ],
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resources: [
      {
        plural: 'customresourcedefinitions',
        kind: 'CustomResourceDefinition',
        namespaced: false,
        shortNames: ['crd', 'crds'],
        status: true,
        generation: true,
      },
    ],
  },
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    resources: [
      { plural: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
      { plural: 'pods', kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  },
];

export const METRICS_GROUP = 'metrics.k8s.io';

function defaultSingular(kind: string): string {
  return kind.toLowerCase();
}

function builtInType(group: string, version: string, spec: BuiltInSpec): ResourceType {
  const subresources: SubresourceType[] = [];
  if (spec.log) subresources.push({ name: 'log', kind: spec.kind, verbs: ['get'] });
  if (spec.scale)
    subresources.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: SUB_VERBS });
  if (spec.status) subresources.push({ name: 'status', kind: spec.kind, verbs: SUB_VERBS });
  const rt: ResourceType = {
    group,
    version,
    apiVersion: group ? `${group}/${version}` : version,
    plural: spec.plural,
    singular: spec.singular ?? defaultSingular(spec.kind),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced ?? true,
    verbs: spec.verbs ?? STANDARD_VERBS,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    subresources,
    storage: spec.storage ?? (group ? `${spec.plural}.${group}` : spec.plural),
    builtIn: true,
    hasGeneration: spec.generation ?? false,
    fieldSelectors: spec.fieldSelectors ?? [],
  };
  if (spec.scale) {
    rt.scale = {
      specReplicasPath: ['spec', 'replicas'],
      statusReplicasPath: ['status', 'replicas'],
      labelSelectorPath: ['spec', 'selector'],
    };
  }
  if (group === METRICS_GROUP) rt.virtual = 'metrics';
  return rt;
}

interface GroupEntry {
  name: string;
  /** versions in preference order */
  versions: string[];
  resources: Map<string, ResourceType[]>;
  custom: boolean;
}

export class CrdError extends Error {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, message: string) {
    super(message);
    this.name = 'CrdError';
    this.field = field;
    this.value = value;
  }
}

function jsonPathToKeys(path: unknown): readonly string[] | undefined {
  const text = asString(path);
  if (!text?.startsWith('.')) return undefined;
  return text.slice(1).split('.');
}

/** Built-in types plus those contributed by established CRDs. */
export class ResourceRegistry {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly byStorage = new Map<string, ResourceType>();
  private metricsAvailable: boolean;

  constructor(opts: { metricsAvailable: boolean }) {
    this.metricsAvailable = opts.metricsAvailable;
    for (const g of BUILT_IN) {
      for (const spec of g.resources) this.add(builtInType(g.group, g.version, spec), false);
    }
  }

  private add(rt: ResourceType, custom: boolean): void {
    let entry = this.groups.get(rt.group);
    if (!entry) {
      entry = { name: rt.group, versions: [], resources: new Map(), custom };
      this.groups.set(rt.group, entry);
    }
    if (!entry.versions.includes(rt.version)) entry.versions.push(rt.version);
    const list = entry.resources.get(rt.version) ?? [];
    const without = list.filter((r) => r.plural !== rt.plural);
    without.push(rt);
    without.sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
    entry.resources.set(rt.version, without);
    // The first registered type for a storage (core events before events.k8s.io) is its primary form.
    if (!this.byStorage.has(rt.storage) && !rt.virtual) this.byStorage.set(rt.storage, rt);
  }

  setMetricsAvailable(available: boolean): void {
    this.metricsAvailable = available;
  }

  isMetricsAvailable(): boolean {
    return this.metricsAvailable;
  }

  private visible(group: string): GroupEntry | undefined {
    if (group === METRICS_GROUP && !this.metricsAvailable) return undefined;
    return this.groups.get(group);
  }

  /** Served API groups except core, in discovery order. */
  apiGroups(): Array<{ name: string; versions: string[] }> {
    const out: Array<{ name: string; versions: string[] }> = [];
    for (const entry of this.groups.values()) {
      if (entry.name === '' || !this.visible(entry.name)) continue;
      if (entry.versions.length === 0) continue;
      out.push({ name: entry.name, versions: [...entry.versions] });
    }
    return out;
  }

  hasGroupVersion(group: string, version: string): boolean {
    const entry = this.visible(group);
    return !!entry && entry.versions.includes(version);
  }

  resourcesFor(group: string, version: string): readonly ResourceType[] {
    return this.visible(group)?.resources.get(version) ?? [];
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.resourcesFor(group, version).find((r) => r.plural === plural);
  }

  forKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    return this.resourcesFor(group ?? '', version ?? '').find((r) => r.kind === kind && !r.virtual);
  }

  /** The primary served type for a storage key. */
  forStorage(storage: string): ResourceType | undefined {
    return this.byStorage.get(storage);
  }

  storageKeys(): string[] {
    return [...this.byStorage.keys()];
  }

  /** Resolves `pods`, `deployments.apps`, `deploy` or a Kind to a type, for the test-facing store. */
  resolve(name: string): ResourceType | undefined {
    const [plural, ...groupParts] = name.split('.');
    const group = groupParts.join('.');
    const candidates: ResourceType[] = [];
    for (const entry of this.groups.values()) {
      for (const list of entry.resources.values()) {
        for (const rt of list) {
          if (rt.virtual) continue;
          if (groupParts.length > 0 && rt.group !== group) continue;
          if (rt.plural === plural || rt.shortNames.includes(plural ?? '') || rt.kind === name) candidates.push(rt);
        }
      }
    }
    // Prefer core events over events.k8s.io, i.e. the primary type of a storage.
    return candidates.find((c) => this.byStorage.get(c.storage) === c) ?? candidates[0];
  }

  /** Throws CrdError for a definition the real server rejects. */
  checkCrd(crd: KubeObject): void {
    const spec = asRecord(crd.spec);
    const group = asString(spec?.group) ?? '';
    const names = asRecord(spec?.names);
    const plural = asString(names?.plural) ?? '';
    const kind = asString(names?.kind) ?? '';
    const scope = asString(spec?.scope);
    const versions = asArray(spec?.versions).filter(isRecord);
    if (!group) throw new CrdError('spec.group', group, 'Required value');
    if (!group.includes('.')) throw new CrdError('spec.group', group, 'should be a domain with at least one dot');
    if (!plural) throw new CrdError('spec.names.plural', plural, 'Required value');
    if (!kind) throw new CrdError('spec.names.kind', kind, 'Required value');
    if (scope !== 'Namespaced' && scope !== 'Cluster') {
      throw new CrdError('spec.scope', scope ?? '', 'supported values: "Cluster", "Namespaced"');
    }
    if (crd.metadata.name !== `${plural}.${group}`) {
      throw new CrdError('metadata.name', crd.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group');
    }
    if (versions.length === 0)
      throw new CrdError(
        'spec.versions',
        [],
        'Required value: must have exactly one version marked as storage version',
      );
    if (versions.filter((v) => v.storage === true).length !== 1) {
      throw new CrdError('spec.versions', versions.length, 'must have exactly one version marked as storage version');
    }
  }

  /** Registers the served versions of a CRD (replacing an earlier registration of it). */
  registerCrd(crd: KubeObject): ResourceType[] {
    this.checkCrd(crd);
    const spec = asRecord(crd.spec);
    const group = asString(spec?.group) ?? '';
    const names = asRecord(spec?.names);
    const plural = asString(names?.plural) ?? '';
    const kind = asString(names?.kind) ?? '';
    const scope = asString(spec?.scope);
    const versions = asArray(spec?.versions).filter(isRecord);
    this.unregisterCrd(crd);
    const registered: ResourceType[] = [];
    for (const v of versions) {
      const version = asString(v.name);
      if (!version || v.served === false) continue;
      const subs = asRecord(v.subresources);
      const subresources: SubresourceType[] = [];
      let scale: ScalePaths | undefined;
      const scaleSpec = asRecord(subs?.scale);
      if (scaleSpec) {
        const specPath = jsonPathToKeys(scaleSpec.specReplicasPath);
        const statusPath = jsonPathToKeys(scaleSpec.statusReplicasPath);
        if (specPath && statusPath) {
          scale = { specReplicasPath: specPath, statusReplicasPath: statusPath };
          const selectorPath = jsonPathToKeys(scaleSpec.labelSelectorPath);
          if (selectorPath) scale.labelSelectorPath = selectorPath;
          subresources.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: SUB_VERBS });
        }
      }
      if (subs && isRecord(subs.status)) subresources.push({ name: 'status', kind, verbs: SUB_VERBS });
      const rt: ResourceType = {
        group,
        version,
        apiVersion: `${group}/${version}`,
        plural,
        singular: asString(names?.singular) ?? kind.toLowerCase(),
        kind,
        listKind: asString(names?.listKind) ?? `${kind}List`,
        namespaced: scope === 'Namespaced',
        verbs: STANDARD_VERBS,
        shortNames: asArray(names?.shortNames).filter((s): s is string => typeof s === 'string'),
        categories: asArray(names?.categories).filter((s): s is string => typeof s === 'string'),
        subresources,
        storage: `${plural}.${group}`,
        builtIn: false,
        hasGeneration: true,
        fieldSelectors: [],
      };
      if (scale) rt.scale = scale;
      this.add(rt, true);
      registered.push(rt);
    }
    return registered;
  }

  unregisterCrd(crd: KubeObject): void {
    const spec = asRecord(crd.spec);
    const group = asString(spec?.group) ?? '';
    const plural = asString(asRecord(spec?.names)?.plural) ?? '';
    const entry = this.groups.get(group);
    if (!entry?.custom) return;
    for (const [version, list] of entry.resources) {
      const kept = list.filter((r) => r.plural !== plural);
      if (kept.length === 0) {
        entry.resources.delete(version);
        entry.versions = entry.versions.filter((v) => v !== version);
      } else {
        entry.resources.set(version, kept);
      }
    }
    this.byStorage.delete(`${plural}.${group}`);
    if (entry.versions.length === 0) this.groups.delete(group);
  }

  /** The served type for each custom resource storage key of a CRD (used to clean up on CRD delete). */
  crdStorage(crd: KubeObject): string {
    const spec = asRecord(crd.spec);
    return `${asString(asRecord(spec?.names)?.plural) ?? ''}.${asString(spec?.group) ?? ''}`;
  }
}
