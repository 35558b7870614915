import * as z from 'zod';
import { CLOUD_PATTERNS, gcpProject } from '../../app/cloud/scope.ts';
import type { GcpInstance } from '../../ports/cloud.ts';
import { GCP_INSTANCE_STATUSES } from '../../ports/cloud.ts';
import { boundedRecord, boundPage, capMap, clip, cloudArgs, moreOf, shaped } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

/** Labels shown per instance (Compute allows 64); the rest are counted. */
const LABELS_SHOWN = 8;
const TOOL = 'gcp_compute_instances_list';
const LABEL = {
  keyPattern: /^[a-z][a-z0-9_-]*$/,
  valuePattern: /^[a-z0-9_-]*$/,
  rule: 'lowercase letters, digits, _ and - only, keys starting with a letter',
};

export const gcpComputeInstancesListTool = defineTool({
  name: TOOL,
  title: 'List Compute Engine instances',
  description:
    'Compute Engine VMs of a project, one zone or all (status, machine type, IPs, labels), by status or labels; paged. Use to find VMs to act on or to see what runs where.',
  group: 'gcp',
  access: 'read',
  input: z.object({
    project: cloudArgs.project,
    zone: shaped(40, CLOUD_PATTERNS.zone, 'a Compute zone like us-central1-a').optional(),
    statuses: z.array(z.enum(GCP_INSTANCE_STATUSES)).max(9).optional(),
    // Label keys and values as Compute allows them (an ASCII subset): they end up in a filter expression.
    labels: boundedRecord('labels', { max: 10, key: 63, value: 63, ...LABEL }),
    limit: z.number().int().min(1).max(200).default(50),
    continue: cloudArgs.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { gcp, project } = gcpProject(ctx.deps.cloud, input.project);
      const statuses = input.statuses?.length ? [...new Set(input.statuses)].sort() : undefined;
      const labels = input.labels && Object.keys(input.labels).length ? input.labels : undefined;
      // Tag values may be 256 characters each: the heading keeps to a line.
      const filters = clip(
        [
          statuses ? `status ${statuses.join('|')}` : '',
          labels
            ? `labels ${Object.entries(labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')}`
            : '',
        ]
          .filter(Boolean)
          .join('; '),
        300,
      );
      const where = `${project}${input.zone ? `/${input.zone}` : ' (all zones)'}`;
      return boundPage<GcpInstance>({
        query: { tool: TOOL, project, zone: input.zone, statuses, labels },
        continue: input.continue,
        limit: input.limit,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        fetch: (limit, token) =>
          gcp.listInstances({
            project,
            ...(input.zone ? { zone: input.zone } : {}),
            ...(statuses ? { statuses } : {}),
            ...(labels ? { labels } : {}),
            limit,
            ...(token ? { nextToken: token } : {}),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          }),
        build(items, next) {
          const rows = items.map(row);
          const more = moreOf(TOOL, 'instances', next);
          const byStatus = new Map<string, number>();
          for (const i of items) byStatus.set(i.status, (byStatus.get(i.status) ?? 0) + 1);
          const counts = [...byStatus].map(([s, n]) => `${s} ${n}`).join(', ');
          const heading =
            `Compute instances in ${where}${filters ? ` (${filters})` : ''}: ${items.length}${next ? ' on this page' : ''}` +
            (counts ? ` (${counts})` : '');
          const text = [
            heading,
            more.line,
            table(
              ['name', 'zone', 'status', 'machineType', 'internalIp', 'externalIp'],
              rows.map(({ labels: _l, labelsOmitted: _o, ...r }) => r),
            ),
          ]
            .filter(Boolean)
            .join('\n');
          return result(text, { project, count: items.length, ...more.fields, items: rows });
        },
      });
    });
  },
});

function row(i: GcpInstance) {
  const labels = capMap(i.labels, LABELS_SHOWN);
  return {
    name: i.name,
    zone: i.zone,
    status: i.status,
    machineType: clip(i.machineType, 64),
    internalIp: i.internalIp ?? '',
    externalIp: i.externalIp ?? '',
    ...(i.created ? { created: i.created } : {}),
    labels: labels.shown,
    ...(labels.omitted ? { labelsOmitted: labels.omitted } : {}),
  };
}
