/**
 * Scope rules: judged from the intent alone (cluster, scope, namespace, verb, count), for every verb.
 *
 * Whether the object is cluster-scoped comes from the API server's discovery (`intent.namespaced`),
 * never from the manifest: a cluster-scoped object that carries `metadata.namespace` is still
 * cluster-scoped (the API server drops the field), so that field neither confines it to a namespace
 * nor lets it past the cluster-scoped rule.
 */
import { firstMatch } from './glob.ts';
import { dig, str } from './object-access.ts';
import type { EffectiveSettings } from './policy.ts';
import type { ScopeRuleId } from './rules.ts';
import type { RawFinding, WriteIntent } from './types.ts';

type ScopeCheck = (intent: WriteIntent, settings: EffectiveSettings) => RawFinding[];

/** The core Namespace kind (cluster-scoped, group ""), whose object is judged by its own name. */
export function isNamespaceObject(intent: WriteIntent): boolean {
  return (
    !intent.namespaced &&
    intent.kind.toLowerCase() === 'namespace' &&
    (intent.apiVersion === undefined || intent.apiVersion === 'v1')
  );
}

const describeTarget = (intent: WriteIntent) => {
  const ns = targetNamespaces(intent).find((t) => t.path === 'metadata.namespace')?.namespace;
  return `${intent.verb} ${intent.kind}${intent.name ? `/${intent.name}` : ''}${ns ? ` in ${ns}` : ''}`;
};

/**
 * The namespaces a write touches, with the field that names each. A Namespace object: its own name.
 * Another cluster-scoped object: none, whatever its `metadata.namespace` says. A namespaced object:
 * the namespace it is written to (the intent's), and the object's own `metadata.namespace` should it
 * differ (the API server refuses such a mismatch; judging both keeps a refusal the safe outcome) or
 * stand in for a missing one.
 */
export function targetNamespaces(intent: WriteIntent): { namespace: string; path: string }[] {
  if (isNamespaceObject(intent)) {
    const names = new Set<string>();
    if (intent.name) names.add(intent.name);
    const fromObject = str(dig(intent.object, ['metadata', 'name']));
    if (fromObject) names.add(fromObject);
    return [...names].map((namespace) => ({ namespace, path: 'metadata.name' }));
  }
  if (!intent.namespaced) return [];
  const names = new Set<string>();
  if (intent.namespace) names.add(intent.namespace);
  const fromObject = str(dig(intent.object, ['metadata', 'namespace']));
  if (fromObject) names.add(fromObject);
  return [...names].map((namespace) => ({ namespace, path: 'metadata.namespace' }));
}

const readOnly: ScopeCheck = (intent, s) =>
  s.readOnly
    ? [
        {
          ruleId: 'scope/read-only',
          path: '',
          message: `cluster ${intent.cluster} is read-only under the guardrail policy, so ${describeTarget(intent)} is not allowed`,
          fix: 'do not retry with a changed object; ask an operator to make the change, or to lift readOnly for this cluster in the guardrail policy',
        },
      ]
    : [];

const protectedNamespace: ScopeCheck = (intent, s) =>
  targetNamespaces(intent).flatMap(({ namespace, path }) => {
    const pattern = firstMatch(namespace, s.protectedNamespaces);
    if (pattern === undefined) return [];
    const isNamespace = path === 'metadata.name';
    const why = pattern === namespace ? 'protected' : `protected (matches ${pattern})`;
    return [
      {
        ruleId: 'scope/protected-namespace' as const,
        path,
        message: isNamespace
          ? `namespace ${namespace} is ${why}, so its Namespace object cannot be changed`
          : `namespace ${namespace} is ${why} and read-only to agents`,
        fix: `do not write to ${namespace}; ask an operator, or remove it from protectedNamespaces in the guardrail policy`,
      },
    ];
  });

