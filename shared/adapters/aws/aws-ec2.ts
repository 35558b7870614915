import {
  DescribeInstancesCommand,
  EC2Client,
  type Filter,
  type Instance,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { type AwsScope, CloudApiError, EC2_INSTANCE_STATES, type Ec2Instance, type Page } from '../../ports/cloud.ts';
import { type AwsCore, type AwsPart, type Ec2Operations, invalid } from './aws-inventory-core.ts';

/*
 * The EC2 part of the AWS inventory (aws-inventory-core.ts): DescribeInstances, StartInstances and
 * StopInstances. Only hosts that hand it to the core (createAwsInventory) bundle the EC2 client.
 */

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const STATES = new Set<string>(EC2_INSTANCE_STATES);
/** Instance ids in one call (listInstances, getInstances, powerInstances). */
const MAX_IDS = 1000;
const MAX_TAG_FILTERS = 50;
const MAX_TOKEN = 8192;

export const ec2Part: AwsPart<Ec2Operations> = (core: AwsCore) => {
  const ec2 = (scope: AwsScope, signal: AbortSignal) =>
    core.client(scope, 'ec2', (config) => new EC2Client(config), signal);

  return {
    async listInstances(query) {
      const { limit, nextToken, ids, states, tags } = query;
      if (!(Number.isInteger(limit) && limit >= 5 && limit <= 1000)) throw invalid('limit must be an integer 5..1000');
      if (nextToken !== undefined && (typeof nextToken !== 'string' || !nextToken || nextToken.length > MAX_TOKEN)) {
        throw invalid(`nextToken must be the token a previous page returned (at most ${MAX_TOKEN} characters)`);
      }
      // EC2 refuses MaxResults beside InstanceIds, so ids go in as a filter: pages, and no NotFound.
      const filters: Filter[] = [];
      if (ids !== undefined) filters.push({ Name: 'instance-id', Values: checkIds(ids) });
      if (states !== undefined) {
        if (!Array.isArray(states) || states.length === 0 || states.some((s) => !STATES.has(s))) {
          throw invalid(`states: one or more of ${[...STATES].join(', ')}`);
        }
        filters.push({ Name: 'instance-state-name', Values: [...new Set(states)] });
      }
      if (tags !== undefined) {
        const entries = Object.entries(tags);
        if (entries.length > MAX_TAG_FILTERS) throw invalid(`tags: at most ${MAX_TAG_FILTERS}`);
        for (const [k, v] of entries) {
          if (!k || k.length > 128 || typeof v !== 'string' || v.length > 256) {
            throw invalid('tags: keys of 1-128 characters, values of at most 256');
          }
          filters.push({ Name: `tag:${k}`, Values: [v] });
        }
      }
      return core.call('EC2', 'DescribeInstances', query.signal, async (s) => {
        const out = await (await ec2(query.scope, s)).send(
          new DescribeInstancesCommand({
            Filters: filters.length ? filters : undefined,
            MaxResults: limit,
            NextToken: nextToken,
          }),
          { abortSignal: s },
        );
        const page: Page<Ec2Instance> = {
          items: (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map(toInstance)),
        };
        if (out.NextToken) page.nextToken = out.NextToken;
        return page;
      });
    },

    async getInstances(scope, ids, signal) {
      const wanted = checkIds(ids);
      return core.call('EC2', 'DescribeInstances', signal, async (s) => {
        const client = await ec2(scope, s);
        const found = new Map<string, Ec2Instance>();
        let token: string | undefined;
        do {
          // With InstanceIds EC2 answers every one or InvalidInstanceID.NotFound naming the missing.
          const out = await client.send(new DescribeInstancesCommand({ InstanceIds: wanted, NextToken: token }), {
            abortSignal: s,
          });
          for (const r of out.Reservations ?? [])
            for (const i of r.Instances ?? []) found.set(i.InstanceId ?? '', toInstance(i));
          token = out.NextToken ?? undefined;
        } while (token);
        const missing = wanted.filter((id) => !found.has(id));
        if (missing.length) {
          throw new CloudApiError(
            'aws',
            'NotFound',
            `DescribeInstances: no instance ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} in ${scope.account}/${scope.region}`,
            'InvalidInstanceID.NotFound',
          );
        }
        return wanted.map((id) => found.get(id) as Ec2Instance);
      });
    },

    async powerInstances(scope, action, ids, opts) {
      if (action !== 'start' && action !== 'stop') throw invalid('action must be start or stop');
      if (typeof opts?.dryRun !== 'boolean') throw invalid('dryRun must be true or false');
      const wanted = checkIds(ids);
      const op = action === 'start' ? 'StartInstances' : 'StopInstances';
      return core.call('EC2', op, opts.signal, async (s) => {
        const client = await ec2(scope, s);
        const input = { InstanceIds: wanted, DryRun: opts.dryRun || undefined };
        let changes: Array<{
          InstanceId?: string;
          PreviousState?: { Name?: string };
          CurrentState?: { Name?: string };
        }>;
        try {
          changes =
            action === 'start'
              ? ((await client.send(new StartInstancesCommand(input), { abortSignal: s })).StartingInstances ?? [])
              : ((await client.send(new StopInstancesCommand(input), { abortSignal: s })).StoppingInstances ?? []);
        } catch (err) {
          // EC2's answer to a dry run that would have succeeded is this error.
          if (opts.dryRun && (err as Error).name === 'DryRunOperation') return { dryRun: true, changes: [] };
          throw err;
        }
        if (opts.dryRun) {
          throw new CloudApiError('aws', 'Internal', `${op}: the endpoint ignored DryRun and changed the instances`);
        }
        return {
          dryRun: false,
          changes: changes.map((c) => ({
            id: c.InstanceId ?? '',
            previous: c.PreviousState?.Name ?? 'unknown',
            current: c.CurrentState?.Name ?? 'unknown',
          })),
        };
      });
    },
  };
};

function toInstance(i: Instance): Ec2Instance {
  const tags: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  const out: Ec2Instance = {
    id: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    type: i.InstanceType ?? 'unknown',
    tags,
  };
  if (tags.Name !== undefined) out.name = tags.Name;
  if (i.Placement?.AvailabilityZone) out.zone = i.Placement.AvailabilityZone;
  if (i.PrivateIpAddress) out.privateIp = i.PrivateIpAddress;
  if (i.PublicIpAddress) out.publicIp = i.PublicIpAddress;
  if (i.LaunchTime) out.launchTime = i.LaunchTime.toISOString();
  return out;
}

function checkIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS) {
    throw invalid(`instance ids: give 1 to ${MAX_IDS}`);
  }
  for (const id of ids) {
    if (typeof id !== 'string' || !INSTANCE_ID.test(id)) {
      throw invalid(`not an EC2 instance id: ${String(id).slice(0, 40)} (i- and 8 or 17 hex digits)`);
    }
  }
  return [...new Set(ids as string[])];
}
