/**
 * Scope comes from discovery, never from the manifest; and the cluster-access rules judge the kinds
 * that give node or cluster access without being workloads. Property-based over kinds, casings,
 * namespaces and verbs (fast-check, bounded runs), plus a table of each dangerous kind and its twin.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLUSTER_SCOPED_DENY,
  defaultPolicy,
  evaluateWrite,
  formatVerdict,
  type Policy,
  parsePolicy,
  RULE_IDS,
  type Verdict,
  type WriteIntent,
  type WriteVerb,
} from '../../shared/domain/guardrails/index.ts';
import {
  CLUSTER_SCOPED_KINDS,
  DANGEROUS_OBJECTS,
  type KindInfo,
  NAMESPACED_KINDS,
  SAFE_OBJECTS,
} from './guardrails-kinds.ts';

const RUNS = { numRuns: 150, seed: 9 };
const VERBS: WriteVerb[] = ['create', 'apply', 'patch', 'replace', 'delete'];

/** Spellings of a kind a caller might send (the domain must not depend on the canonical one). */
const casings = (kind: string) => [
  kind,
  kind.toLowerCase(),
  kind.toUpperCase(),
  kind[0]?.toLowerCase() + kind.slice(1),
];

const ids = (v: Verdict) => v.findings.map((f) => f.ruleId);
const scopeIds = (v: Verdict) => ids(v).filter((id) => id.startsWith('scope/'));

const CONFINED = parsePolicy("namespaces: { allow: ['team-*', default] }\n");
/** Every cluster-scoped kind in the fixtures allowed by name: only the namespace could confine them. */
const ALLOW_ALL_KINDS = parsePolicy(
  `clusterScoped: { allow: [${CLUSTER_SCOPED_KINDS.map((k) => k.kind).join(', ')}] }\n`,
);

/** The namespace a manifest may claim: none, an allowed one, a protected one, a denied one, any. */
const claimedNamespace = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('default', 'team-a', 'kube-system', 'kube-public', 'kube-node-lease', 'payments'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);

function clusterIntent(
  k: KindInfo,
  kind: string,
  verb: WriteVerb,
  objectNs: string | undefined,
  intentNs: string | undefined,
): WriteIntent {
  const metadata = { name: 'x', ...(objectNs === undefined ? {} : { namespace: objectNs }) };
  return {
    verb,
    cluster: 'dev',
    kind,
    apiVersion: k.apiVersion,
    namespaced: false,
    // A careless caller may pass a namespace for a cluster-scoped kind: it is ignored too.
    ...(intentNs === undefined ? {} : { namespace: intentNs }),
    name: 'x',
    ...(verb === 'delete' ? {} : { object: { apiVersion: k.apiVersion, kind, metadata } }),
  };
}

