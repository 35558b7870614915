import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatedFiles, REGENERATE } from '../../scripts/workflows.ts';
import { ROLLOUT_LIMITS } from '../../shared/domain/rollout-plan.ts';
import {
  definitionErrors,
  STEP_FUNCTION_PLACEHOLDER,
  stepsOf,
  toAsl,
  toCloudWorkflows,
  WORKFLOWS,
  type WorkflowDefinition,
} from '../../shared/workflows/definitions/index.ts';
import { STEPS } from '../../shared/workflows/index.ts';

const SAMPLE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cloudops-workflow-step';

describe('workflow definitions: one per flow, generating both engines’ files', () => {
  it('the committed ASL and Cloud Workflows files are what the definitions generate', () => {
    const files = generatedFiles();
    expect(files.map((f) => f.path.split('/').at(-1)).sort()).toEqual(['rollout.asl.json', 'rollout.workflows.yaml']);
    for (const f of files) {
      const committed = readFileSync(f.path, 'utf8');
      expect(committed === f.text, `${f.path} is out of date: run ${REGENERATE}`).toBe(true);
    }
  });

  for (const def of Object.values(WORKFLOWS)) {
    it(`${def.flow}: valid, with every state reachable`, () => {
      expect(definitionErrors(def)).toEqual([]);
    });

    it(`${def.flow}: the ASL passes asl-validator with the step function's ARN substituted`, () => {
      const asl = JSON.parse(JSON.stringify(toAsl(def)).replaceAll(STEP_FUNCTION_PLACEHOLDER, SAMPLE_ARN));
      const { isValid, errors } = aslValidator(asl, { checkArn: true, checkPaths: true });
      expect(errors).toEqual([]);
      expect(isValid).toBe(true);
    });

    it(`${def.flow}: the Cloud Workflows YAML parses into a main workflow with a step per state`, () => {
      const file = generatedFiles().find((f) => f.path.endsWith(`${def.flow}.workflows.yaml`));
      const doc = parse(file?.text ?? '') as {
        main: { params: string[]; steps: Array<Record<string, Record<string, unknown>>> };
      };
      expect(doc).toEqual(toCloudWorkflows(def));
      const names = doc.main.steps.map((s) => Object.keys(s)[0]);
      for (const state of Object.keys(def.states)) expect(names, state).toContain(state);
      // Every task calls the step function with OIDC, under a retry of transient step errors.
      for (const [name, state] of Object.entries(def.states)) {
        if (state.type !== 'task') continue;
        const step = doc.main.steps.find((s) => s[name])?.[name] as { try: unknown; retry: { predicate: string } };
        expect(step.retry.predicate, name).toBe(['$', '{transient_error}'].join(''));
        const text = JSON.stringify(step.try);
        expect(text, name).toContain('"call":"http.post"');
        expect(text, name).toContain('"auth":{"type":"OIDC"}');
        expect(text, name).toContain(`"step":"${state.step}"`);
      }
    });

    it(`${def.flow}: every step it calls is in the step table, and every ${def.flow}.* step is called`, () => {
      const called = stepsOf(def);
      for (const step of called) expect(Object.keys(STEPS), step).toContain(step);
      expect(
        Object.keys(STEPS)
          .filter((s) => s.startsWith(`${def.flow}.`))
          .sort(),
      ).toEqual([...called].sort());
    });
  }

  it('rollout: the execution timeout is the one the steps plan their deadline and lease around', () => {
    expect(WORKFLOWS.rollout.timeoutSeconds).toBe(ROLLOUT_LIMITS.executionTimeoutSeconds);
  });

  it('a definition with a dangling transition or an unreachable state is refused by both generators', () => {
    const broken: WorkflowDefinition = {
      ...WORKFLOWS.rollout,
      states: { ...WORKFLOWS.rollout.states, Orphan: { type: 'wait', seconds: 1, next: 'Nowhere' } },
    };
    expect(definitionErrors(broken)).toEqual([
      'Orphan -> Nowhere: no such state',
      'Orphan is unreachable from Prepare',
    ]);
    expect(() => toAsl(broken)).toThrow('workflow rollout is invalid');
    expect(() => toCloudWorkflows(broken)).toThrow('workflow rollout is invalid');
  });
});
