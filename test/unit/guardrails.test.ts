import { describe, expect, it } from 'vitest';
import { defaultCostPolicy } from '../../shared/domain/cost/policy.ts';
import { defaultCloudPolicy } from '../../shared/domain/guardrails/cloud.ts';
import {
  DEFAULT_CLUSTER_SCOPED_DENY,
  defaultPolicy,
  describeRules,
  evaluateWrite,
  type Finding,
  formatVerdict,
  type Policy,
  PolicyError,
  parsePolicy,
  RULE_IDS,
  type Verdict,
  type WriteIntent,
} from '../../shared/domain/guardrails/index.ts';

const EXAMPLE_POLICY = `mode: enforce
podSecurity: restricted
readOnly: false
protectedNamespaces: [kube-system, kube-public, kube-node-lease, istio-system]
namespaces: { allow: ['team-*', default], deny: ['team-secret'] }
clusterScoped: { allow: [CustomResourceDefinition] }
maxDeleteCount: 10
rules:
  images/pinned: { mode: audit }
  resources/requests-limits: { enabled: false }
exemptions:
  - rules: [pss-baseline/host-path]
    namespaces: [monitoring]
    reason: node-exporter reads /proc and /sys
clusters:
  prod: { readOnly: true }
`;

/** A container that passes every rule, restricted level included. */
const goodContainer = (name = 'app', image = 'registry.example.com/app:1.4.2') => ({
  name,
  image,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
});

const goodPodSpec = () => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [goodContainer()],
});

const podObject = (namespace: string, spec: Record<string, unknown> = goodPodSpec()) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace },
  spec,
});

const privilegedSpec = () => ({
  ...goodPodSpec(),
  containers: [{ ...goodContainer(), securityContext: { ...goodContainer().securityContext, privileged: true } }],
});

const applyPod = (namespace: string, spec?: Record<string, unknown>, cluster = 'dev'): WriteIntent => ({
  verb: 'apply',
  cluster,
  kind: 'Pod',
  apiVersion: 'v1',
  namespaced: true,
  namespace,
  name: 'p',
  object: podObject(namespace, spec),
});

