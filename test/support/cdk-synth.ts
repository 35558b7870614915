import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { APP_CONTEXT, readSettings } from '../../cdk/settings.ts';
import { StatefulStack } from '../../cdk/stateful-stack.ts';
import { StatelessStack } from '../../cdk/stateless-stack.ts';

/*
 * The CDK app synthesized from a context, without bundling (the CLI synth test builds the bundles),
 * for infra tests that read the template: resources, and what each function's role may do.
 */

const ROOT = join(import.meta.dirname, '..', '..');

export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
export type Resource = { Type: string; Properties: Record<string, unknown> };
export const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

const outdirs: string[] = [];

/** Removes the synth output directories (call from afterAll). */
export function removeSynthOutputs(): void {
  for (const d of outdirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function synthStacks(ctx: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-synth-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const settings = readSettings((k) => ctx[k], ROOT);
  const stateful = new StatefulStack(app, 'CloudopsMcpStateful');
  const stack = new StatelessStack(app, 'CloudopsMcpStateless', { table: stateful.table, settings, repoRoot: ROOT });
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

/** The statements of the policies attached to one role. */
export const statementsOf = (resources: Record<string, Resource>, roleId: string): Statement[] =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

/** A function's role's logical id. */
export const roleIdOf = (fn: Resource): string =>
  (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
