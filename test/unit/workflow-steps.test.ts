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
