import * as z from 'zod';
import { awsScope, CLOUD_PATTERNS } from '../../app/cloud/scope.ts';
import { AppError } from '../../app/errors.ts';
import { humanDuration, parseTimestamp } from '../../domain/k8s/index.ts';
import type { Ec2Instance } from '../../ports/cloud.ts';
import { EC2_INSTANCE_STATES } from '../../ports/cloud.ts';
import { boundedRecord, boundPage, capMap, clip, cloudArgs, moreOf, shaped } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

/** Tags shown per instance (EC2 allows 50); the rest are counted. */
const TAGS_SHOWN = 8;
const TOOL = 'aws_ec2_instances_list';

export const awsEc2InstancesListTool = defineTool({
  name: TOOL,
  title: 'List EC2 instances',
  description:
    'EC2 instances of an account and region (state, type, zone, IP, age, tags), by state, tags or ids; paged. Use to find instances to act on or to see what runs where.',
  group: 'aws',
  access: 'read',
  input: z.object({
    account: cloudArgs.account,
    region: cloudArgs.region,
    states: z.array(z.enum(EC2_INSTANCE_STATES)).max(6).optional(),
    tags: boundedRecord('tags', { max: 10, key: 128, value: 256 }),
    instanceIds: z
      .array(shaped(19, CLOUD_PATTERNS.ec2InstanceId, 'an instance id (i-…)'))
      .max(100)
      .optional(),
    limit: z.number().int().min(5).max(200).default(50),
    continue: cloudArgs.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { aws, scope } = await awsScope(ctx.deps.cloud, input, ctx.signal);
      // An empty list filters nothing, as an absent one.
      const states: string[] | undefined = input.states?.length ? [...new Set(input.states)].sort() : undefined;
      const ids = input.instanceIds?.length ? [...new Set(input.instanceIds)].sort() : undefined;
      const tags = input.tags && Object.keys(input.tags).length ? input.tags : undefined;
      const now = ctx.deps.clock.now();
      const where = `${scope.account}/${scope.region}`;
      // Tag values may be 256 characters each: the heading keeps to a line.
      const filters = clip(
        [
          states ? `state ${states.join('|')}` : '',
          tags
            ? `tags ${Object.entries(tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')}`
            : '',
          ids ? `${ids.length} ids` : '',
        ]
          .filter(Boolean)
          .join('; '),
        300,
      );
      return boundPage<Ec2Instance>({
        query: { tool: TOOL, ...scope, states, tags, ids },
        continue: input.continue,
        limit: input.limit,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        // EC2 refuses MaxResults with InstanceIds: named instances are read whole (at most 100) and paged here.
        fetch: ids
          ? async (limit, token) => {
              const all = (await aws.getInstances(scope, ids, ctx.signal)).filter(
                (i) => (!states || states.includes(i.state)) && matches(i.tags, tags),
              );
              const from = token ? Number(token) : 0;
              if (!Number.isSafeInteger(from) || from < 0)
                throw new AppError('`continue` is not a token from this tool');
              const end = from + limit;
              return { items: all.slice(from, end), ...(end < all.length ? { nextToken: String(end) } : {}) };
            }
          : (limit, token) =>
              aws.listInstances({
                scope,
                ...(states ? { states } : {}),
                ...(tags ? { tags } : {}),
                limit,
                ...(token ? { nextToken: token } : {}),
                ...(ctx.signal ? { signal: ctx.signal } : {}),
              }),
        build(items, next) {
          const rows = items.map((i) => row(i, now));
          const more = moreOf(TOOL, 'instances', next);
          const byState = new Map<string, number>();
          for (const i of items) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
          const counts = [...byState].map(([s, n]) => `${s} ${n}`).join(', ');
          const heading =
            `EC2 instances in ${where}${filters ? ` (${filters})` : ''}: ${items.length}${next ? ' on this page' : ''}` +
            (counts ? ` (${counts})` : '');
          const text = [
            heading,
            more.line,
            table(
              ['id', 'name', 'state', 'type', 'zone', 'privateIp', 'age'],
              rows.map(({ tags: _t, tagsOmitted: _o, launched: _l, ...r }) => r),
            ),
          ]
            .filter(Boolean)
            .join('\n');
          return result(text, {
            account: scope.account,
            region: scope.region,
            count: items.length,
            ...more.fields,
            items: rows,
          });
        },
      });
    });
  },
});

function matches(have: Record<string, string>, want: Record<string, string> | undefined): boolean {
  return !want || Object.entries(want).every(([k, v]) => have[k] === v);
}

function row(i: Ec2Instance, now: number) {
  const launched = parseTimestamp(i.launchTime);
  const tags = capMap(i.tags, TAGS_SHOWN, ['Name']);
  return {
    id: i.id,
    name: i.name ? (i.name.length > 64 ? `${i.name.slice(0, 63)}…` : i.name) : '',
    state: i.state,
    type: i.type,
    zone: i.zone ?? '',
    privateIp: i.privateIp ?? '',
    ...(i.publicIp ? { publicIp: i.publicIp } : {}),
    age: launched === undefined ? '' : humanDuration(now - launched),
    ...(i.launchTime ? { launched: i.launchTime } : {}),
    tags: tags.shown,
    ...(tags.omitted ? { tagsOmitted: tags.omitted } : {}),
  };
}
