import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsEngine } from '../../shared/adapters/aws/sfn-engine.ts';
import type { Deps } from '../../shared/app/deps.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import { noWorkflows } from './deps.ts';

/*
 * The workflow engine of the one tool that starts workflows (delivery_rollouts_start, in the delivery
 * toolset): apart from tool-function.ts so the other bundles carry no Step Functions client.
 */

/** Step Functions with ROLLOUT_WORKFLOW when it is set, in the function's region; otherwise noWorkflows. */
export function stepFunctionsWorkflows(deps: Deps): WorkflowEngine {
  const rollout = deps.config.rolloutWorkflow;
  if (!rollout) return noWorkflows;
  const region = deps.config.store.kind === 'dynamodb' ? deps.config.store.region : undefined;
  return new StepFunctionsEngine(new SFNClient({ region }), { rollout });
}