describe('scope is decided by discovery, never by metadata.namespace', () => {
  it('every cluster-scoped kind, whatever namespace it claims and however the kind is spelt, is judged cluster-scoped', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CLUSTER_SCOPED_KINDS),
        fc.nat(3),
        fc.constantFrom(...VERBS),
        claimedNamespace,
        claimedNamespace,
        (k, casing, verb, objectNs, intentNs) => {
          const kind = casings(k.kind)[casing] as string;
          const intent = clusterIntent(k, kind, verb, objectNs, intentNs);
          // Confined to namespaces: a cluster-scoped write is outside them, whatever it claims.
          const confined = evaluateWrite(intent, CONFINED);
          expect(confined.allowed).toBe(false);
          expect(scopeIds(confined)).toEqual(['scope/cluster-scoped']);
          expect(confined.findings[0]?.path).toBe('kind');
          // Default policy: the deny list refuses its kinds whatever namespace they claim.
          const denied = DEFAULT_CLUSTER_SCOPED_DENY.some((d) => d.toLowerCase() === kind.toLowerCase());
          expect(scopeIds(evaluateWrite(intent, defaultPolicy()))).toEqual(denied ? ['scope/cluster-scoped'] : []);
          // With the kind allowed by name, a claimed namespace never counts: not protected, not denied.
          const strict = parsePolicy(
            `namespaces: { allow: ['team-*'], deny: [payments, default] }\nclusterScoped: { allow: [${k.kind}] }\n`,
          );
          expect(scopeIds(evaluateWrite(intent, strict))).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it('names the ignored metadata.namespace in the message, so the caller sees why it did not confine the object', () => {
    const v = evaluateWrite(
      clusterIntent(CLUSTER_SCOPED_KINDS[1] as KindInfo, 'ClusterRoleBinding', 'apply', 'default', undefined),
      CONFINED,
    );
    expect(v.findings[0]?.message).toContain('metadata.namespace default does not confine it');
  });

  it('a cluster-scoped object is never exempt through a namespace it claims', () => {
    const p = parsePolicy(
      'exemptions: [{ rules: [cluster-access/node-volume], namespaces: [monitoring], reason: node exporter }]\n',
    );
    const hostPath = DANGEROUS_OBJECTS.find((d) => d.what === 'hostPath');
    if (!hostPath) throw new Error('fixture missing');
    const object = { ...hostPath.object, metadata: { name: 'x', namespace: 'monitoring' } };
    for (const namespace of [undefined, 'monitoring']) {
      const v = evaluateWrite(
        {
          verb: 'apply',
          cluster: 'dev',
          kind: 'PersistentVolume',
          apiVersion: 'v1',
          namespaced: false,
          ...(namespace ? { namespace } : {}),
          name: 'x',
          object,
        },
        p,
      );
      expect(ids(v)).toEqual(['cluster-access/node-volume']);
    }
  });

  it('namespaced kinds are judged by the namespace written to, and by the object namespace too when they differ', () => {
    const strict = parsePolicy(
      "protectedNamespaces: [kube-system]\nnamespaces: { allow: ['team-*', default], deny: [team-secret] }\n",
    );
    const expected = (ns: string) =>
      ns === 'kube-system'
        ? ['scope/protected-namespace', 'scope/namespace-not-allowed']
        : ns === 'team-secret' || !(ns === 'default' || ns.startsWith('team-'))
          ? ['scope/namespace-not-allowed']
          : [];
    const ns = fc.oneof(
      fc.constantFrom('default', 'team-a', 'team-secret', 'kube-system', 'payments'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMESPACED_KINDS),
        fc.nat(3),
        fc.constantFrom(...VERBS),
        ns,
        fc.option(ns, { nil: undefined }),
        (k, casing, verb, written, claimed) => {
          const kind = casings(k.kind)[casing] as string;
          const metadata = { name: 'x', ...(claimed === undefined ? {} : { namespace: claimed }) };
          const intent: WriteIntent = {
            verb,
            cluster: 'dev',
            kind,
            apiVersion: k.apiVersion,
            namespaced: true,
            namespace: written,
            name: 'x',
            ...(verb === 'delete' ? {} : { object: { apiVersion: k.apiVersion, kind, metadata } }),
          };
          const got = scopeIds(evaluateWrite(intent, strict));
          // Never judged as cluster-scoped, whatever the kind is called.
          expect(got).not.toContain('scope/cluster-scoped');
          const judged = [written, ...(claimed !== undefined && verb !== 'delete' ? [claimed] : [])];
          const want = new Set(judged.flatMap(expected));
          expect(new Set(got)).toEqual(want);
        },
      ),
      RUNS,
    );
  });

  it('a namespaced write with no namespace at all is refused: where it lands cannot be judged', () => {
    const v = evaluateWrite(
      { verb: 'apply', cluster: 'dev', kind: 'ConfigMap', apiVersion: 'v1', namespaced: true, name: 'c', object: {} },
      defaultPolicy(),
    );
    expect(v.allowed).toBe(false);
    expect(v.findings).toEqual([
      expect.objectContaining({ ruleId: 'scope/namespace-not-allowed', path: 'metadata.namespace' }),
    ]);
    expect(v.findings[0]?.fix).toContain('namespace');
  });

  it('only the core Namespace kind is judged by its name: a cluster-scoped CRD kind called Namespace is not', () => {
    const ns = (apiVersion: string, name: string): WriteIntent => ({
      verb: 'apply',
      cluster: 'dev',
      kind: 'Namespace',
      apiVersion,
      namespaced: false,
      name,
      object: { apiVersion, kind: 'Namespace', metadata: { name } },
    });
    expect(ids(evaluateWrite(ns('v1', 'team-a'), CONFINED))).toEqual([]);
    expect(ids(evaluateWrite(ns('v1', 'kube-system'), CONFINED))).toEqual([
      'scope/protected-namespace',
      'scope/namespace-not-allowed',
    ]);
    // Another group's "Namespace" is just a cluster-scoped kind.
    expect(ids(evaluateWrite(ns('example.com/v1', 'team-a'), CONFINED))).toEqual(['scope/cluster-scoped']);
    // And a namespaced kind that happens to be called Namespace is judged by its namespace.
    const namespacedNs: WriteIntent = { ...ns('example.com/v1', 'kube-system'), namespaced: true, namespace: 'team-a' };
    expect(ids(evaluateWrite(namespacedNs, CONFINED))).toEqual([]);
  });

  it('read-only and delete-count rules hold for cluster-scoped writes whatever namespace they claim', () => {
    const ro = parsePolicy('readOnly: true\n');
    const k = CLUSTER_SCOPED_KINDS.find((c) => c.kind === 'StorageClass') as KindInfo;
    for (const objectNs of [undefined, 'default']) {
      expect(ids(evaluateWrite(clusterIntent(k, k.kind, 'apply', objectNs, undefined), ro))).toEqual([
        'scope/read-only',
      ]);
      const del = { ...clusterIntent(k, k.kind, 'delete', objectNs, objectNs), count: 21 };
      expect(ids(evaluateWrite(del, defaultPolicy()))).toEqual(['scope/delete-count']);
    }
    // The read-only message does not pretend the object is in the namespace it claims.
    const msg = evaluateWrite(clusterIntent(k, k.kind, 'apply', 'default', 'default'), ro).findings[0]?.message;
    expect(msg).toBe('cluster dev is read-only under the guardrail policy, so apply StorageClass/x is not allowed');
  });
});

