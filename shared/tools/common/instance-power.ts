import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { PowerOutcome } from '../../app/cloud/power.ts';
import { CLOUD_PATTERNS } from '../../app/cloud/scope.ts';
import { TARGET_STATE } from '../../domain/guardrails/cloud.ts';
import { plural } from '../../domain/text.ts';
import { shaped } from './cloud-render.ts';
import { fitRecord } from './render.ts';

/*
 * What the four instance start/stop tools (aws_ec2_instances_start|stop, gcp_compute_instances_start|stop)
 * share: the arguments of a guarded write and the one rendering of its outcome (a preview, an
 * approval request, or what changed), the same data in text and structuredContent.
 */

/*
 * Ids and names are bounded in the schema and checked by form (shaped): tools/list is read on every
 * session, and each of these four entries stays under 900 bytes (hence no output schema either:
 * structuredContent.status says which of preview, approval_required, done it is).
 */
export const powerArgs = {
  approvalId: shaped(42, /^cloud-[0-9a-f-]{36}$/, 'an approvalId this tool answered (cloud-…)').optional(),
  reason: z.string().max(500).optional(),
};

export const gcpTarget = {
  project: shaped(100, CLOUD_PATTERNS.project, 'a GCP project id').optional(),
  zone: shaped(63, CLOUD_PATTERNS.zone, 'a Compute zone like us-central1-a'),
  names: z
    .array(shaped(63, CLOUD_PATTERNS.gcpName, 'an instance name'))
    .min(1)
    .max(50),
};

export const awsTarget = {
  account: shaped(12, CLOUD_PATTERNS.account, 'a 12-digit AWS account id').optional(),
  region: shaped(32, CLOUD_PATTERNS.region, 'an AWS region like eu-west-1').optional(),
  instanceIds: z
    .array(shaped(19, CLOUD_PATTERNS.ec2InstanceId, 'an instance id (i-…)'))
    .min(1)
    .max(50),
};

const PAST = { start: 'Started', stop: 'Stopped' } as const;
const NOUN = { aws: 'EC2 instance', gcp: 'Compute instance' } as const;

/**
 * The outcome of powerInstances as a tool result, bounded by `budget`: the short lines (what happened,
 * the approval id, what to do next) first, the per-instance lists after them, where a cut falls.
 */
export function renderPower(o: PowerOutcome, budget: number): CallToolResult {
  const noun = (n: number) => plural(n, NOUN[o.provider]);
  const target = TARGET_STATE[o.provider][o.action];
  const acting = o.instances.filter((i) => i.step === 'act').map((i) => ({ id: i.id, state: i.state }));
  const skipped = o.instances.filter((i) => i.step === 'skip').map((i) => ({ id: i.id, state: i.state }));
  const list = (items: Array<{ id: string; state: string }>) => items.map((i) => `${i.id} (${i.state})`).join(', ');
  const lists = (wouldChange: boolean) => [
    ...(wouldChange && acting.length ? [`Would ${o.action}: ${list(acting)}`] : []),
    ...(o.protectedBy.length
      ? [`Protected: ${o.protectedBy.map((p) => `${p.instance} ${p.tag}=${p.value}`).join(', ')}`]
      : []),
    ...(skipped.length ? [`Already ${target} (or on the way), left alone: ${list(skipped)}`] : []),
  ];
  const tags = [...new Set(o.protectedBy.map((p) => `${p.tag}=${p.value}`))].join(', ');
  const base = { provider: o.provider, action: o.action, scope: o.scope };

  if (o.kind === 'preview') {
    const approval = !o.approvalRequired
      ? 'no approval needed'
      : `approval required for ${o.protectedBy.length} protected (${tags}): ${o.approvalId ? `approval ${o.approvalId} is approved for this change and would be used` : 'without dryRun this call asks for one'}`;
    const lines = [
      `Dry run: would ${o.action} ${noun(acting.length)} in ${o.scope}; nothing was changed.`,
      `Policy: allowed; ${approval}.`,
      `${o.providerCheck.ok ? '' : 'Provider check failed: '}${o.providerCheck.message}`,
      ...lists(true),
    ];
    return fitRecord(
      lines.join('\n'),
      {
        status: 'preview',
        ...base,
        dryRun: true,
        approvalRequired: o.approvalRequired,
        ...(o.approvalId ? { approvalId: o.approvalId } : {}),
        providerCheck: o.providerCheck,
        changeHash: o.changeHash,
        wouldChange: acting,
        protectedBy: o.protectedBy,
        skipped,
      },
      budget,
    );
  }

  if (o.kind === 'approval_required') {
    const a = o.approval;
    const next = [
      `someone else with the approver role runs ops_approvals_decide with operationId "${a.operationId}" and changeHash "${a.changeHash}"`,
      `then repeat this call unchanged with approvalId "${a.operationId}" before ${a.expiresAt}`,
    ];
    const lines = [
      `Approval required to ${o.action} ${noun(acting.length)} in ${o.scope}: ${o.protectedBy.length} protected (${tags}); nothing was changed.`,
      `approvalId: ${a.operationId}`,
      `changeHash: ${a.changeHash}`,
      `Next: ${next.join('; ')}.`,
      ...lists(true),
    ];
    return fitRecord(
      lines.join('\n'),
      {
        status: 'approval_required',
        ...base,
        approvalId: a.operationId,
        changeHash: a.changeHash,
        expiresAt: a.expiresAt,
        next,
        wouldChange: acting,
        protectedBy: o.protectedBy,
        skipped,
      },
      budget,
    );
  }

  const changes = o.changes.map((c) => `${c.id} ${c.previous} → ${c.current}`).join(', ');
  const head =
    o.failed !== undefined
      ? [
          `${PAST[o.action]} ${o.changes.length} of ${noun(acting.length)} in ${o.scope}; ${o.failed.id} failed (${o.failed.code}): ${o.failed.message}`,
          ...(o.notAttempted?.length ? [`Not attempted: ${o.notAttempted.join(', ')}`] : []),
        ]
      : o.changes.length
        ? [`${PAST[o.action]} ${noun(o.changes.length)} in ${o.scope}.`]
        : [`Nothing to ${o.action} in ${o.scope}: every instance named is already ${target} (or on the way).`];
  const lines = [
    ...head,
    ...(o.approvalId ? [`Used approval ${o.approvalId}.`] : []),
    ...(changes ? [`Changed: ${changes}`] : []),
    ...(skipped.length && (o.changes.length || o.failed) ? [lists(false).at(-1) as string] : []),
  ];
  const r = fitRecord(
    lines.join('\n'),
    {
      status: 'done',
      ...base,
      changes: o.changes,
      skipped,
      ...(o.failed ? { failed: o.failed, notAttempted: o.notAttempted ?? [] } : {}),
      ...(o.approvalId ? { approvalId: o.approvalId } : {}),
    },
    budget,
  );
  return o.failed ? { ...r, isError: true } : r;
}
