// The drift functions describe EKS clusters only (cloud baselines): their bundles must not reach the EC2 or
// CloudWatch client (about 560 KB of EC2 alone, which took tools/drift from ~2.4 MB to 3 MB once). Built with
// esbuild exactly as CDK and bench/bundles.bench.ts build them (cdk/bundling.ts BUNDLE), nothing written;
// every module the build loaded is in the metafile, so a single import path back to aws-inventory.ts fails
// here. The aws toolset's bundle is the counter-check: it must hold both clients.
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, FUNCTION_ENTRIES } from '../../cdk/bundling.ts';
import { toolsetEntry } from '../../cdk/tool-functions.ts';
import { createEksInventory } from '../../shared/adapters/aws/aws-inventory-core.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EC2 = /(^|\/)node_modules\/@aws-sdk\/client-ec2\//;
const CLOUDWATCH = /(^|\/)node_modules\/@aws-sdk\/client-cloudwatch\//;
const EKS = /(^|\/)node_modules\/@aws-sdk\/client-eks\//;

const ENTRIES = {
  driftTools: toolsetEntry('drift'),
  driftCheck: FUNCTION_ENTRIES.driftCheck,
  awsTools: toolsetEntry('aws'),
} as const;

async function loaded(entry: string): Promise<string[]> {
  const res = await build({
    ...esbuildOptions(join(ROOT, entry), ROOT),
    outfile: join(ROOT, 'node_modules', '.cache', 'bundle-reach', 'index.mjs'),
    write: false,
  });
  return Object.keys((res.metafile as Metafile).inputs).map((p) => p.replace(/\\/g, '/'));
}

describe('which AWS clients each bundle carries', () => {
  const inputs = new Map<keyof typeof ENTRIES, string[]>();
  beforeAll(async () => {
    await Promise.all(
      Object.entries(ENTRIES).map(async ([key, entry]) => inputs.set(key as keyof typeof ENTRIES, await loaded(entry))),
    );
  });
  const of = (key: keyof typeof ENTRIES) => inputs.get(key) ?? [];

  it.each(['driftTools', 'driftCheck'] as const)('%s describes EKS without the EC2 or CloudWatch client', (key) => {
    expect(of(key).filter((p) => EC2.test(p) || CLOUDWATCH.test(p))).toEqual([]);
    expect(of(key).some((p) => EKS.test(p))).toBe(true);
    expect(of(key)).not.toContain('shared/adapters/aws/aws-inventory.ts');
    expect(of(key)).toContain('shared/adapters/aws/aws-inventory-core.ts');
  });

  it('the aws toolset carries EC2 and CloudWatch', () => {
    expect(of('awsTools').some((p) => EC2.test(p))).toBe(true);
    expect(of('awsTools').some((p) => CLOUDWATCH.test(p))).toBe(true);
    expect(of('awsTools')).toContain('shared/adapters/aws/aws-inventory.ts');
  });
});

describe('createEksInventory', () => {
  const SCOPE = { account: '123456789012', region: 'eu-west-1' };
  // A role account: its id comes from the ARN, so nothing here calls AWS.
  const eks = () =>
    createEksInventory({
      accounts: [{ roleArn: 'arn:aws:iam::123456789012:role/cloudops-read' }],
      regions: ['eu-west-1'],
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });

  it('refuses EC2 and CloudWatch by name, as Forbidden, before any argument check', async () => {
    const inv = eks();
    const calls: Array<[string, Promise<unknown>]> = [
      ['DescribeInstances', inv.listInstances({ scope: SCOPE, limit: 5 })],
      ['DescribeInstances', inv.getInstances(SCOPE, ['not-an-id'])],
      ['StartInstances/StopInstances', inv.powerInstances(SCOPE, 'stop', ['i-0123456789abcdef0'], { dryRun: true })],
      ['GetMetricData', inv.getMetricData(SCOPE, { queries: [], start: new Date(0), end: new Date(1), maxPoints: 1 })],
    ];
    for (const [op, call] of calls) {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CloudApiError);
      expect(err).toMatchObject({ provider: 'aws', code: 'Forbidden' });
      expect((err as Error).message).toMatch(new RegExp(`^${op}: this function does not carry (EC2|CloudWatch)`));
    }
  });

  it('keeps the core: options checked at construction, scopes and EKS against the configured accounts and regions', async () => {
    expect(() => createEksInventory({ accounts: [], regions: ['eu-west-1'] })).toThrow(/AWS accounts/);
    const inv = eks();
    await expect(inv.scopes()).resolves.toEqual({ accounts: ['123456789012'], regions: ['eu-west-1'] });
    await expect(inv.describeEksCluster({ ...SCOPE, region: 'us-east-1' }, 'prod')).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(/region us-east-1 is not configured/),
    });
  });
});