const policy = (yaml = ''): Policy => parsePolicy(yaml);
const ruleIds = (v: Verdict) => v.findings.map((f) => f.ruleId);
const parseError = (yaml: string): PolicyError => {
  try {
    parsePolicy(yaml);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
};

describe('parsePolicy', () => {
  it('parses the documented example policy with every field as written', () => {
    expect(parsePolicy(EXAMPLE_POLICY)).toEqual({
      mode: 'enforce',
      podSecurity: 'restricted',
      readOnly: false,
      protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'istio-system'],
      namespaces: { allow: ['team-*', 'default'], deny: ['team-secret'] },
      clusterScoped: { allow: ['CustomResourceDefinition'], deny: [...DEFAULT_CLUSTER_SCOPED_DENY] },
      maxDeleteCount: 10,
      rules: { 'images/pinned': { mode: 'audit' }, 'resources/requests-limits': { enabled: false } },
      exemptions: [
        { rules: ['pss-baseline/host-path'], namespaces: ['monitoring'], reason: 'node-exporter reads /proc and /sys' },
      ],
      clusters: { prod: { readOnly: true } },
      approvals: { rolloutNamespaces: ['prod*'], rolloutClusters: [], ttlSeconds: 3600 },
      drift: { controllerFields: true, ignoreDifferences: [] },
      cloud: defaultCloudPolicy(),
      cost: defaultCostPolicy(),
    });
  });

  it('the example policy behaves as it reads', () => {
    const p = parsePolicy(EXAMPLE_POLICY);
    // prod is read-only whatever the object.
    const prod = evaluateWrite(applyPod('team-a', goodPodSpec(), 'prod'), p);
    expect(prod.allowed).toBe(false);
    expect(ruleIds(prod)).toEqual(['scope/read-only']);
    // Elsewhere a compliant pod in an allowed namespace passes, restricted level included.
    expect(evaluateWrite(applyPod('team-a', goodPodSpec(), 'staging'), p)).toEqual({ allowed: true, findings: [] });
    // Denied and protected namespaces are refused.
    expect(ruleIds(evaluateWrite(applyPod('team-secret'), p))).toEqual(['scope/namespace-not-allowed']);
    expect(ruleIds(evaluateWrite(applyPod('istio-system'), p))).toContain('scope/protected-namespace');
    // images/pinned only audits; resources/requests-limits is off.
    const spec = { ...goodPodSpec(), containers: [{ ...goodContainer('app', 'nginx:latest'), resources: {} }] };
    const loose = evaluateWrite(applyPod('default', spec), p);
    expect(loose.allowed).toBe(true);
    expect(loose.findings.map((f) => [f.ruleId, f.mode])).toEqual([['images/pinned', 'audit']]);
    // Restricted is on: a pod without runAsNonRoot is refused.
    const rootish = { ...goodPodSpec(), securityContext: { seccompProfile: { type: 'RuntimeDefault' } } };
    expect(ruleIds(evaluateWrite(applyPod('default', rootish), p))).toEqual(['pss-restricted/run-as-non-root']);
    // The delete limit is 10.
    const del = (count: number) =>
      evaluateWrite({ verb: 'delete', cluster: 'dev', kind: 'Pod', namespaced: true, namespace: 'team-a', count }, p);
    expect(del(10).allowed).toBe(true);
    expect(ruleIds(del(11))).toEqual(['scope/delete-count']);
  });

  it('an empty or comment-only document is the default policy', () => {
    expect(parsePolicy('')).toEqual(defaultPolicy());
    expect(parsePolicy('# nothing set yet\n')).toEqual(defaultPolicy());
    expect(defaultPolicy()).toMatchObject({
      mode: 'enforce',
      podSecurity: 'baseline',
      readOnly: false,
      protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
      namespaces: { allow: [], deny: [] },
      maxDeleteCount: 20,
    });
  });

  it('fills defaults around the fields a policy sets', () => {
    const p = parsePolicy('mode: audit\nnamespaces: { deny: [scratch] }\n');
    expect(p.mode).toBe('audit');
    expect(p.namespaces).toEqual({ allow: [], deny: ['scratch'] });
    expect(p.protectedNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease']);
    expect(p.maxDeleteCount).toBe(20);
  });

  it('hands out independent defaults, so one caller mutating its policy cannot change another', () => {
    const a = defaultPolicy();
    a.protectedNamespaces.push('mine');
    a.namespaces.allow.push('x');
    expect(defaultPolicy().protectedNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease']);
    const b = parsePolicy('');
    b.protectedNamespaces.push('mine');
    expect(parsePolicy('').protectedNamespaces).not.toContain('mine');
  });

  it.each([
    ['a misspelt top-level key', 'readonly: true\n', 'readonly: unknown key'],
    ['an unknown key in namespaces', 'namespaces: { allowed: [team-a] }\n', 'namespaces.allowed: unknown key'],
    [
      'an unknown key in a cluster override',
      'clusters:\n  prod: { readonly: true }\n',
      'clusters.prod.readonly: unknown key',
    ],
    [
      'an unknown key in a rule setting',
      'rules:\n  images/pinned: { level: audit }\n',
      'rules["images/pinned"].level: unknown key',
    ],
    [
      'an unknown key in an exemption',
      'exemptions:\n  - { rules: [images/pinned], namespaces: [a], reason: r, until: x }\n',
      'exemptions[0].until: unknown key',
    ],
    ['a bad global mode', 'mode: warn\n', 'mode: Invalid option: expected one of "enforce"|"audit"'],
    ['a bad rule mode', 'rules:\n  images/pinned: { mode: block }\n', 'rules["images/pinned"].mode: Invalid option'],
    ['a bad podSecurity level', 'podSecurity: privileged\n', 'podSecurity: Invalid option'],
    ['a negative maxDeleteCount', 'maxDeleteCount: -1\n', 'maxDeleteCount:'],
    ['a fractional maxDeleteCount', 'maxDeleteCount: 2.5\n', 'maxDeleteCount:'],
    ['a string where a boolean belongs', 'readOnly: "yes"\n', 'readOnly:'],
    [
      'an uppercase namespace glob',
      "namespaces: { allow: ['Team-*'] }\n",
      'namespaces.allow[0]: must be a lowercase name or glob',
    ],
    [
      'a cluster override with a bad level',
      'clusters:\n  prod: { podSecurity: strict }\n',
      'clusters.prod.podSecurity: Invalid option',
    ],
    ['a top-level list', '- mode: enforce\n', '(policy): Invalid input: expected object'],
  ])('rejects %s, naming the field path', (_label, yaml, expected) => {
    const err = parseError(yaml);
    expect(err.name).toBe('PolicyError');
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(expected);
  });

  it('rejects unknown rule ids in rules, suggesting the likely one', () => {
    const err = parseError('rules:\n  images/pinnned: { mode: audit }\n');
    expect(err.message).toContain(
      'rules["images/pinnned"]: unknown rule id "images/pinnned"; did you mean images/pinned?',
    );
    const far = parseError('rules:\n  no-such-rule: { enabled: false }\n');
    expect(far.message).toContain('rules.no-such-rule: unknown rule id "no-such-rule"; known ids: scope/read-only,');
  });

  it('rejects unknown rule ids in exemptions, naming the list index', () => {
    const err = parseError(
      'exemptions:\n  - rules: [images/pinned, pss-baseline/hostpath]\n    namespaces: [dev-*]\n    reason: dev\n',
    );
    expect(err.message).toContain(
      'exemptions[0].rules[1]: unknown rule id "pss-baseline/hostpath"; did you mean pss-baseline/host-path?',
    );
  });

  it('requires a reason for every exemption', () => {
    expect(parseError('exemptions:\n  - { rules: [images/pinned], namespaces: [dev-*] }\n').message).toContain(
      'exemptions[0].reason: required',
    );
    expect(
      parseError("exemptions:\n  - { rules: [images/pinned], namespaces: [dev-*], reason: '  ' }\n").message,
    ).toContain('exemptions[0].reason: required');
    expect(parseError('exemptions:\n  - { rules: [], namespaces: [dev-*], reason: r }\n').message).toContain(
      'exemptions[0].rules: name at least one rule',
    );
    expect(parseError('exemptions:\n  - { rules: [images/pinned], namespaces: [], reason: r }\n').message).toContain(
      'exemptions[0].namespaces: name at least one namespace',
    );
  });

  it('refuses to exempt scope rules per namespace', () => {
    const err = parseError(
      'exemptions:\n  - { rules: [images/pinned, scope/protected-namespace], namespaces: [a], reason: r }\n',
    );
    expect(err.message).toContain('exemptions[0].rules[1]: scope/protected-namespace cannot be exempted per namespace');
  });

  it('reports every problem at once, one issue per line', () => {
    const err = parseError('mode: warn\nbogus: 1\nrules:\n  images/pinnned: {}\n');
    expect(err.issues).toHaveLength(3);
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mode: /),
        'bogus: unknown key',
        expect.stringMatching(/^rules\["images\/pinnned"\]: unknown rule id/),
      ]),
    );
    expect(err.message.split('\n')).toHaveLength(4);
  });

  it('rejects YAML that does not parse, and duplicate keys', () => {
    const syntax = parseError('mode: [enforce\n');
    expect(syntax.message).toMatch(/\(yaml\): /);
    expect(syntax.cause).toBeDefined();
    expect(parseError('mode: enforce\nmode: audit\n').message).toContain('(yaml): Map keys must be unique');
  });
});

