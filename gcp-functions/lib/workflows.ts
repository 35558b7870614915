import { createCloudWorkflowsEngine } from '../../shared/adapters/gcp/workflows-engine.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { noWorkflows } from '../../shared/host/deps.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { Env } from './host.ts';

/*
 * The workflow engine of the one tool that starts workflows (delivery_rollouts_start, in the delivery
 * toolset): apart from tool-function.ts so the other bundles carry no Workflows client. The twin of
 * functions/lib/workflows.ts.
 */

/**
 * Cloud Workflows with ROLLOUT_WORKFLOW (projects/P/locations/L/workflows/W, checked by loadGcpConfig)
 * when it is set, with the function's service account (WORKFLOWS_URL: a loopback fake in tests);
 * otherwise noWorkflows.
 */
export function cloudWorkflows(deps: Deps, env: Env): WorkflowEngine {
  const rollout = deps.config.rolloutWorkflow;
  if (!rollout) return noWorkflows;
  const baseUrl = env.WORKFLOWS_URL?.trim();
  return createCloudWorkflowsEngine({ workflows: { rollout }, ...(baseUrl ? { baseUrl } : {}) });
}
