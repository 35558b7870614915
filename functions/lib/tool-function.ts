/**
 * A tool function on AWS: invoked directly by the gateway (functions/mcp.ts, Lambda Invoke
 * RequestResponse; never through API Gateway) with one ToolInvocation, it runs the tool and answers
 * a ToolRunResult. The resource policy lets only the gateway invoke it; what it checks and runs is the
 * cloud-neutral core (shared/host/tool-function.ts) over DynamoDB and Secrets Manager. Each toolset
 * is one bundle (functions/tools/<toolset>.ts) that imports only its own tools.
 */
import type { Context } from 'aws-lambda';
import type { Deps } from '../../shared/app/deps.ts';
import { createToolFunctionCore } from '../../shared/host/tool-function.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { ToolRunResult } from '../../shared/ports/tool-runner.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import type { CloudFactory } from './cloud.ts';
import type { CostSourcesFactory } from './cost.ts';
import { type ClustersFactory, lambdaDeps } from './deps.ts';
import { type Env, hostLogger, loadCloudConfig, REQUIRED_SETTINGS, type SecretReader } from './host.ts';
import type { NotifierFactory } from './notifier.ts';

export interface ToolFunctionOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /**
   * The clusters the toolset reaches (lambdaClusters, functions/lib/clusters.ts); default none, so a
   * toolset that reaches no cluster (ops) bundles no Kubernetes client.
   */
  clusters?: ClustersFactory;
  /** Where alerts go (lambdaNotifier, functions/lib/notifier.ts); default none, so only the toolsets that send alerts bundle Slack. */
  notifier?: NotifierFactory;
  /** The clouds the toolset reaches (lambdaCloud, functions/lib/cloud.ts); default none, so only the aws toolset bundles EC2 and CloudWatch. */
  cloud?: CloudFactory;
  /** The spend sources the toolset reads (lambdaCostSources, functions/lib/cost.ts); default none, so only the cost toolset bundles Cost Explorer. */
  costSources?: CostSourcesFactory;
  /** Default: an engine that refuses; the delivery toolset passes Step Functions (functions/lib/workflows.ts). */
  workflows?: (deps: Deps) => WorkflowEngine;
}

export type ToolFunctionHandler = (event: unknown, context?: Pick<Context, 'awsRequestId'>) => Promise<ToolRunResult>;

export function createToolFunctionHandler(
  tools: readonly AnyTool[],
  opts: ToolFunctionOptions = { env: process.env },
): ToolFunctionHandler {
  const { env } = opts;
  const core = createToolFunctionCore(tools, {
    env,
    log: hostLogger(env, 'tool'),
    loadConfig: (e) => loadCloudConfig(e, REQUIRED_SETTINGS.toolFunction),
    deps: (config) =>
      lambdaDeps(config, env, createLogger(config.logLevel), {
        readSecret: opts.readSecret,
        workflows: opts.workflows,
        clusters: opts.clusters,
        notifier: opts.notifier,
        cloud: opts.cloud,
        costSources: opts.costSources,
      }),
  });
  return (event) => core(event);
}