const namespaceNotAllowed: ScopeCheck = (intent, s) => {
  const targets = targetNamespaces(intent);
  if (intent.namespaced && targets.length === 0) {
    // A namespaced write with no namespace cannot be placed, so it cannot be judged: refuse it.
    return [
      {
        ruleId: 'scope/namespace-not-allowed',
        path: 'metadata.namespace',
        message: `${intent.kind}${intent.name ? ` ${intent.name}` : ''} is namespaced but the write names no namespace, so where it lands cannot be judged`,
        fix: 'give the namespace explicitly (the namespace argument or metadata.namespace)',
      },
    ];
  }
  return targets.flatMap(({ namespace, path }) => {
    const denied = firstMatch(namespace, s.namespaces.deny);
    if (denied !== undefined) {
      return [
        {
          ruleId: 'scope/namespace-not-allowed' as const,
          path,
          message: `namespace ${namespace} matches namespaces.deny pattern ${denied}`,
          fix: `choose a namespace that is not denied${s.namespaces.allow.length ? ` and matches ${s.namespaces.allow.join(', ')}` : ''}`,
        },
      ];
    }
    if (s.namespaces.allow.length > 0 && firstMatch(namespace, s.namespaces.allow) === undefined) {
      return [
        {
          ruleId: 'scope/namespace-not-allowed' as const,
          path,
          message: `namespace ${namespace} does not match namespaces.allow (${s.namespaces.allow.join(', ')})`,
          fix: `write only to namespaces matching ${s.namespaces.allow.join(', ')}`,
        },
      ];
    }
    return [];
  });
};

/**
 * Cluster-scoped objects, as discovery says (Namespaces aside: the namespace rules judge those by
 * name). A `metadata.namespace` in the object changes nothing: the API server ignores it.
 */
const clusterScoped: ScopeCheck = (intent, s) => {
  if (intent.namespaced || isNamespaceObject(intent)) return [];
  const kind = intent.kind.toLowerCase();
  const listed = (kinds: string[]) => kinds.some((k) => k.toLowerCase() === kind);
  if (listed(s.clusterScoped.allow)) return [];
  const target = `${intent.kind}${intent.name ? ` ${intent.name}` : ''}`;
  const claimed = str(dig(intent.object, ['metadata', 'namespace']));
  const note = claimed
    ? ` (its metadata.namespace ${claimed} does not confine it: the API server ignores the namespace of a cluster-scoped object)`
    : '';
  if (listed(s.clusterScoped.deny)) {
    return [
      {
        ruleId: 'scope/cluster-scoped',
        path: 'kind',
        message: `${target} is cluster-scoped and ${intent.kind} is in clusterScoped.deny: writing it grants cluster-wide power (RBAC or admission control)${note}`,
        fix: `ask a cluster administrator to make this change; to let agents do it, add ${intent.kind} to clusterScoped.allow in the guardrail policy`,
      },
    ];
  }
  if (s.namespaces.allow.length > 0) {
    return [
      {
        ruleId: 'scope/cluster-scoped',
        path: 'kind',
        message: `${target} is cluster-scoped, outside the namespaces this policy confines writes to (${s.namespaces.allow.join(', ')})${note}`,
        fix: `write only namespaced objects in ${s.namespaces.allow.join(', ')}, or add ${intent.kind} to clusterScoped.allow in the guardrail policy`,
      },
    ];
  }
  return [];
};

const deleteCount: ScopeCheck = (intent, s) =>
  intent.verb === 'delete' && intent.count !== undefined && intent.count > s.maxDeleteCount
    ? [
        {
          ruleId: 'scope/delete-count',
          path: '',
          message: `this delete would remove ${intent.count} objects; the policy allows at most ${s.maxDeleteCount} in one call`,
          fix: `narrow the selector so it matches at most ${s.maxDeleteCount} objects, or ask an operator to raise maxDeleteCount`,
        },
      ]
    : [];

export const SCOPE_CHECKS: Record<ScopeRuleId, ScopeCheck> = {
  'scope/read-only': readOnly,
  'scope/protected-namespace': protectedNamespace,
  'scope/namespace-not-allowed': namespaceNotAllowed,
  'scope/cluster-scoped': clusterScoped,
  'scope/delete-count': deleteCount,
};
