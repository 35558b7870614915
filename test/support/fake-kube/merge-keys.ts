// How lists merge in built-in types: the patchMergeKey / listMapKey tags of the Kubernetes API types.
// Shared by strategic merge patch and server-side apply.

export type ListStrategy = { type: 'map'; key: string } | { type: 'set' } | { type: 'atomic' };

const ATOMIC: ListStrategy = { type: 'atomic' };

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The strategy for the list found at `path` (field names from the object root, list positions omitted)
 * in an object of `kind`. Custom resources only get the metadata rules.
 */
export function listStrategy(path: readonly string[], kind: string | undefined, builtIn: boolean): ListStrategy {
  const field = path[path.length - 1];
  if (path[0] === 'metadata' && path.length === 2) {
    if (field === 'ownerReferences') return { type: 'map', key: 'uid' };
    if (field === 'finalizers') return { type: 'set' };
    return ATOMIC;
  }
  if (!builtIn || field === undefined) return ATOMIC;
  const inContainer = path.slice(0, -1).some((p) => CONTAINER_LISTS.has(p));
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return { type: 'map', key: 'name' };
    case 'env':
      return inContainer ? { type: 'map', key: 'name' } : ATOMIC;
    case 'volumes':
      return inContainer ? ATOMIC : { type: 'map', key: 'name' };
    case 'volumeMounts':
      return { type: 'map', key: 'mountPath' };
    case 'volumeDevices':
      return { type: 'map', key: 'devicePath' };
    case 'ports':
      if (inContainer) return { type: 'map', key: 'containerPort' };
      if (kind === 'Service' && path.length === 2 && path[0] === 'spec') return { type: 'map', key: 'port' };
      return ATOMIC;
    case 'hostAliases':
      return { type: 'map', key: 'ip' };
    case 'conditions':
      return path[0] === 'status' ? { type: 'map', key: 'type' } : ATOMIC;
    case 'topologySpreadConstraints':
      return { type: 'map', key: 'topologyKey' };
    default:
      return ATOMIC;
  }
}
