/**
 * The aws toolset's tool function bundle (see functions/lib/tool-function.ts): the EKS, EC2 and
 * CloudWatch tools and the AWS SDK clients they call; no Kubernetes client. TOOL_NAMES picks which of
 * them one deployed function serves.
 */

import { awsTools } from '../../shared/tools/aws/toolset.ts';
import { lambdaCloud } from '../lib/cloud.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The aws tools, in tools/list order. */
export const tools = awsTools;

/** What the toolset's functions reach: the AWS accounts and regions of AWS_ACCOUNTS / AWS_REGIONS. */
export const reach: Omit<ToolFunctionOptions, 'env'> = { cloud: lambdaCloud };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
