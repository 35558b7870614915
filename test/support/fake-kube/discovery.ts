// Legacy discovery documents: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
import type { ResourceRegistry } from './resources.ts';
import type { ResourceType } from './types.ts';

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: readonly string[]): Record<string, unknown> {
  const versionDocs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: versionDocs, preferredVersion: versionDocs[0] };
}

export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.apiGroups().map((g) => groupDoc(g.name, g.versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const g = registry.apiGroups().find((x) => x.name === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}

function resourceEntries(rt: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: rt.plural,
    singularName: rt.singular,
    namespaced: rt.namespaced,
    kind: rt.kind,
    verbs: [...rt.verbs],
  };
  if (rt.shortNames.length > 0) main.shortNames = [...rt.shortNames];
  if (rt.categories.length > 0) main.categories = [...rt.categories];
  const out = [main];
  for (const sub of rt.subresources) {
    const entry: Record<string, unknown> = {
      name: `${rt.plural}/${sub.name}`,
      singularName: '',
      namespaced: rt.namespaced,
    };
    if (sub.group !== undefined) entry.group = sub.group;
    if (sub.version !== undefined) entry.version = sub.version;
    entry.kind = sub.kind;
    entry.verbs = [...sub.verbs];
    out.push(entry);
  }
  return out;
}

export function apiResourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  if (group === '' ? version !== 'v1' : !registry.hasGroupVersion(group, version)) return undefined;
  const resources = registry.resourcesFor(group, version).flatMap(resourceEntries);
  // The core list is served without apiVersion; group lists carry apiVersion v1.
  if (group === '') return { kind: 'APIResourceList', groupVersion: 'v1', resources };
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources };
}
