import { describe, expect, it } from 'vitest';
import { budgetScopeKey, costPolicyDoc, defaultCostPolicy } from '../../shared/domain/cost/policy.ts';
import { defaultPolicy, PolicyError, parsePolicy } from '../../shared/domain/guardrails/index.ts';

function issues(yaml: string): string[] {
  try {
    parsePolicy(yaml);
  } catch (err) {
    if (err instanceof PolicyError) return err.issues;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

const costOf = (yaml: string) => parsePolicy(yaml).cost;

const DEFAULTS = {
  budgets: [],
  anomaly: { minRatio: 1.5, minAmountUsd: 20, baselineDays: 14, minBaselineDays: 7 },
  rightsizing: {
    cpuPercentile: 95,
    memoryHeadroom: 1.15,
    minSamples: 288,
    windowDays: 14,
    minMonthlySavingsUsd: 5,
    minCpuMillicores: 10,
    minMemoryMiB: 16,
  },
};

describe('the cost section of the policy file', () => {
  it('defaults when absent, when empty, and key by key', () => {
    expect(costOf('')).toEqual(DEFAULTS);
    expect(costOf('cost: {}')).toEqual(DEFAULTS);
    expect(defaultPolicy().cost).toEqual(DEFAULTS);
    expect(defaultCostPolicy()).toEqual(DEFAULTS);
    expect(costOf('cost: { anomaly: { minRatio: 2 } }')?.anomaly).toEqual({ ...DEFAULTS.anomaly, minRatio: 2 });
    expect(costOf('cost: { rightsizing: { cpuPercentile: 90 } }')?.rightsizing).toEqual({
      ...DEFAULTS.rightsizing,
      cpuPercentile: 90,
    });
  });

  it('parses budgets, filling in default thresholds and sorting given ones', () => {
    const c = costOf(`
cost:
  budgets:
    - name: payments-prod
      scope: { namespace: payments, cluster: prod }
      monthlyUsd: 5000
      thresholds: { actual: [100, 50, 80] }
    - name: aws-main
      scope: { account: '123456789012' }
      monthlyUsd: 40000
    - name: team-a
      scope: { label: { key: team, value: a } }
      monthlyUsd: 100
      thresholds: { actual: [], forecast: [90] }
`);
    expect(c?.budgets).toEqual([
      {
        name: 'payments-prod',
        scope: { namespace: 'payments', cluster: 'prod' },
        monthlyUsd: 5000,
        thresholds: { actual: [50, 80, 100], forecast: [100] },
      },
      {
        name: 'aws-main',
        scope: { account: '123456789012' },
        monthlyUsd: 40000,
        thresholds: { actual: [80, 100], forecast: [100] },
      },
      {
        name: 'team-a',
        scope: { label: { key: 'team', value: 'a' } },
        monthlyUsd: 100,
        thresholds: { actual: [], forecast: [90] },
      },
    ]);
    expect(c?.budgets.map((b) => budgetScopeKey(b.scope))).toEqual([
      'namespace=payments cluster=prod',
      'account=123456789012',
      'label[team]=a',
    ]);
  });

  it('refuses unknown keys with a did-you-mean, at every depth of the section', () => {
    expect(issues('cost: { budget: [] }')).toEqual(['cost.budget: unknown key; did you mean budgets?']);
    expect(issues('cost: { anomaly: { minRatioo: 2 } }')).toEqual([
      'cost.anomaly.minRatioo: unknown key; did you mean minRatio?',
    ]);
    expect(issues('cost: { rightsizing: { memoryHeadrom: 1.2 } }')).toEqual([
      'cost.rightsizing.memoryHeadrom: unknown key; did you mean memoryHeadroom?',
    ]);
    expect(issues('cost:\n  budgets:\n    - { name: a, scope: { namespce: x }, monthlyUsd: 1 }\n')).toEqual(
      expect.arrayContaining(['cost.budgets[0].scope.namespce: unknown key; did you mean namespace?']),
    );
    expect(
      issues(
        'cost:\n  budgets:\n    - { name: a, scope: { account: "123456789012" }, monthlyUsd: 1, thresholds: { actaul: [50] } }\n',
      ),
    ).toEqual(['cost.budgets[0].thresholds.actaul: unknown key; did you mean actual?']);
    expect(issues('cots: {}')).toEqual(['cots: unknown key; did you mean cost?']);
  });

  it('refuses scopes that name no scope, two, or a cluster on a whole bill', () => {
    expect(issues('cost:\n  budgets:\n    - { name: a, scope: {}, monthlyUsd: 1 }\n')).toEqual([
      'cost.budgets[0].scope: name exactly one of account, project, namespace or label',
    ]);
    expect(
      issues('cost:\n  budgets:\n    - { name: a, scope: { namespace: x, project: my-project }, monthlyUsd: 1 }\n'),
    ).toEqual([
      'cost.budgets[0].scope: name exactly one of account, project, namespace or label (got project and namespace)',
    ]);
    expect(
      issues(
        'cost:\n  budgets:\n    - { name: a, scope: { account: "123456789012", cluster: prod }, monthlyUsd: 1 }\n',
      )[0],
    ).toMatch(/^cost\.budgets\[0\]\.scope\.cluster: cluster narrows a namespace or label budget/);
    expect(issues('cost:\n  budgets:\n    - { name: a, scope: { account: "1234" }, monthlyUsd: 1 }\n')[0]).toMatch(
      /^cost\.budgets\[0\]\.scope\.account: must be a 12-digit AWS account id/,
    );
  });

  it('refuses a label key a scope key could not tell apart', () => {
    expect(
      issues(
        'cost:\n  budgets:\n    - { name: a, scope: { label: { key: "team]=x", value: y } }, monthlyUsd: 1 }\n',
      )[0],
    ).toMatch(/^cost\.budgets\[0\]\.scope\.label\.key: must be a label or tag key/);
    expect(
      costOf(
        'cost:\n  budgets:\n    - { name: a, scope: { label: { key: "cost center", value: "42" } }, monthlyUsd: 1 }\n',
      )?.budgets[0]?.scope.label,
    ).toEqual({ key: 'cost center', value: '42' });
  });

  it('bounds every number and list, naming the field', () => {
    const budget = (extra: string) => `cost:\n  budgets:\n    - { name: a, scope: { namespace: x }, ${extra} }\n`;
    expect(issues(budget('monthlyUsd: 0'))[0]).toMatch(/^cost\.budgets\[0\]\.monthlyUsd: /);
    expect(issues(budget('monthlyUsd: -5'))[0]).toMatch(/^cost\.budgets\[0\]\.monthlyUsd: /);
    expect(issues(budget('monthlyUsd: 10, thresholds: { actual: [1001] }'))[0]).toMatch(
      /^cost\.budgets\[0\]\.thresholds\.actual\[0\]: a percent of the budget, at most 1000/,
    );
    expect(issues(budget('monthlyUsd: 10, thresholds: { actual: [80, 80] }'))[0]).toBe(
      'cost.budgets[0].thresholds.actual: each threshold once',
    );
    expect(issues(budget('monthlyUsd: 10, thresholds: { actual: [], forecast: [] }'))[0]).toBe(
      'cost.budgets[0].thresholds: name at least one threshold (thresholds.actual or thresholds.forecast)',
    );
    expect(issues(budget('monthlyUsd: 10, thresholds: { actual: [1,2,3,4,5,6,7,8,9,10,11] }'))[0]).toBe(
      'cost.budgets[0].thresholds.actual: at most 10',
    );
    expect(issues('cost:\n  budgets:\n    - { name: Bad_Name, scope: { namespace: x }, monthlyUsd: 1 }\n')[0]).toMatch(
      /^cost\.budgets\[0\]\.name: must be a lowercase name/,
    );
    expect(
      issues(
        'cost:\n  budgets:\n    - { name: a, scope: { namespace: x }, monthlyUsd: 1 }\n    - { name: a, scope: { namespace: y }, monthlyUsd: 2 }\n',
      ),
    ).toEqual(['cost.budgets[1].name: budget a is named twice']);
    const many = Array.from(
      { length: 201 },
      (_, i) => `    - { name: b${i}, scope: { namespace: x }, monthlyUsd: 1 }`,
    ).join('\n');
    expect(issues(`cost:\n  budgets:\n${many}\n`)).toEqual(['cost.budgets: at most 200 budgets']);
    expect(issues('cost: { anomaly: { minRatio: 1 } }')[0]).toMatch(/^cost\.anomaly\.minRatio: /);
    expect(issues('cost: { anomaly: { baselineDays: 91 } }')[0]).toMatch(/^cost\.anomaly\.baselineDays: /);
    expect(issues('cost: { anomaly: { baselineDays: 10, minBaselineDays: 11 } }')).toEqual([
      'cost.anomaly.minBaselineDays: must be at most baselineDays',
    ]);
    expect(issues('cost: { rightsizing: { cpuPercentile: 101 } }')[0]).toMatch(/^cost\.rightsizing\.cpuPercentile: /);
    expect(issues('cost: { rightsizing: { memoryHeadroom: 0.9 } }')[0]).toMatch(/^cost\.rightsizing\.memoryHeadroom: /);
    expect(issues('cost: { rightsizing: { minSamples: 0 } }')[0]).toMatch(/^cost\.rightsizing\.minSamples: /);
    expect(issues('cost: { rightsizing: { minSamples: 2.5 } }')[0]).toMatch(/^cost\.rightsizing\.minSamples: /);
    expect(issues('cost: { rightsizing: { windowDays: 91 } }')[0]).toMatch(/^cost\.rightsizing\.windowDays: /);
  });

  it('documents every key with its default, and the example parses', () => {
    const doc = costPolicyDoc().join('\n');
    for (const k of Object.keys(DEFAULTS.anomaly)) expect(doc).toContain(`\`anomaly.${k}\``);
    for (const k of Object.keys(DEFAULTS.rightsizing)) expect(doc).toContain(`\`rightsizing.${k}\``);
    expect(doc).toContain('| `rightsizing.memoryHeadroom` | `1.15` |');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect(costOf(example)?.budgets.map((b) => b.name)).toEqual(['payments-prod', 'aws-main']);
  });
});
