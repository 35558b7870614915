import type { FlowName } from '../../ports/workflow.ts';
import type { WorkflowDefinition } from './model.ts';
import { rolloutWorkflow } from './rollout.ts';

/** Every long operation, by flow name: the one source of the ASL and the Cloud Workflows YAML. */
export const WORKFLOWS: Readonly<Record<FlowName, WorkflowDefinition>> = { rollout: rolloutWorkflow };

export { STEP_FUNCTION_PLACEHOLDER, toAsl } from './asl.ts';
export { toCloudWorkflows, toCloudWorkflowsYaml } from './cloud-workflows.ts';
export * from './model.ts';