describe('scope rules', () => {
  const base = defaultPolicy();

  it('a read-only policy refuses every verb, says so once, and skips the object rules', () => {
    const p = policy('readOnly: true\n');
    for (const verb of ['create', 'apply', 'patch', 'replace', 'scale', 'delete', 'restart', 'undo'] as const) {
      const v = evaluateWrite({ ...applyPod('default', privilegedSpec()), verb }, p);
      expect(v.allowed).toBe(false);
      expect(v.findings).toEqual([expect.objectContaining({ ruleId: 'scope/read-only', mode: 'enforce', path: '' })]);
    }
    expect(evaluateWrite(applyPod('default'), base).allowed).toBe(true);
  });

  it('protects kube-system, kube-public and kube-node-lease by default, at metadata.namespace', () => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) {
      const v = evaluateWrite(applyPod(ns), base);
      expect(v.allowed).toBe(false);
      expect(v.findings).toEqual([
        expect.objectContaining({ ruleId: 'scope/protected-namespace', path: 'metadata.namespace' }),
      ]);
      expect(v.findings[0]?.message).toContain(`namespace ${ns} is protected`);
    }
    expect(evaluateWrite(applyPod('kube-systemx'), base).allowed).toBe(true);
  });

  it('protects the Namespace objects themselves, at metadata.name, including their deletion', () => {
    const ns = (verb: WriteIntent['verb'], name: string): WriteIntent => ({
      verb,
      cluster: 'dev',
      kind: 'Namespace',
      apiVersion: 'v1',
      namespaced: false,
      name,
      ...(verb === 'delete' ? {} : { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }),
    });
    const del = evaluateWrite(ns('delete', 'kube-public'), base);
    expect(del.allowed).toBe(false);
    expect(del.findings).toEqual([
      expect.objectContaining({ ruleId: 'scope/protected-namespace', path: 'metadata.name' }),
    ]);
    expect(del.findings[0]?.message).toContain('its Namespace object cannot be changed');
    expect(evaluateWrite(ns('patch', 'kube-system'), base).allowed).toBe(false);
    expect(evaluateWrite(ns('apply', 'team-a'), base).allowed).toBe(true);
    // The name may come from the object alone.
    const fromObject: WriteIntent = {
      verb: 'apply',
      cluster: 'dev',
      kind: 'Namespace',
      namespaced: false,
      object: { metadata: { name: 'kube-system' } },
    };
    expect(ruleIds(evaluateWrite(fromObject, base))).toEqual(['scope/protected-namespace']);
  });

  it('takes the namespace from the object when the intent leaves it out, and checks both when they differ', () => {
    const { namespace: _ns, ...noNamespace } = applyPod('kube-system');
    expect(ruleIds(evaluateWrite(noNamespace, base))).toEqual(['scope/protected-namespace']);
    const mismatch: WriteIntent = { ...applyPod('team-a'), object: podObject('kube-system') };
    expect(ruleIds(evaluateWrite(mismatch, base))).toEqual(['scope/protected-namespace']);
  });

  it('protectedNamespaces accepts globs and a policy list replaces the default one', () => {
    const p = policy('protectedNamespaces: [infra-*]\n');
    expect(ruleIds(evaluateWrite(applyPod('infra-dns'), p))).toEqual(['scope/protected-namespace']);
    expect(evaluateWrite(applyPod('infra-dns'), p).findings[0]?.message).toContain('protected (matches infra-*)');
    expect(evaluateWrite(applyPod('kube-system'), p).allowed).toBe(true);
  });

  it('allows only namespaces matching namespaces.allow globs, and deny wins over allow', () => {
    const p = policy("namespaces: { allow: ['team-*', default, 'ci-??'], deny: ['team-secret'] }\n");
    expect(evaluateWrite(applyPod('team-a'), p).allowed).toBe(true);
    expect(evaluateWrite(applyPod('team-'), p).allowed).toBe(true); // `*` matches an empty run
    expect(evaluateWrite(applyPod('default'), p).allowed).toBe(true);
    expect(evaluateWrite(applyPod('ci-42'), p).allowed).toBe(true);
    expect(evaluateWrite(applyPod('ci-420'), p).allowed).toBe(false); // `?` is exactly one character
    const other = evaluateWrite(applyPod('payments'), p);
    expect(other.findings).toEqual([
      expect.objectContaining({ ruleId: 'scope/namespace-not-allowed', path: 'metadata.namespace', mode: 'enforce' }),
    ]);
    expect(other.findings[0]?.message).toBe(
      'namespace payments does not match namespaces.allow (team-*, default, ci-??)',
    );
    const prefixed = evaluateWrite(applyPod('myteam-a'), p);
    expect(prefixed.allowed).toBe(false); // globs match the whole name
    const denied = evaluateWrite(applyPod('team-secret'), p);
    expect(denied.allowed).toBe(false);
    expect(denied.findings[0]?.message).toBe('namespace team-secret matches namespaces.deny pattern team-secret');
  });

  it('applies deny on its own, with no allow list', () => {
    const p = policy("namespaces: { deny: ['prod-*'] }\n");
    expect(evaluateWrite(applyPod('prod-eu'), p).allowed).toBe(false);
    expect(evaluateWrite(applyPod('anything-else'), p).allowed).toBe(true);
  });

  it('judges a Namespace object by its own name against allow/deny', () => {
    const p = policy("namespaces: { allow: ['team-*'] }\n");
    const create = (name: string): WriteIntent => ({
      verb: 'create',
      cluster: 'dev',
      kind: 'Namespace',
      namespaced: false,
      name,
      object: { metadata: { name } },
    });
    expect(evaluateWrite(create('team-b'), p).allowed).toBe(true);
    expect(evaluateWrite(create('sandbox'), p).findings).toEqual([
      expect.objectContaining({ ruleId: 'scope/namespace-not-allowed', path: 'metadata.name' }),
    ]);
  });

  it('cluster-scoped kinds: RBAC and admission control refused by default; confined policies refuse the rest', () => {
    const write = (kind: string, name: string, extra: Partial<WriteIntent> = {}): WriteIntent => ({
      verb: 'apply',
      cluster: 'dev',
      kind,
      namespaced: false,
      name,
      object: { kind, metadata: { name } },
      ...extra,
    });
    const ids = (intent: WriteIntent, p: Policy) => evaluateWrite(intent, p).findings.map((f) => f.ruleId);
    const open = policy('');
    // Default deny list: privilege over the whole cluster.
    for (const kind of ['ClusterRoleBinding', 'ClusterRole', 'MutatingWebhookConfiguration', 'clusterrolebinding']) {
      const v = evaluateWrite(write(kind, 'x'), open);
      expect(v.allowed, kind).toBe(false);
      expect(v.findings[0]).toMatchObject({ ruleId: 'scope/cluster-scoped', path: 'kind' });
      expect(v.findings[0]?.fix).toContain('clusterScoped.allow');
    }
    expect(evaluateWrite({ ...write('ClusterRoleBinding', 'x'), verb: 'delete' }, open).allowed).toBe(false);
    // Other cluster-scoped kinds are fine while writes are not confined to namespaces...
    expect(evaluateWrite(write('StorageClass', 'fast'), open)).toEqual({ allowed: true, findings: [] });
    // ...and refused once namespaces.allow confines them, unless the kind is allowed by name.
    const confined = policy("namespaces: { allow: ['team-*'] }\n");
    expect(ids(write('StorageClass', 'fast'), confined)).toEqual(['scope/cluster-scoped']);
    expect(evaluateWrite({ ...write('Node', 'n1'), verb: 'delete' }, confined).allowed).toBe(false);
    const allowed = policy(
      "namespaces: { allow: ['team-*'] }\nclusterScoped: { allow: [StorageClass, ClusterRole] }\n",
    );
    expect(evaluateWrite(write('StorageClass', 'fast'), allowed).allowed).toBe(true);
    expect(evaluateWrite(write('ClusterRole', 'reader'), allowed).allowed).toBe(true);
    // Namespaced objects and Namespace objects are judged by the namespace rules, not this one.
    expect(ids(write('Role', 'r', { namespaced: true, namespace: 'team-a' }), confined)).toEqual([]);
    expect(ids(write('Namespace', 'team-b'), confined)).toEqual([]);
    expect(() => policy('clusterScoped: { deny: [cluster-role] }\n')).toThrow(
      /clusterScoped\.deny\[0\]: must be a kind/,
    );
  });

  it('caps how many objects one delete may remove (default 20)', () => {
    const del = (count: number | undefined, p: Policy = base): Verdict =>
      evaluateWrite(
        {
          verb: 'delete',
          cluster: 'dev',
          kind: 'Pod',
          namespaced: true,
          namespace: 'default',
          ...(count === undefined ? {} : { count }),
        },
        p,
      );
    expect(del(20).allowed).toBe(true);
    expect(del(undefined).allowed).toBe(true);
    const big = del(21);
    expect(big.allowed).toBe(false);
    expect(big.findings).toEqual([
      {
        ruleId: 'scope/delete-count',
        mode: 'enforce',
        path: '',
        message: 'this delete would remove 21 objects; the policy allows at most 20 in one call',
        fix: 'narrow the selector so it matches at most 20 objects, or ask an operator to raise maxDeleteCount',
      },
    ]);
    expect(del(1, policy('maxDeleteCount: 0\n')).allowed).toBe(false);
    // The count only limits deletes.
    expect(evaluateWrite({ ...applyPod('default'), count: 500 }, base).allowed).toBe(true);
  });

  it('never runs object rules on a delete: deleting a non-compliant object is fine', () => {
    const v = evaluateWrite({ ...applyPod('default', privilegedSpec()), verb: 'delete' }, base);
    expect(v).toEqual({ allowed: true, findings: [] });
  });

  it('with no object, runs only the scope rules', () => {
    const { object: _o, ...noObject } = applyPod('default', privilegedSpec());
    expect(evaluateWrite({ ...noObject, verb: 'patch' }, base)).toEqual({ allowed: true, findings: [] });
  });
});

