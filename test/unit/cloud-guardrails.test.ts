import { describe, expect, it } from 'vitest';
import { guardrailsDoc } from '../../scripts/tools-table.ts';
import {
  type CloudPolicy,
  type CloudWriteIntent,
  cloudChangeHash,
  defaultCloudPolicy,
  evaluateCloudWrite,
  formatCloudVerdict,
  powerStep,
} from '../../shared/domain/guardrails/cloud.ts';
import { defaultPolicy, PolicyError, parsePolicy } from '../../shared/domain/guardrails/policy.ts';

const cloudOf = (yaml: string): CloudPolicy => parsePolicy(yaml).cloud as CloudPolicy;

function issuesOf(yaml: string): string[] {
  try {
    parsePolicy(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).issues;
  }
  throw new Error('the policy parsed');
}

const aws = (over: Partial<CloudWriteIntent> = {}): CloudWriteIntent => ({
  provider: 'aws',
  action: 'stop',
  owner: '123456789012',
  location: 'eu-west-1',
  ids: ['i-0123456789abcdef0'],
  ...over,
});
const tagged = (tags: Record<string, string>, id = 'i-0123456789abcdef0') => ({ ids: [id], instances: [{ id, tags }] });

describe('cloud: section of the policy file', () => {
  it('defaults when absent, when empty, and key by key', () => {
    const expected = {
      readOnly: false,
      accounts: { allow: [], deny: [] },
      projects: { allow: [], deny: [] },
      deniedTags: {},
      protectedTags: { env: ['prod'], environment: ['production'] },
      maxInstancesPerCall: 20,
      approvalTtlSeconds: 3600,
    };
    expect(cloudOf('')).toEqual(expected);
    expect(cloudOf('cloud: {}')).toEqual(expected);
    expect(defaultPolicy().cloud).toEqual(expected);
    expect(defaultCloudPolicy()).toEqual(expected);
    expect(cloudOf('cloud: { accounts: { deny: ["9*"] } }').accounts).toEqual({ allow: [], deny: ['9*'] });
    // Naming protectedTags replaces the default: {} protects nothing.
    expect(cloudOf('cloud: { protectedTags: {} }').protectedTags).toEqual({});
    expect(cloudOf('cloud: { protectedTags: { tier: [critical] } }').protectedTags).toEqual({ tier: ['critical'] });
  });

  it('refuses unknown keys with a did-you-mean, at every depth of the section', () => {
    expect(issuesOf('cloud: { protectedTag: { env: [prod] } }')).toEqual([
      'cloud.protectedTag: unknown key; did you mean protectedTags?',
    ]);
    expect(issuesOf('cloud: { accounts: { alow: ["1*"] } }')).toEqual([
      'cloud.accounts.alow: unknown key; did you mean allow?',
    ]);
    expect(issuesOf('cloud: { readonly: true }')).toEqual(['cloud.readonly: unknown key; did you mean readOnly?']);
    expect(issuesOf('clod: {}')[0]).toBe('clod: unknown key; did you mean cloud?');
  });

  it('refuses bad values naming the field', () => {
    expect(issuesOf('cloud: { accounts: { allow: [prod-account] } }')[0]).toMatch(
      /^cloud\.accounts\.allow\[0\]: must be a 12-digit AWS account id/,
    );
    expect(issuesOf('cloud: { projects: { deny: [Billing] } }')[0]).toMatch(
      /^cloud\.projects\.deny\[0\]: must be a GCP/,
    );
    expect(issuesOf('cloud: { maxInstancesPerCall: 51 }')[0]).toMatch(
      /^cloud\.maxInstancesPerCall: must be at most 50/,
    );
    expect(issuesOf('cloud: { maxInstancesPerCall: 0 }')[0]).toMatch(/^cloud\.maxInstancesPerCall: /);
    expect(issuesOf('cloud: { approvalTtlSeconds: 30 }')[0]).toMatch(/^cloud\.approvalTtlSeconds: /);
    expect(issuesOf('cloud: { protectedTags: { env: prod } }')[0]).toMatch(/^cloud\.protectedTags\.env: /);
    expect(issuesOf('cloud: { deniedTags: { role: [] } }')[0]).toBe(
      'cloud.deniedTags.role: name at least one value glob',
    );
    expect(issuesOf('cloud: { readOnly: yes }')[0]).toMatch(/^cloud\.readOnly: /);
  });
});

