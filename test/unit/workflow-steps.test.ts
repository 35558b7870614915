import { describe, expect, it } from 'vitest';
import type { Deps } from '../../shared/app/deps.ts';
import { OperationContentionError } from '../../shared/app/repos/operations.ts';
import { StoreUnavailableError } from '../../shared/ports/store.ts';
import { dispatchStep, type StepTable } from '../../shared/workflows/index.ts';

describe('dispatchStep error names (what the ASL Retry and Catch match)', () => {
  const steps: StepTable = {
    'test.storeDown': async () => {
      throw new StoreUnavailableError('DynamoDB UpdateItem on t: ThrottlingException: slow down');
    },
    'test.contended': async () => {
      throw new OperationContentionError('operation op-1 kept changing; update abandoned');
    },
    'test.broken': async () => {
      throw new TypeError('a bug');
    },
  };
  const deps = {} as Deps;

  it('a Store that is unreachable or busy is a TransientError, retried instead of rolling back', async () => {
    for (const step of ['test.storeDown', 'test.contended']) {
      const err = (await dispatchStep({ step, input: {} }, deps, steps).catch((e: unknown) => e)) as Error;
      expect(err.name, step).toBe('TransientError');
      expect(err.cause, step).toBeInstanceOf(Error);
    }
    const err = (await dispatchStep({ step: 'test.storeDown', input: {} }, deps, steps).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toContain('ThrottlingException');
  });

  it('any other error keeps its name and goes to the Catch', async () => {
    const err = (await dispatchStep({ step: 'test.broken', input: {} }, deps, steps).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TypeError');
  });
});

describe('a rollout step reads its operation record through the schema', () => {
  const op = (plan: unknown) => ({
    id: 'op-corrupt',
    kind: 'rollout',
    target: { cluster: 'fake', namespace: 'default', kind: 'Deployment', name: 'web' },
    plan,
  });
  const depsWith = (record: unknown) =>
    ({
      operations: { require: async () => record },
      clusters: { client: async () => ({ resolve: async () => ({ namespaced: true }) }) },
    }) as unknown as Deps;

  it('a plan that is not what the rollout wrote stops the step with a non-transient CorruptOperationError', async () => {
    const deps = depsWith(op({ strategy: 'sideways', steps: [] }));
    const err = (await dispatchStep({ step: 'rollout.gate', input: { operationId: 'op-corrupt' } }, deps).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.name).toBe('CorruptOperationError');
    expect(err.message).toContain('operation op-corrupt holds an invalid rollout record (plan.strategy');
  });

  it('a task input without an operation id is refused before anything is read', async () => {
    const err = (await dispatchStep({ step: 'rollout.gate', input: {} }, depsWith(undefined)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.name).toBe('InvalidStepInputError');
  });

  it('an unknown step names the known ones', async () => {
    const err = (await dispatchStep({ step: 'rollout.nope', input: {} }, {} as Deps).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('UnknownStepError');
    expect(err.message).toContain('rollout.applyStep');
  });
});
