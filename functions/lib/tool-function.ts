/**
 * A tool function on AWS: invoked directly by the gateway (functions/mcp.ts, Lambda Invoke
 * RequestResponse; never through API Gateway) with one ToolInvocation, it runs the tool and answers
 * a ToolRunResult. The resource policy lets only the gateway invoke it; what it checks and runs is the
 * cloud-neutral core (shared/host/tool-function.ts) over DynamoDB and Secrets Manager. Each toolset
 * is one bundle (functions/tools/<toolset>.ts) that imports only its own tools.
 */
import type { Context } from 'aws-lambda';
import type { Deps } from '../../shared/app/deps.ts';
import { createToolFunctionCore, type ToolFunctionReach } from '../../shared/host/tool-function.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { ToolRunResult } from '../../shared/ports/tool-runner.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import { lambdaDeps } from './deps.ts';
import { type Env, hostLogger, loadCloudConfig, REQUIRED_SETTINGS } from './host.ts';

export interface ToolFunctionOptions extends ToolFunctionReach {
  env: Env;
  /** Default: an engine that refuses; the delivery toolset passes Step Functions (functions/lib/workflows.ts). */
  workflows?: (deps: Deps) => WorkflowEngine;
}

export type ToolFunctionHandler = (event: unknown, context?: Pick<Context, 'awsRequestId'>) => Promise<ToolRunResult>;

export function createToolFunctionHandler(
  tools: readonly AnyTool[],
  opts: ToolFunctionOptions = { env: process.env },
): ToolFunctionHandler {
  const { env, workflows, ...reach } = opts;
  const core = createToolFunctionCore(tools, {
    env,
    log: hostLogger(env, 'tool'),
    loadConfig: (e) => loadCloudConfig(e, REQUIRED_SETTINGS.toolFunction),
    deps: (config) => lambdaDeps(config, env, createLogger(config.logLevel), { ...reach, workflows }),
  });
  return (event) => core(event);
}