describe('per-cluster overrides', () => {
  const p = policy(`protectedNamespaces: [kube-system]
namespaces: { allow: ['team-*'], deny: [team-secret] }
clusters:
  prod: { readOnly: true }
  staging:
    protectedNamespaces: [kube-system, istio-system]
    namespaces: { allow: ['*'] }
    podSecurity: restricted
    maxDeleteCount: 2
  lab: { mode: audit }
`);

  it('readOnly applies only to the cluster that sets it', () => {
    expect(ruleIds(evaluateWrite(applyPod('team-a', goodPodSpec(), 'prod'), p))).toEqual(['scope/read-only']);
    expect(evaluateWrite(applyPod('team-a', goodPodSpec(), 'dev'), p).allowed).toBe(true);
  });

  it('an override replaces the fields it sets and keeps the others', () => {
    // staging protects istio-system; dev does not.
    expect(ruleIds(evaluateWrite(applyPod('istio-system', goodPodSpec(), 'staging'), p))).toEqual([
      'scope/protected-namespace',
    ]);
    expect(ruleIds(evaluateWrite(applyPod('istio-system', goodPodSpec(), 'dev'), p))).toEqual([
      'scope/namespace-not-allowed',
    ]);
    // staging replaces allow but keeps the top-level deny.
    expect(evaluateWrite(applyPod('payments', goodPodSpec(), 'staging'), p).allowed).toBe(true);
    expect(ruleIds(evaluateWrite(applyPod('team-secret', goodPodSpec(), 'staging'), p))).toEqual([
      'scope/namespace-not-allowed',
    ]);
    // staging turns on the restricted level and a lower delete cap.
    const rootish = { ...goodPodSpec(), securityContext: {} };
    expect(evaluateWrite(applyPod('team-a', rootish, 'dev'), p).allowed).toBe(true);
    expect(ruleIds(evaluateWrite(applyPod('team-a', rootish, 'staging'), p))).toEqual([
      'pss-restricted/run-as-non-root',
      'pss-restricted/seccomp',
    ]);
    const del = (cluster: string) =>
      evaluateWrite({ verb: 'delete', cluster, kind: 'Pod', namespaced: true, namespace: 'team-a', count: 3 }, p);
    expect(del('staging').allowed).toBe(false);
    expect(del('dev').allowed).toBe(true);
  });

  it('a cluster mode of audit lets writes through with the findings marked audit', () => {
    const v = evaluateWrite(applyPod('team-a', privilegedSpec(), 'lab'), p);
    expect(v.allowed).toBe(true);
    expect(v.findings).toEqual([expect.objectContaining({ ruleId: 'pss-baseline/privileged', mode: 'audit' })]);
    expect(evaluateWrite(applyPod('team-a', privilegedSpec(), 'dev'), p).allowed).toBe(false);
  });

  it('a cluster called like an Object.prototype key is just an unknown cluster', () => {
    expect(evaluateWrite(applyPod('team-a', goodPodSpec(), 'constructor'), p).allowed).toBe(true);
  });
});

