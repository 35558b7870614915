import * as z from 'zod';
import { awsScope, CLOUD_PATTERNS } from '../../app/cloud/scope.ts';
import { AppError } from '../../app/errors.ts';
import type { Availability } from '../../ports/cloud.ts';
import { clip, cloudArgs, shaped } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

/** EKS cluster names: 1-100 characters, a letter or digit first (CreateCluster's pattern). */
const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** Node groups, add-ons and insights read per cluster at most. */
const MAX_ITEMS = 50;

export const awsEksClustersDescribeTool = defineTool({
  name: 'aws_eks_clusters_describe',
  title: 'Describe an EKS cluster',
  description:
    'One EKS cluster: version, status, node groups (types, sizes, versions), add-ons, upgrade insights. Use before an upgrade or to see why nodes lag. Give cluster (an eks: id from k8s_clusters_list) or name.',
  group: 'aws',
  access: 'read',
  input: z.object({
    cluster: z
      .string()
      .max(160)
      .refine((v) => /^eks:[^/]+\/[^/]+\/[^/]+$/.test(v), 'must be an eks:<account>/<region>/<name> id')
      .optional(),
    account: cloudArgs.account,
    region: cloudArgs.region,
    name: shaped(100, EKS_NAME, 'an EKS cluster name').optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const ref = target(input);
      const { aws, scope } = await awsScope(ctx.deps.cloud, ref, ctx.signal);
      const c = await aws.describeEksCluster(scope, ref.name, {
        maxItems: MAX_ITEMS,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const id = `eks:${scope.account}/${scope.region}/${c.name}`;
      const insightCounts = c.insights.available ? countBy(c.insights.items.map((i) => i.status ?? 'UNKNOWN')) : '';
      const heading =
        `EKS cluster ${c.name} (${id}): ${c.status}` +
        `${c.version ? `, Kubernetes ${c.version}` : ''}${c.platformVersion ? ` (${c.platformVersion})` : ''}` +
        `; node groups ${sizeOf(c.nodegroups)}; add-ons ${sizeOf(c.addons)}; upgrade insights ${sizeOf(c.insights)}` +
        (insightCounts ? ` (${insightCounts})` : '');
      const text = [
        heading,
        section('Node groups', c.nodegroups, (items) =>
          table(
            ['name', 'status', 'types', 'min', 'desired', 'max', 'version', 'capacity'],
            items.map((g) => ({
              name: g.name,
              status: g.status,
              types: g.instanceTypes.join(',') || '-',
              min: g.scaling.min ?? '-',
              desired: g.scaling.desired ?? '-',
              max: g.scaling.max ?? '-',
              version: g.version ?? '-',
              capacity: g.capacityType ?? '-',
            })),
          ),
        ),
        section('Add-ons', c.addons, (items) =>
          table(
            ['name', 'version', 'status'],
            items.map((a) => ({ name: a.name, version: a.version ?? '-', status: a.status })),
          ),
        ),
        section('Upgrade insights', c.insights, (items) =>
          table(
            ['id', 'name', 'category', 'status', 'target'],
            items.map((i) => ({
              id: i.id,
              name: clip(i.name, 80),
              category: i.category ?? '-',
              status: i.status ?? '-',
              target: i.kubernetesVersion ?? '-',
            })),
          ),
        ),
      ].join('\n');
      return fitRecord(
        text,
        { id, account: scope.account, region: scope.region, ...c },
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});

/** The account, region and name the call names: an eks: id, or a name (with account/region), never both. */
function target(input: {
  cluster?: string | undefined;
  account?: string | undefined;
  region?: string | undefined;
  name?: string | undefined;
}): {
  account?: string;
  region?: string;
  name: string;
} {
  if (input.cluster !== undefined) {
    if (input.name !== undefined || input.account !== undefined || input.region !== undefined) {
      throw new AppError('give either `cluster` (an eks: id) or `name` with `account`/`region`, not both');
    }
    const [account, region, name] = input.cluster.slice(4).split('/') as [string, string, string];
    if (!CLOUD_PATTERNS.account.test(account) || !CLOUD_PATTERNS.region.test(region) || !EKS_NAME.test(name)) {
      throw new AppError(
        `cluster ${clip(input.cluster, 160)} is not an EKS id: expected eks:<12-digit account>/<region>/<name>`,
      );
    }
    return { account, region, name };
  }
  if (input.name === undefined) {
    throw new AppError(
      'name the cluster: `cluster` (an eks: id from k8s_clusters_list) or `name` (with account/region)',
    );
  }
  return {
    name: input.name,
    ...(input.account !== undefined ? { account: input.account } : {}),
    ...(input.region !== undefined ? { region: input.region } : {}),
  };
}

function sizeOf(list: Availability<unknown>): string {
  return list.available ? `${list.items.length}${list.truncated ? '+' : ''}` : 'unavailable';
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

/** A list's section: its table, that it is empty or cut, or why it could not be read. */
function section<T>(title: string, list: Availability<T>, render: (items: T[]) => string): string {
  if (!list.available) return `${title}: unavailable (${clip(list.reason, 300)})`;
  if (list.items.length === 0) return `${title}: none`;
  const cut = list.truncated ? ` (first ${list.items.length}; more exist)` : '';
  return `${title}${cut}:\n${render(list.items)}`;
}
