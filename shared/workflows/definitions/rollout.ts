import { ROLLOUT_LIMITS } from '../../domain/rollout-plan.ts';
import type { RetryPolicy, StatePath, TaskState, WorkflowDefinition } from './model.ts';

/** A step that failed for a reason a retry can cure, and a function platform that failed to run it. */
const TRANSIENT: RetryPolicy = { on: 'transient', intervalSeconds: 2, maxAttempts: 4, backoffRate: 2 };
const PLATFORM: RetryPolicy = { on: 'platform', intervalSeconds: 1, maxAttempts: 3, backoffRate: 2 };

function task(
  step: string,
  resultPath: StatePath,
  catchTo: { next: string; resultPath?: StatePath },
  then: { next: string } | { end: true },
  opts: { input?: Record<string, StatePath>; retry?: RetryPolicy[] } = {},
): TaskState {
  return {
    type: 'task',
    step: `rollout.${step}`,
    input: { operationId: '$.operationId', ...opts.input },
    resultPath,
    timeoutSeconds: 120,
    retry: opts.retry ?? [TRANSIENT, PLATFORM],
    catch: { resultPath: catchTo.resultPath ?? '$.error', next: catchTo.next },
    ...then,
  };
}

/** Failing before any change ends in Fail; failing after one rolls back. */
const toFail = { next: 'Fail' };
const toRollback = { next: 'Rollback' };

/**
 * A progressive rollout of a Deployment (rolling, blue-green, canary) with health gates, human
 * approval and automatic rollback. All state lives in the operation record; the execution's state
 * only carries the operation id and what the last steps answered.
 */
export const rolloutWorkflow: WorkflowDefinition = {
  flow: 'rollout',
  comment:
    'Progressive rollout of a Deployment (rolling, blue-green, canary) with health gates, human approval and automatic rollback. Every Task calls the workflow-step function with {step, input}; all state lives in the operation record.',
  startAt: 'Prepare',
  timeoutSeconds: ROLLOUT_LIMITS.executionTimeoutSeconds,
  states: {
    Prepare: task('prepare', '$.prepared', toFail, { next: 'NeedsApproval' }),
    NeedsApproval: {
      type: 'choice',
      choices: [{ variable: '$.prepared.approvalRequired', equals: true, next: 'AwaitApproval' }],
      default: 'ApplyStep',
    },
    AwaitApproval: { type: 'wait', seconds: 10, next: 'CheckApproval' },
    CheckApproval: task('checkApproval', '$.approval', toFail, { next: 'ApprovalDecision' }),
    ApprovalDecision: {
      type: 'choice',
      choices: [
        { variable: '$.approval.decision', equals: 'approved', next: 'ApplyStep' },
        { variable: '$.approval.decision', equals: 'pending', next: 'AwaitApproval' },
      ],
      default: 'EndUnchanged',
    },
    EndUnchanged: task('endUnchanged', '$.last', toFail, { end: true }),
    ApplyStep: task('applyStep', '$.applied', toRollback, { next: 'AwaitGate' }),
    AwaitGate: { type: 'wait', seconds: 5, next: 'Gate' },
    Gate: task('gate', '$.gate', toRollback, { next: 'GateVerdict' }),
    GateVerdict: {
      type: 'choice',
      choices: [
        { variable: '$.gate.verdict', equals: 'pass', next: 'CompleteStep' },
        { variable: '$.gate.verdict', equals: 'pending', next: 'AwaitGate' },
        { variable: '$.gate.verdict', equals: 'inconclusive', next: 'AwaitHuman' },
      ],
      default: 'Rollback',
    },
    // The index of the step whose gate passed, so a retried completeStep never completes the next one.
    CompleteStep: task(
      'completeStep',
      '$.step',
      toRollback,
      { next: 'AfterStep' },
      { input: { stepIndex: '$.applied.stepIndex' } },
    ),
    AfterStep: {
      type: 'choice',
      choices: [
        { variable: '$.step.next', equals: 'pause', next: 'AwaitHuman' },
        { variable: '$.step.next', equals: 'finalize', next: 'Finalize' },
      ],
      default: 'ApplyStep',
    },
    AwaitHuman: { type: 'wait', seconds: 10, next: 'CheckHuman' },
    CheckHuman: task('checkHuman', '$.human', toRollback, { next: 'HumanDecision' }),
    HumanDecision: {
      type: 'choice',
      choices: [
        { variable: '$.human.decision', equals: 'continue', next: 'ApplyStep' },
        { variable: '$.human.decision', equals: 'finalize', next: 'Finalize' },
        { variable: '$.human.decision', equals: 'pending', next: 'AwaitHuman' },
      ],
      default: 'Rollback',
    },
    Finalize: task('finalize', '$.finalized', toRollback, { next: 'AfterFinalize' }),
    AfterFinalize: {
      type: 'choice',
      choices: [{ variable: '$.finalized.scaleDownOld', equals: true, next: 'RollbackWindow' }],
      default: 'Succeeded',
    },
    // Blue-green keeps blue this long after the switch, for a quick rollback.
    RollbackWindow: { type: 'wait', seconds: '$.finalized.rollbackWindowSeconds', next: 'ScaleDownOld' },
    ScaleDownOld: task('scaleDownOld', '$.scaledDown', toRollback, { next: 'Succeeded' }),
    // The rollback gets the whole state (why it is rolling back) and more retries: it must finish.
    Rollback: task(
      'rollback',
      '$.rolledBack',
      { next: 'Fail', resultPath: '$.rollbackError' },
      { next: 'RolledBack' },
      { input: { state: '$' }, retry: [{ ...TRANSIENT, maxAttempts: 8 }, PLATFORM] },
    ),
    RolledBack: { type: 'succeed' },
    // Records the failure; if even that fails, the execution still ends failed.
    Fail: task(
      'fail',
      '$.failed',
      { next: 'Failed', resultPath: '$.failError' },
      { next: 'Failed' },
      {
        input: { state: '$' },
      },
    ),
    Failed: { type: 'fail', error: 'RolloutFailed', cause: 'The rollout failed; see the operation record.' },
    Succeeded: { type: 'succeed' },
  },
};