describe('cluster-access rules', () => {
  const intentFor = (c: { kind: string; apiVersion: string; namespaced: boolean; object: Record<string, unknown> }) =>
    ({
      verb: 'apply',
      cluster: 'dev',
      kind: c.kind,
      apiVersion: c.apiVersion,
      namespaced: c.namespaced,
      ...(c.namespaced ? { namespace: 'default' } : {}),
      name: 'x',
      object: c.object,
    }) satisfies WriteIntent;

  it('each rule in the catalogue has at least one dangerous case in the table', () => {
    const covered = new Set(DANGEROUS_OBJECTS.map((d) => d.rule));
    expect([...covered].sort()).toEqual(RULE_IDS.filter((id) => id.startsWith('cluster-access/')).sort());
  });

  for (const d of DANGEROUS_OBJECTS) {
    it(`${d.rule}: refuses ${d.kind} (${d.what}) at ${d.path}, naming the field and a fix`, () => {
      const v = evaluateWrite(intentFor(d), ALLOW_ALL_KINDS);
      expect(v.allowed).toBe(false);
      const mine = v.findings.filter((f) => f.ruleId === d.rule);
      expect(mine.map((f) => f.path)).toContain(d.path);
      for (const f of mine) {
        expect(f.mode).toBe('enforce');
        if (f.path !== 'kind') expect(f.message).toContain(f.path.split('[')[0]);
        expect(f.fix.length).toBeGreaterThan(20);
        expect(f.fix).toContain(d.rule);
      }
      // No other rule is needed to refuse it.
      expect(v.findings.every((f) => f.ruleId === d.rule)).toBe(true);
    });
  }

  it('passes the safe twin of each kind', () => {
    for (const s of SAFE_OBJECTS) {
      const v = evaluateWrite(intentFor(s), ALLOW_ALL_KINDS);
      expect(v, `${s.kind} ${JSON.stringify(s.object)}`).toEqual({ allowed: true, findings: [] });
    }
  });

  it('recognises the kind in any casing, and only in its own API group', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DANGEROUS_OBJECTS), fc.nat(3), (d, casing) => {
        const kind = casings(d.kind)[casing] as string;
        const odd = evaluateWrite({ ...intentFor(d), kind }, ALLOW_ALL_KINDS);
        expect(odd.findings.map((f) => [f.ruleId, f.path])).toContainEqual([d.rule, d.path]);
        // The same kind name in a CRD group is a different kind: no cluster-access finding.
        const other = {
          ...intentFor(d),
          kind,
          apiVersion: 'example.com/v1',
          object: { ...d.object, apiVersion: 'example.com/v1' },
        };
        expect(ids(evaluateWrite(other, ALLOW_ALL_KINDS)).filter((id) => id.startsWith('cluster-access/'))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('each rule can be set to audit or switched off in the policy file', () => {
    for (const d of DANGEROUS_OBJECTS) {
      const base = `clusterScoped: { allow: [${CLUSTER_SCOPED_KINDS.map((k) => k.kind).join(', ')}] }\n`;
      const audit = evaluateWrite(intentFor(d), parsePolicy(`${base}rules: { ${d.rule}: { mode: audit } }\n`));
      expect(audit.allowed).toBe(true);
      expect(audit.findings.length).toBeGreaterThan(0);
      expect(audit.findings.every((f) => f.ruleId === d.rule && f.mode === 'audit')).toBe(true);
      expect(formatVerdict(audit)).toContain(`[audit] ${d.rule}`);
      const off = evaluateWrite(intentFor(d), parsePolicy(`${base}rules: { ${d.rule}: { enabled: false } }\n`));
      expect(off).toEqual({ allowed: true, findings: [] });
    }
  });

  it('namespaced RBAC may be exempted per namespace, with a reason; only there', () => {
    const p = parsePolicy(
      'exemptions: [{ rules: [cluster-access/rbac-role], namespaces: [platform-*], reason: platform team manages RBAC }]\n',
    );
    const escalate = DANGEROUS_OBJECTS.find((d) => d.rule === 'cluster-access/rbac-role' && d.namespaced);
    if (!escalate) throw new Error('fixture missing');
    const at = (namespace: string) => evaluateWrite({ ...intentFor(escalate), namespace }, p);
    expect(at('platform-rbac').allowed).toBe(true);
    expect(ids(at('team-a'))).toEqual(['cluster-access/rbac-role']);
  });

  it('the default policy refuses a cluster-admin ClusterRoleBinding by scope before the object rules are listed', () => {
    const d = DANGEROUS_OBJECTS.find((x) => x.what === 'cluster-admin cluster-wide');
    if (!d) throw new Error('fixture missing');
    expect(ids(evaluateWrite(intentFor(d), defaultPolicy()))).toEqual(['scope/cluster-scoped']);
    // Let past the deny list, its own rule still refuses it.
    const allowed = parsePolicy('clusterScoped: { allow: [ClusterRoleBinding] }\n');
    expect(ids(evaluateWrite(intentFor(d), allowed))).toEqual(['cluster-access/rbac-binding']);
  });

  it('judges the server dry-run result of a patch, and never a delete', () => {
    const d = DANGEROUS_OBJECTS.find(
      (x) => x.rule === 'cluster-access/priority-class',
    ) as (typeof DANGEROUS_OBJECTS)[0];
    expect(ids(evaluateWrite({ ...intentFor(d), verb: 'patch' }, ALLOW_ALL_KINDS))).toEqual([d.rule]);
    const { object: _o, ...noObject } = intentFor(d);
    expect(evaluateWrite({ ...noObject, verb: 'delete' }, ALLOW_ALL_KINDS)).toEqual({ allowed: true, findings: [] });
    expect(evaluateWrite({ ...intentFor(d), verb: 'delete' }, ALLOW_ALL_KINDS)).toEqual({
      allowed: true,
      findings: [],
    });
  });

  it('arbitrary objects of the covered kinds never crash the rules', () => {
    const kinds = [...new Set(DANGEROUS_OBJECTS.map((d) => `${d.apiVersion}|${d.kind}|${d.namespaced}`))];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.jsonValue({ maxDepth: 4 }), (key, junk) => {
        const [apiVersion, kind, namespaced] = key.split('|') as [string, string, string];
        const object = {
          ...(typeof junk === 'object' && junk !== null && !Array.isArray(junk) ? junk : { junk }),
          apiVersion,
          kind,
        };
        const intent: WriteIntent = {
          verb: 'apply',
          cluster: 'dev',
          kind,
          apiVersion,
          namespaced: namespaced === 'true',
          ...(namespaced === 'true' ? { namespace: 'default' } : {}),
          name: 'x',
          object: object as Record<string, unknown>,
        };
        const v = evaluateWrite(intent, ALLOW_ALL_KINDS as Policy);
        for (const f of v.findings) expect(typeof f.message).toBe('string');
      }),
      RUNS,
    );
  });
});