describe('evaluateCloudWrite', () => {
  const policy = defaultCloudPolicy();

  it('allows an untagged write and protects env=prod and environment=production by default', () => {
    expect(evaluateCloudWrite(aws(tagged({ Name: 'web' })), policy)).toEqual({
      allowed: true,
      findings: [],
      protectedBy: [],
    });
    const prod = evaluateCloudWrite(aws(tagged({ env: 'prod' })), policy);
    expect(prod.allowed).toBe(true);
    expect(prod.protectedBy).toEqual([{ instance: 'i-0123456789abcdef0', tag: 'env', value: 'prod' }]);
    expect(evaluateCloudWrite(aws(tagged({ environment: 'production' })), policy).protectedBy).toHaveLength(1);
    // GCP labels are lowercase: the same defaults apply.
    const gcp = evaluateCloudWrite(
      {
        provider: 'gcp',
        action: 'stop',
        owner: 'shop-prod',
        location: 'europe-west1-b',
        ...tagged({ env: 'prod' }, 'web-1'),
      },
      policy,
    );
    expect(gcp.protectedBy).toEqual([{ instance: 'web-1', tag: 'env', value: 'prod' }]);
  });

  it('matches tag keys exactly and values by case-sensitive glob', () => {
    const variants: Array<Record<string, string>> = [
      { Env: 'prod' },
      { env: 'Prod' },
      { env: 'production' },
      { environment: 'prod' },
      { env: 'prod ' },
    ];
    for (const tags of variants)
      expect(evaluateCloudWrite(aws(tagged(tags)), policy).protectedBy, JSON.stringify(tags)).toEqual([]);
    const globbed = { ...policy, protectedTags: { env: ['prod*', 'pr?d'] } };
    for (const value of ['prod', 'prod-eu', 'prxd'])
      expect(evaluateCloudWrite(aws(tagged({ env: value })), globbed).protectedBy, value).toHaveLength(1);
    expect(evaluateCloudWrite(aws(tagged({ env: 'staging-prod' })), globbed).protectedBy).toEqual([]);
  });

  it('refuses instances with a denied tag, naming the instance, tag and rule, with a fix', () => {
    const p = { ...policy, deniedTags: { role: ['bastion', 'nat-*'] } };
    const v = evaluateCloudWrite(
      aws({
        ids: ['i-00000001', 'i-00000002', 'i-00000003'],
        instances: [
          { id: 'i-00000001', tags: { role: 'web' } },
          { id: 'i-00000002', tags: { role: 'nat-a', env: 'prod' } },
          { id: 'i-00000003', tags: { role: 'bastion' } },
        ],
      }),
      p,
    );
    expect(v.allowed).toBe(false);
    expect(v.findings.map((f) => [f.ruleId, f.instance])).toEqual([
      ['cloud/denied-tag', 'i-00000002'],
      ['cloud/denied-tag', 'i-00000003'],
    ]);
    expect(v.findings[0]?.message).toBe(
      'i-00000002 is tagged role=nat-a, which cloud.deniedTags refuses (role: nat-*)',
    );
    expect(v.findings[0]?.fix).toMatch(/leave i-00000002 out of the call/);
    expect(v.protectedBy).toEqual([{ instance: 'i-00000002', tag: 'env', value: 'prod' }]);
    expect(formatCloudVerdict(v)).toMatch(
      /^refused by the cloud policy \(2\); nothing was changed\ncloud\/denied-tag \(i-00000002\): .*\. Fix: /,
    );
  });

  it('judges accounts and projects by allow and deny globs, deny winning', () => {
    const p = {
      ...policy,
      accounts: { allow: ['1234*'], deny: ['123456789012'] },
      projects: { allow: ['shop-*'], deny: ['shop-billing'] },
    };
    expect(evaluateCloudWrite(aws({ owner: '123499999999' }), p).allowed).toBe(true);
    const denied = evaluateCloudWrite(aws(), p);
    expect(denied.findings.map((f) => f.ruleId)).toEqual(['cloud/account-not-allowed']);
    expect(denied.findings[0]?.message).toBe('account 123456789012 matches cloud.accounts.deny (123456789012)');
    expect(evaluateCloudWrite(aws({ owner: '999999999999' }), p).findings[0]?.message).toBe(
      'account 999999999999 is not in cloud.accounts.allow (1234*)',
    );
    const gcp = (owner: string) =>
      evaluateCloudWrite({ provider: 'gcp', action: 'start', owner, location: 'us-central1-a', ids: ['web-1'] }, p);
    expect(gcp('shop-web').allowed).toBe(true);
    expect(gcp('shop-billing').findings.map((f) => f.ruleId)).toEqual(['cloud/project-not-allowed']);
    expect(gcp('other-project').findings.map((f) => f.ruleId)).toEqual(['cloud/project-not-allowed']);
    // Account rules do not touch projects and the other way round.
    expect(
      evaluateCloudWrite(aws({ owner: '123499999999' }), { ...p, projects: { allow: ['x*'], deny: [] } }).allowed,
    ).toBe(true);
  });

  it('refuses everything when readOnly, and more instances than maxInstancesPerCall', () => {
    const ro = evaluateCloudWrite(aws(), { ...policy, readOnly: true });
    expect(ro.allowed).toBe(false);
    expect(ro.findings[0]).toMatchObject({ ruleId: 'cloud/read-only' });
    expect(ro.findings[0]?.fix).toMatch(/cloud\.readOnly: false/);
    const ids = Array.from({ length: 3 }, (_, i) => `i-0000000${i}`);
    expect(evaluateCloudWrite(aws({ ids }), { ...policy, maxInstancesPerCall: 3 }).allowed).toBe(true);
    const many = evaluateCloudWrite(aws({ ids }), { ...policy, maxInstancesPerCall: 2 });
    expect(many.findings.map((f) => f.ruleId)).toEqual(['cloud/max-instances']);
    expect(many.findings[0]?.message).toBe('3 instances in one call; the policy allows at most 2');
  });
});

