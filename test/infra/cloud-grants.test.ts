/**
 * The aws toolset on AWS (issue 13): each aws tool function may call exactly the AWS actions its
 * permission row names, on the resources AWS_ACTION_RESOURCES gives, in the deployment's own account
 * (awsRegions alone); with awsAccounts it may only assume the configured roles. Without either it gets
 * nothing. The gcp tools are not deployed on AWS. The drift check describes baselined EKS clusters.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_ACTION_RESOURCES, type AwsAction } from '../../cdk/tool-permissions.ts';
import {
  asList,
  type Resource,
  removeSynthOutputs,
  roleIdOf,
  statementsOf,
  synthStacks,
} from '../support/cdk-synth.ts';

const KUBECONFIG = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123';
const ROLE = 'arn:aws:iam::111111111111:role/cloudops-inventory';

afterAll(removeSynthOutputs);

function synth(ctx: Record<string, unknown>) {
  const { stack, resources } = synthStacks({
    kubeconfigSecretArn: KUBECONFIG,
    driftCheckSchedule: 'rate(1 hour)',
    ...ctx,
  });
  const grants = (construct: { node: { defaultChild?: unknown } } | undefined) => {
    const id = stack.getLogicalId(construct?.node.defaultChild as never);
    const fn = resources[id] as Resource;
    const statements = statementsOf(resources, roleIdOf(fn));
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    /** Cloud actions (not logs, table, secrets, X-Ray) with the resources each is granted on. */
    const cloud = statements
      .flatMap((st) => asList(st.Action).map((a) => ({ a, r: JSON.stringify(st.Resource) })))
      .filter(({ a }) => /^(ec2|eks|cloudwatch|sts):/.test(a));
    return { env, cloud, actions: cloud.map((c) => c.a).sort() };
  };
  return { stack, resources, grants };
}

const ROWS: Record<string, AwsAction[]> = {
  ToolAwsEc2InstancesList: ['ec2:DescribeInstances'],
  ToolAwsEc2InstancesStart: ['ec2:DescribeInstances', 'ec2:StartInstances'],
  ToolAwsEc2InstancesStop: ['ec2:DescribeInstances', 'ec2:StopInstances'],
  ToolAwsCloudwatchMetricsGet: ['cloudwatch:GetMetricData'],
  ToolAwsEksClustersDescribe: [
    'eks:DescribeAddon',
    'eks:DescribeCluster',
    'eks:DescribeNodegroup',
    'eks:ListAddons',
    'eks:ListInsights',
    'eks:ListNodegroups',
  ],
};

describe('the aws tools on AWS', () => {
  // One synth per context (each takes seconds): the own-account one serves two tests.
  let ownAccount: ReturnType<typeof synth> | undefined;
  const own = () => {
    ownAccount ??= synth({ awsRegions: 'eu-west-1' });
    return ownAccount;
  };

  it("in the deployment's own account (awsRegions): each function holds exactly its row's actions, scoped", () => {
    const s = own();
    for (const [id, actions] of Object.entries(ROWS)) {
      const g = s.grants(s.stack.toolFunctions[id]);
      expect(g.actions, id).toEqual([...actions].sort());
      for (const c of g.cloud) {
        const want = AWS_ACTION_RESOURCES[c.a as AwsAction];
        if (want === '*') expect(c.r, `${id} ${c.a}`).toBe('"*"');
        // Scoped to the partition and the deployment's own account, never another's.
        else expect(c.r, `${id} ${c.a}`).toContain('AWS::AccountId');
      }
      expect(g.env, id).toMatchObject({ AWS_REGIONS: 'eu-west-1' });
      expect(g.env.KUBECONFIG_SECRET, `${id} gets no kubeconfig`).toBeUndefined();
    }
    // Start and stop are refused on anything but instances.
    const stop = s.grants(s.stack.toolFunctions.ToolAwsEc2InstancesStop).cloud.find((c) => c.a === 'ec2:StopInstances');
    expect(stop?.r).toContain(':instance/*');
    // A k8s tool gets no EC2 or CloudWatch action; the drift check describes EKS clusters only.
    expect(s.grants(s.stack.toolFunctions.ToolK8sResourcesList).actions.filter((a) => !a.startsWith('eks:'))).toEqual(
      [],
    );
    const drift = s.grants(s.stack.functions.driftCheck).actions;
    expect(drift).toContain('eks:DescribeNodegroup');
    expect(drift.filter((a) => a.startsWith('ec2:') || a.startsWith('cloudwatch:'))).toEqual([]);
  });

  it('with awsAccounts: the functions only assume the configured roles, which decide in their accounts', () => {
    const s = synth({ awsAccounts: ROLE, awsRegions: 'eu-west-1' });
    for (const id of Object.keys(ROWS)) {
      const g = s.grants(s.stack.toolFunctions[id]);
      expect(g.actions, id).toEqual(['sts:AssumeRole']);
      expect(g.cloud[0]?.r, id).toBe(JSON.stringify(ROLE));
      expect(g.env, id).toMatchObject({ AWS_ACCOUNTS: ROLE, AWS_REGIONS: 'eu-west-1' });
    }
  });

  it('without awsAccounts or awsRegions the aws tool functions get no cloud action at all', () => {
    const s = synth({});
    for (const id of Object.keys(ROWS)) expect(s.grants(s.stack.toolFunctions[id]).actions, id).toEqual([]);
  });

  it('the gcp tools are not deployed on AWS', () => {
    const s = own();
    expect(Object.keys(s.stack.toolFunctions).filter((id) => id.startsWith('ToolGcp'))).toEqual([]);
    expect(
      Object.keys(s.stack.toolFunctions)
        .filter((id) => id.startsWith('ToolAws'))
        .sort(),
    ).toEqual(Object.keys(ROWS).sort());
  });
});
