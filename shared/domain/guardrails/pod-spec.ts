import { child, dig, isRec, list, type Rec, rec, str } from './object-access.ts';

export type ContainerGroup = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerRef {
  group: ContainerGroup;
  index: number;
  name: string;
  /** Path of the container in the original object, e.g. `spec.template.spec.initContainers[0]`. */
  path: string;
  /** How findings name it: `container "app"`, `init container "setup"`, `ephemeral container "debug"`. */
  label: string;
  container: Rec;
  securityContext: Rec | undefined;
}

/** The pod template found inside a workload object, with paths into the original object. */
export interface PodContext {
  spec: Rec;
  specPath: string;
  /** Pod metadata (the template's metadata for workloads); may be absent. */
  metadata: Rec | undefined;
  metadataPath: string;
  securityContext: Rec | undefined;
  containers: ContainerRef[];
  /** spec.os.name is windows: the Linux-only restricted controls do not apply. */
  windows: boolean;
}

const TEMPLATE = ['spec', 'template'];

/** Where each built-in workload kind keeps its pod template (spec and metadata). */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  pod: [],
  podtemplate: ['template'],
  deployment: TEMPLATE,
  replicaset: TEMPLATE,
  statefulset: TEMPLATE,
  daemonset: TEMPLATE,
  job: TEMPLATE,
  replicationcontroller: TEMPLATE,
  cronjob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** API groups of the built-in workload kinds; a CRD that happens to reuse a kind name is not a workload. */
const WORKLOAD_GROUPS = new Set(['', 'apps', 'batch', 'extensions']);

const GROUP_LABEL: Record<ContainerGroup, string> = {
  containers: 'container',
  initContainers: 'init container',
  ephemeralContainers: 'ephemeral container',
};

/**
 * The pod spec of a workload object, or undefined when the kind carries none (ConfigMap, Service,
 * custom resources) or the object has no pod spec yet.
 */
export function locatePodSpec(kind: string, apiVersion: string | undefined, object: Rec): PodContext | undefined {
  const base = POD_TEMPLATE_PATHS[kind.toLowerCase()];
  if (!base) return undefined;
  const version = apiVersion ?? str(object.apiVersion);
  if (version !== undefined) {
    const group = version.includes('/') ? version.slice(0, version.indexOf('/')) : '';
    if (!WORKLOAD_GROUPS.has(group)) return undefined;
  }
  const specKeys = [...base, 'spec'];
  const metadataKeys = [...base, 'metadata'];
  const spec = rec(dig(object, specKeys));
  if (!spec) return undefined;
  const specPath = specKeys.join('.');
  const containers: ContainerRef[] = [];
  for (const group of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    list(spec[group]).forEach((c, index) => {
      if (!isRec(c)) return;
      const name = str(c.name) ?? `#${index}`;
      containers.push({
        group,
        index,
        name,
        path: child(child(specPath, group), index),
        label: `${GROUP_LABEL[group]} ${JSON.stringify(name)}`,
        container: c,
        securityContext: rec(c.securityContext),
      });
    });
  }
  return {
    spec,
    specPath,
    metadata: rec(dig(object, metadataKeys)),
    metadataPath: metadataKeys.join('.'),
    securityContext: rec(spec.securityContext),
    containers,
    windows: dig(spec, ['os', 'name']) === 'windows',
  };
}