describe('modes', () => {
  it('a global audit mode reports every finding and blocks nothing', () => {
    const v = evaluateWrite(applyPod('kube-system', privilegedSpec()), policy('mode: audit\n'));
    expect(v.allowed).toBe(true);
    // An audited scope finding does not stop the object rules from running.
    expect(v.findings.map((f) => [f.ruleId, f.mode])).toEqual([
      ['scope/protected-namespace', 'audit'],
      ['pss-baseline/privileged', 'audit'],
    ]);
  });

  it('a rule mode overrides the global mode both ways', () => {
    const auditOne = evaluateWrite(
      applyPod('default', privilegedSpec()),
      policy('rules:\n  pss-baseline/privileged: { mode: audit }\n'),
    );
    expect(auditOne.allowed).toBe(true);
    expect(auditOne.findings[0]?.mode).toBe('audit');
    const enforceOne = policy('mode: audit\nrules:\n  pss-baseline/privileged: { mode: enforce }\n');
    const v = evaluateWrite(applyPod('default', privilegedSpec()), enforceOne);
    expect(v.allowed).toBe(false);
    expect(v.findings[0]?.mode).toBe('enforce');
  });

  it('enabled: false switches a rule off entirely', () => {
    const p = policy(
      'rules:\n  pss-baseline/privileged: { enabled: false }\n  scope/protected-namespace: { enabled: false }\n',
    );
    expect(evaluateWrite(applyPod('kube-system', privilegedSpec()), p)).toEqual({ allowed: true, findings: [] });
  });

  it('enabled: true switches on one restricted rule at the baseline level', () => {
    const p = policy('rules:\n  pss-restricted/run-as-user: { enabled: true }\n');
    const spec = { containers: [{ ...goodContainer(), securityContext: { runAsUser: 0 } }] };
    expect(ruleIds(evaluateWrite(applyPod('default', spec), p))).toEqual(['pss-restricted/run-as-user']);
    expect(evaluateWrite(applyPod('default', spec), defaultPolicy()).allowed).toBe(true);
  });
});

