/**
 * The AWS deployment: `npx cdk synth` (offline, no credentials needed) or `npm run deploy:aws`.
 * Settings come from CDK context (cdk.json or -c key=value); see docs/aws.md.
 */
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { APP_CONTEXT, readSettings } from './settings.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

const repoRoot = join(import.meta.dirname, '..');
const app = new App({ context: { ...APP_CONTEXT } });
const settings = readSettings((key) => app.node.tryGetContext(key), repoRoot);
// Environment-agnostic stacks: synth needs no account or credentials; deploy uses the CLI's profile and region.
const stateful = new StatefulStack(app, 'CloudopsMcpStateful');
new StatelessStack(app, 'CloudopsMcpStateless', { table: stateful.table, settings, repoRoot });
app.synth();