describe('cloudChangeHash', () => {
  const base = {
    provider: 'aws' as const,
    scope: '123456789012/eu-west-1',
    action: 'stop' as const,
    ids: ['i-2', 'i-1'],
  };
  it('is the same for the same ids in any order, and differs for any other change', () => {
    const h = cloudChangeHash(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(cloudChangeHash({ ...base, ids: ['i-1', 'i-2'] })).toBe(h);
    for (const other of [
      { ...base, ids: ['i-1'] },
      { ...base, ids: ['i-1', 'i-2', 'i-3'] },
      { ...base, action: 'start' as const },
      { ...base, scope: '123456789012/eu-west-2' },
      { ...base, provider: 'gcp' as const },
    ])
      expect(cloudChangeHash(other), JSON.stringify(other)).not.toBe(h);
  });
});

describe('powerStep', () => {
  it('acts, skips or refuses by the provider lifecycle', () => {
    const table: Array<[Parameters<typeof powerStep>, string]> = [
      [['aws', 'stop', 'running'], 'act'],
      [['aws', 'stop', 'pending'], 'act'],
      [['aws', 'stop', 'stopped'], 'skip'],
      [['aws', 'stop', 'stopping'], 'skip'],
      [['aws', 'stop', 'terminated'], 'refuse'],
      [['aws', 'stop', 'shutting-down'], 'refuse'],
      [['aws', 'start', 'stopped'], 'act'],
      [['aws', 'start', 'running'], 'skip'],
      [['aws', 'start', 'stopping'], 'refuse'],
      [['aws', 'start', 'terminated'], 'refuse'],
      [['gcp', 'stop', 'RUNNING'], 'act'],
      [['gcp', 'stop', 'TERMINATED'], 'skip'],
      [['gcp', 'stop', 'SUSPENDED'], 'refuse'],
      [['gcp', 'start', 'TERMINATED'], 'act'],
      [['gcp', 'start', 'RUNNING'], 'skip'],
      [['gcp', 'start', 'SUSPENDED'], 'refuse'],
      [['gcp', 'start', 'STOPPING'], 'refuse'],
    ];
    for (const [args, kind] of table) expect(powerStep(...args).kind, args.join(' ')).toBe(kind);
    expect(powerStep('gcp', 'start', 'SUSPENDED')).toEqual({
      kind: 'refuse',
      why: 'it is SUSPENDED; resume it (instances.resume) instead of starting it',
    });
  });
});

describe('docs/guardrails.md', () => {
  it('documents the cloud: section with its defaults', () => {
    const doc = guardrailsDoc();
    expect(doc).toContain('## Cloud writes (`cloud:`)');
    expect(doc).toContain('| `protectedTags` | `env: [prod], environment: [production]` |');
    expect(doc).toContain('| `maxInstancesPerCall` | `20` |');
  });
});
