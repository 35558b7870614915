import { assertValid, type RetryPolicy, type State, type WorkflowDefinition } from './model.ts';

/**
 * The placeholder every Task's Resource holds: CDK's DefinitionSubstitutions puts the workflow-step
 * function's ARN there (the local engine, any well-formed ARN).
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CDK DefinitionSubstitutions placeholder, not a template literal.
export const STEP_FUNCTION_PLACEHOLDER = '${WorkflowStepFunctionArn}';

/** The error names Step Functions matches for each neutral retry policy. */
const ERRORS: Record<RetryPolicy['on'], string[]> = {
  // The step's own name for a retryable failure (steps.ts TransientStepError).
  transient: ['TransientError'],
  // What the Lambda service raises when it could not run the function or lost its answer.
  platform: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
};

function aslState(state: State, resource: string): Record<string, unknown> {
  switch (state.type) {
    case 'task':
      return {
        Type: 'Task',
        Resource: resource,
        Parameters: {
          step: state.step,
          input: Object.fromEntries(Object.entries(state.input).map(([k, path]) => [`${k}.$`, path])),
        },
        ResultPath: state.resultPath,
        TimeoutSeconds: state.timeoutSeconds,
        Retry: state.retry.map((r) => ({
          ErrorEquals: ERRORS[r.on],
          IntervalSeconds: r.intervalSeconds,
          MaxAttempts: r.maxAttempts,
          BackoffRate: r.backoffRate,
        })),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: state.catch.resultPath, Next: state.catch.next }],
        ...(state.end ? { End: true } : { Next: state.next }),
      };
    case 'choice':
      return {
        Type: 'Choice',
        Choices: state.choices.map((c) => ({
          Variable: c.variable,
          [typeof c.equals === 'boolean' ? 'BooleanEquals' : 'StringEquals']: c.equals,
          Next: c.next,
        })),
        Default: state.default,
      };
    case 'wait':
      return {
        Type: 'Wait',
        ...(typeof state.seconds === 'number' ? { Seconds: state.seconds } : { SecondsPath: state.seconds }),
        Next: state.next,
      };
    case 'succeed':
      return { Type: 'Succeed' };
    case 'fail':
      return { Type: 'Fail', Error: state.error, Cause: state.cause };
  }
}

/** The Step Functions state machine (Amazon States Language) of a definition. */
export function toAsl(def: WorkflowDefinition, resource = STEP_FUNCTION_PLACEHOLDER): Record<string, unknown> {
  assertValid(def);
  return {
    Comment: def.comment,
    StartAt: def.startAt,
    TimeoutSeconds: def.timeoutSeconds,
    States: Object.fromEntries(Object.entries(def.states).map(([name, s]) => [name, aslState(s, resource)])),
  };
}