describe('exemptions', () => {
  const hostPathSpec = () => ({ ...goodPodSpec(), volumes: [{ name: 'proc', hostPath: { path: '/proc' } }] });
  const p = policy(`exemptions:
  - rules: [pss-baseline/host-path]
    namespaces: [monitoring]
    reason: node-exporter reads /proc and /sys
  - rules: [images/pinned, resources/requests-limits]
    namespaces: ['dev-*']
    clusters: [lab]
    reason: scratch workloads on the lab cluster
`);

  it('switch off the named rules in the named namespaces only', () => {
    expect(evaluateWrite(applyPod('monitoring', hostPathSpec()), p)).toEqual({ allowed: true, findings: [] });
    expect(ruleIds(evaluateWrite(applyPod('default', hostPathSpec()), p))).toEqual(['pss-baseline/host-path']);
  });

  it('leave every other rule on in an exempt namespace', () => {
    const spec = { ...privilegedSpec(), volumes: [{ name: 'proc', hostPath: { path: '/proc' } }] };
    expect(ruleIds(evaluateWrite(applyPod('monitoring', spec), p))).toEqual(['pss-baseline/privileged']);
  });

  it('match namespace globs and, when given, cluster names', () => {
    const spec = { containers: [{ name: 'app', image: 'nginx' }] };
    expect(evaluateWrite(applyPod('dev-alice', spec, 'lab'), p)).toEqual({ allowed: true, findings: [] });
    expect(ruleIds(evaluateWrite(applyPod('dev-alice', spec, 'prod'), p))).toEqual([
      'resources/requests-limits',
      'images/pinned',
    ]);
    expect(ruleIds(evaluateWrite(applyPod('qa-bob', spec, 'lab'), p))).toEqual([
      'resources/requests-limits',
      'images/pinned',
    ]);
  });
});

