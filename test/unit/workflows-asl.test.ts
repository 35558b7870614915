import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { STEP_FUNCTION_PLACEHOLDER, statesOfType } from '../../shared/adapters/local/local-workflow-engine.ts';
import { ROLLOUT_LIMITS } from '../../shared/domain/rollout-plan.ts';
import { stepNames } from '../../shared/workflows/index.ts';

const dir = join(import.meta.dirname, '..', '..', 'shared', 'workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.asl.json'));
const SAMPLE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cloudops-workflow-step';

describe('workflow definitions (ASL)', () => {
  it('exist', () => {
    expect(files).toContain('rollout.asl.json');
  });

  it('rollout.asl.json: the execution timeout is the one the steps plan their deadline and lease around', () => {
    const def = JSON.parse(readFileSync(join(dir, 'rollout.asl.json'), 'utf8')) as { TimeoutSeconds: number };
    expect(def.TimeoutSeconds).toBe(ROLLOUT_LIMITS.executionTimeoutSeconds);
  });

  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    const def = JSON.parse(text.replaceAll(STEP_FUNCTION_PLACEHOLDER, SAMPLE_ARN)) as {
      States: Record<string, Record<string, unknown>>;
    };

    it(`${file} passes asl-validator once the step function ARN is substituted`, () => {
      const { isValid, errors } = aslValidator(def, { checkArn: true, checkPaths: true });
      expect(errors).toEqual([]);
      expect(isValid).toBe(true);
    });

    it(`${file}: every Task calls the workflow-step function with a known step, and retries transient errors`, () => {
      const raw = JSON.parse(text) as { States: Record<string, Record<string, unknown>> };
      const tasks = statesOfType(raw, 'Task');
      expect(tasks.length).toBeGreaterThan(0);
      const used = new Set<string>();
      for (const name of tasks) {
        const state = raw.States[name] as {
          Resource: string;
          Parameters: { step: string };
          Retry?: Array<{ ErrorEquals: string[] }>;
          TimeoutSeconds?: number;
        };
        expect(state.Resource, name).toBe(STEP_FUNCTION_PLACEHOLDER);
        expect(stepNames(), name).toContain(state.Parameters.step);
        expect(
          state.Retry?.some((r) => r.ErrorEquals.includes('TransientError')),
          name,
        ).toBe(true);
        expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
        used.add(state.Parameters.step);
      }
      const prefix = `${file.replace('.asl.json', '')}.`;
      expect(
        stepNames()
          .filter((s) => s.startsWith(prefix))
          .sort(),
      ).toEqual([...used].sort());
    });

    it(`${file}: every Wait is bounded and every Task has a way out on error`, () => {
      for (const name of statesOfType(def, 'Wait')) {
        const w = def.States[name] as { Seconds?: number; SecondsPath?: string };
        expect(w.Seconds !== undefined || w.SecondsPath !== undefined, name).toBe(true);
      }
      for (const name of statesOfType(def, 'Task')) {
        const t = def.States[name] as { Catch?: unknown[]; Next?: string };
        // Every Task, the failure handler too (it ends in the Fail state even if it cannot record why).
        expect(t.Catch, name).toBeDefined();
      }
    });
  }
});
