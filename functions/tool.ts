/**
 * The tool function bundle of the `single` layout (see functions/lib/tool-function.ts): every
 * toolset's tools in one function, for operators who trade isolation for fewer cold starts.
 * TOOL_NAMES still says which tools the deployed function serves.
 */
import { lambdaCloud } from './lib/cloud.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { lambdaCostSources } from './lib/cost.ts';
import { lambdaNotifier } from './lib/notifier.ts';
import { createToolFunctionHandler } from './lib/tool-function.ts';
import { stepFunctionsWorkflows } from './lib/workflows.ts';
import { tools as alerts } from './tools/alerts.ts';
import { tools as aws } from './tools/aws.ts';
import { tools as core } from './tools/core.ts';
import { tools as cost } from './tools/cost.ts';
import { tools as delivery } from './tools/delivery.ts';
import { tools as drift } from './tools/drift.ts';
import { tools as k8s } from './tools/k8s.ts';
import { tools as ops } from './tools/ops.ts';

export const tools = [...core, ...k8s, ...delivery, ...ops, ...drift, ...alerts, ...cost, ...aws];

export const handler = createToolFunctionHandler(tools, {
  env: process.env,
  clusters: lambdaClusters,
  cloud: lambdaCloud,
  costSources: lambdaCostSources,
  workflows: stepFunctionsWorkflows,
  notifier: lambdaNotifier,
});