describe('formatVerdict', () => {
  const privileged: Finding = {
    ruleId: 'pss-baseline/privileged',
    mode: 'enforce',
    path: 'spec.containers[0].securityContext.privileged',
    message: 'container "app" runs privileged, with full access to the node',
    fix: 'remove securityContext.privileged or set it to false',
  };
  const latest: Finding = {
    ruleId: 'images/pinned',
    mode: 'audit',
    path: 'spec.containers[0].image',
    message: 'container "app" uses image nginx:latest, and latest moves.',
    fix: 'use a specific version tag or a digest, e.g. nginx:<version> or nginx@sha256:<digest>',
  };

  it('a refusal: the outcome first, then enforced findings before audit ones, one line each', () => {
    expect(formatVerdict({ allowed: false, findings: [latest, privileged] })).toBe(
      [
        'refused by guardrails: 1 enforced finding, 1 audit-only finding; fix the enforced ones and retry',
        '[enforce] pss-baseline/privileged at spec.containers[0].securityContext.privileged: container "app" runs privileged, with full access to the node. Fix: remove securityContext.privileged or set it to false',
        '[audit] images/pinned at spec.containers[0].image: container "app" uses image nginx:latest, and latest moves. Fix: use a specific version tag or a digest, e.g. nginx:<version> or nginx@sha256:<digest>',
      ].join('\n'),
    );
  });

  it('allowed with findings, and allowed clean', () => {
    const text = formatVerdict({ allowed: true, findings: [latest, latest] });
    expect(text.split('\n')[0]).toBe('allowed with findings: 2 audit-only findings, not enforced');
    expect(text.split('\n')).toHaveLength(3);
    expect(formatVerdict({ allowed: true, findings: [] })).toBe('allowed: no guardrail findings');
  });

  it('leaves out "at" for findings about the write as a whole', () => {
    const v = evaluateWrite(
      { verb: 'delete', cluster: 'dev', kind: 'Pod', namespaced: true, namespace: 'default', count: 99 },
      defaultPolicy(),
    );
    expect(formatVerdict(v).split('\n')).toEqual([
      'refused by guardrails: 1 enforced finding; fix the enforced ones and retry',
      '[enforce] scope/delete-count: this delete would remove 99 objects; the policy allows at most 20 in one call. Fix: narrow the selector so it matches at most 20 objects, or ask an operator to raise maxDeleteCount',
    ]);
  });

  it('renders a real verdict with the container named and the path into a Deployment', () => {
    const deployment: WriteIntent = {
      verb: 'apply',
      cluster: 'dev',
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      namespaced: true,
      namespace: 'default',
      name: 'web',
      object: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: privilegedSpec() } } },
    };
    expect(formatVerdict(evaluateWrite(deployment, defaultPolicy()))).toBe(
      'refused by guardrails: 1 enforced finding; fix the enforced ones and retry\n' +
        '[enforce] pss-baseline/privileged at spec.template.spec.containers[0].securityContext.privileged: container "app" runs privileged, with full access to the node. Fix: remove securityContext.privileged or set it to false',
    );
  });
});

