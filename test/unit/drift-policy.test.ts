import { describe, expect, it } from 'vitest';
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

describe('the drift section of the policy file', () => {
  it('defaults to controller-owned fields ignored and no ignore rules', () => {
    expect(parsePolicy('').drift).toEqual({ controllerFields: true, ignoreDifferences: [] });
    expect(defaultPolicy().drift).toEqual({ controllerFields: true, ignoreDifferences: [] });
  });

  it('parses ignoreDifferences as Argo CD writes them', () => {
    const p = parsePolicy(`
drift:
  controllerFields: false
  ignoreDifferences:
    - group: apps
      kind: Deployment
      namespace: 'team-*'
      jsonPointers: [/spec/replicas]
      jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "istio-proxy")']
      managedFieldsManagers: [argo-rollouts]
      reason: rollouts own replicas
`);
    expect(p.drift?.controllerFields).toBe(false);
    expect(p.drift?.ignoreDifferences[0]).toMatchObject({ kind: 'Deployment', jsonPointers: ['/spec/replicas'] });
  });

  it('says which key was misspelt, with a did-you-mean', () => {
    expect(issues('drift:\n  ignoreDiferences: []\n')).toEqual([
      'drift.ignoreDiferences: unknown key; did you mean ignoreDifferences?',
    ]);
    expect(issues('drift:\n  ignoreDifferences:\n    - { jsonPointer: [/spec] }\n')).toEqual(
      expect.arrayContaining(['drift.ignoreDifferences[0].jsonPointer: unknown key; did you mean jsonPointers?']),
    );
    expect(issues('drfit: {}\n')).toEqual(['drfit: unknown key; did you mean drift?']);
  });

  it('refuses a bad JSON pointer or jq path with where and why', () => {
    expect(issues('drift:\n  ignoreDifferences:\n    - { jsonPointers: [spec/replicas] }\n')[0]).toMatch(
      /^drift\.ignoreDifferences\[0\]\.jsonPointers\[0\]: a JSON pointer starts with "\/"/,
    );
    expect(issues("drift:\n  ignoreDifferences:\n    - { jqPathExpressions: ['.spec | del(.x)'] }\n")[0]).toMatch(
      /^drift\.ignoreDifferences\[0\]\.jqPathExpressions\[0\]: expected "\." at character 9/,
    );
  });

  it('refuses a rule that ignores nothing, and too many rules', () => {
    expect(issues('drift:\n  ignoreDifferences:\n    - { kind: Deployment }\n')[0]).toMatch(
      /name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers/,
    );
    const many = Array.from({ length: 201 }, () => '    - { jsonPointers: [/a] }').join('\n');
    expect(issues(`drift:\n  ignoreDifferences:\n${many}\n`)[0]).toMatch(/at most 200 rules/);
  });
});
