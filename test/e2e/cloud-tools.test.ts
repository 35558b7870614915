/**
 * The aws toolset end to end on the local host (issue 13): MCP clients over HTTP, the host's own
 * cloud inventory (local/cloud.ts: the adapter imported on first use, AWS_REGIONS and
 * AWS_ENDPOINT_URL from the settings) against moto_server. An operator lists instances, stops an
 * unprotected one, is asked for an approval for an `env=prod` one, cannot approve it herself; an
 * approver does, and her repeated call stops it, once. Both eras see the same tools.
 */
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/k8s-harness.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

const REGION = 'eu-west-1';
const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

describe('aws tools on the local host, against moto_server', () => {
  let moto: MotoServer;
  let h: Harness;
  let ec2: EC2Client;
  const ids: Record<string, string> = {};
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    moto = await startMoto();
    // The SDK's default credential chain reads the process environment, as on a laptop.
    for (const [k, v] of Object.entries(KEYS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    ec2 = new EC2Client({
      region: REGION,
      endpoint: moto.url,
      credentials: { accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY },
    });
    for (const [name, env] of [
      ['batch', 'dev'],
      ['web', 'prod'],
    ] as const) {
      const out = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'Name', Value: name },
                { Key: 'env', Value: env },
              ],
            },
          ],
        }),
      );
      ids[name] = out.Instances?.[0]?.InstanceId as string;
    }
    h = await startHarness(
      { TOOLSETS: 'core,ops,aws', AWS_REGIONS: REGION, AWS_ENDPOINT_URL: moto.url },
      { auth: true },
    );
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await moto?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const stateOf = async (id: string) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State
      ?.Name;

  it('lists the aws tools in both eras and the instances of the configured region', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const viewer = await h.as('vic', 'cloudops:read', era);
      const names = (await viewer.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['aws_ec2_instances_list', 'aws_eks_clusters_describe']));
      // A viewer does not see the writes.
      expect(names).not.toContain('aws_ec2_instances_stop');
    }
    const list = await h.ok<{ count: number; items: Array<{ id: string; name: string }> }>('aws_ec2_instances_list');
    expect(list.items.map((i) => i.name).sort()).toEqual(['batch', 'web']);
    expect(list._text).toContain(ids.web);
  });

  it('stops an unprotected instance; a protected one waits for someone else to approve, then stops once', async () => {
    const batch = ids.batch as string;
    const web = ids.web as string;
    const preview = await h.ok('aws_ec2_instances_stop', { instanceIds: [batch], dryRun: true });
    expect(preview.status).toBe('preview');
    expect(await stateOf(batch)).toBe('running');
    expect((await h.ok('aws_ec2_instances_stop', { instanceIds: [batch] })).status).toBe('done');
    expect(await stateOf(batch)).toBe('stopped');

    const asked = await h.ok<{ status: string; approvalId: string; changeHash: string }>('aws_ec2_instances_stop', {
      instanceIds: [web],
      reason: 'resize',
    });
    expect(asked.status).toBe('approval_required');
    expect(asked._text).toContain('env=prod');
    expect(await stateOf(web)).toBe('running');

    // Alice (write + approve) may not approve her own request.
    const alice = await h.as('alice', 'cloudops:write cloudops:approve');
    const own = await alice.call('ops_approvals_decide', {
      operationId: asked.approvalId,
      decision: 'approve',
      reason: 'mine',
    });
    expect(own.isError).toBe(true);
    expect(own.text).toContain('someone else must approve');
    // Before the approval, repeating the call with the id changes nothing.
    const early = await h.call('aws_ec2_instances_stop', { instanceIds: [web], approvalId: asked.approvalId });
    expect(early.isError).toBe(true);
    expect(await stateOf(web)).toBe('running');

    const bob = await h.as('bob', 'cloudops:approve');
    await bob.ok('ops_approvals_decide', {
      operationId: asked.approvalId,
      decision: 'approve',
      reason: 'maintenance window',
      changeHash: asked.changeHash,
    });
    expect((await h.ok('aws_ec2_instances_stop', { instanceIds: [web], approvalId: asked.approvalId })).status).toBe(
      'done',
    );
    expect(await stateOf(web)).toBe('stopped');
    // Used once: the same approval does not stop it again after a start.
    await ec2.send(new (await import('@aws-sdk/client-ec2')).StartInstancesCommand({ InstanceIds: [web] }));
    const again = await h.call('aws_ec2_instances_stop', { instanceIds: [web], approvalId: asked.approvalId });
    expect(again.isError).toBe(true);
    expect(await stateOf(web)).toBe('running');

    // Every call was audited with its outcome.
    const audit = await h.ok<{ events: Array<{ tool: string; outcome: string }> }>('audit_events_list', { limit: 50 });
    const stops = audit.events.filter((e) => e.tool === 'aws_ec2_instances_stop');
    expect(stops.length).toBeGreaterThanOrEqual(5);
    expect(new Set(stops.map((e) => e.outcome))).toEqual(new Set(['ok', 'error']));
  });
});