describe('describeRules', () => {
  const REQUIRED = [
    'scope/read-only',
    'scope/protected-namespace',
    'scope/namespace-not-allowed',
    'scope/delete-count',
    'pss-baseline/host-namespaces',
    'pss-baseline/privileged',
    'pss-baseline/capabilities',
    'pss-baseline/host-path',
    'pss-baseline/host-ports',
    'pss-baseline/apparmor',
    'pss-baseline/selinux',
    'pss-baseline/proc-mount',
    'pss-baseline/seccomp',
    'pss-baseline/sysctls',
    'pss-baseline/windows-host-process',
    'pss-restricted/volume-types',
    'pss-restricted/privilege-escalation',
    'pss-restricted/run-as-non-root',
    'pss-restricted/run-as-user',
    'pss-restricted/seccomp',
    'pss-restricted/capabilities',
    'resources/requests-limits',
    'images/pinned',
  ];

  it('lists every rule once with a level matching its id and a summary', () => {
    const rules = describeRules();
    expect(rules.map((r) => r.id)).toEqual([...RULE_IDS]);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(REQUIRED));
    const expectedLevel = (id: string) =>
      id.startsWith('scope/')
        ? 'scope'
        : id.startsWith('cluster-access/')
          ? 'cluster-access'
          : id.startsWith('pss-baseline/')
            ? 'baseline'
            : id.startsWith('pss-restricted/')
              ? 'restricted'
              : 'best-practice';
    for (const r of rules) {
      expect(r.level).toBe(expectedLevel(r.id));
      expect(r.summary.length).toBeGreaterThan(10);
    }
  });

  it('every rule in the catalogue can be configured in a policy file', () => {
    const yaml = `rules:\n${RULE_IDS.map((id) => `  ${id}: { mode: audit }`).join('\n')}\n`;
    expect(Object.keys(parsePolicy(yaml).rules)).toEqual([...RULE_IDS]);
  });
});
