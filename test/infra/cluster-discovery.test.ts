/**
 * EKS discovery on AWS (issue 13): with awsAccounts/awsRegions, the functions that reach clusters
 * (tool functions with a `kube` row, workflow-step, drift-check) get the discovery settings, may list
 * and describe EKS clusters and assume exactly the configured roles; nothing else does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  asList,
  type Resource,
  removeSynthOutputs,
  roleIdOf,
  statementsOf,
  synthStacks,
} from '../support/cdk-synth.ts';

const ROLE_A = 'arn:aws:iam::111111111111:role/cloudops-discovery';
const ROLE_B = 'arn:aws:iam::222222222222:role/ops/cloudops-discovery';
const CONTEXT = {
  kubeconfigSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123',
  driftCheckSchedule: 'rate(10 minutes)',
  awsAccounts: `${ROLE_A},${ROLE_B}`,
  awsRegions: 'eu-west-1,us-east-2',
  k8sImpersonate: 'true',
};

afterAll(removeSynthOutputs);

function synth(ctx: Record<string, unknown>) {
  const { stack, resources } = synthStacks(ctx);
  const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const grants = (fnId: string) => {
    const fn = resources[fnId] as Resource;
    const statements = statementsOf(resources, roleIdOf(fn));
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    const of = (action: string) =>
      statements.filter((st) => asList(st.Action).includes(action)).map((st) => st.Resource);
    return { env, of, actions: statements.flatMap((st) => asList(st.Action)) };
  };
  const idOf = (construct: { node: { defaultChild?: unknown } } | undefined) =>
    stack.getLogicalId(construct?.node.defaultChild as never);
  return { stack, fns, grants, idOf };
}

describe('EKS discovery on AWS (awsAccounts, awsRegions)', () => {
  const s = synth(CONTEXT);

  it('the functions that reach clusters list and describe EKS clusters and assume exactly the configured roles', () => {
    const reaching = [
      s.idOf(s.stack.toolFunctions.ToolK8sResourcesList),
      s.idOf(s.stack.toolFunctions.ToolK8sResourcesApply),
      s.idOf(s.stack.toolFunctions.ToolServerInfo),
      s.idOf(s.stack.toolFunctions.ToolDriftChecksRun),
      s.idOf(s.stack.functions.workflowStep),
      s.idOf(s.stack.functions.driftCheck),
    ];
    for (const id of reaching) {
      const g = s.grants(id);
      expect(g.of('eks:ListClusters'), id).toEqual(['*']);
      expect(JSON.stringify(g.of('eks:DescribeCluster')), id).toContain(':eks:*:*:cluster/*');
      expect(g.of('sts:AssumeRole'), id).toEqual([[ROLE_A, ROLE_B]]);
      expect(g.env, id).toMatchObject({
        AWS_ACCOUNTS: CONTEXT.awsAccounts,
        AWS_REGIONS: CONTEXT.awsRegions,
        K8S_IMPERSONATE: 'true',
      });
    }
  });

  it('nothing else: the gateway, the table-only tools and slack-free functions get no EKS, STS or discovery settings', () => {
    const others = [
      s.idOf(s.stack.functions.mcp),
      s.idOf(s.stack.toolFunctions.ToolOpsApprovalsList),
      s.idOf(s.stack.toolFunctions.ToolDriftFindingsList),
      s.idOf(s.stack.toolFunctions.ToolAuditEventsList),
    ];
    for (const id of others) {
      const g = s.grants(id);
      expect(
        g.actions.filter((a) => a.startsWith('eks:') || a.startsWith('sts:')),
        id,
      ).toEqual([]);
      expect(
        Object.keys(g.env).filter((k) => /^AWS_ACCOUNTS|^AWS_REGIONS|^K8S_IMPERSONATE/.test(k)),
        id,
      ).toEqual([]);
    }
  });

  it('without the settings no function may touch EKS or STS', () => {
    const plain = synth({ kubeconfigSecretArn: CONTEXT.kubeconfigSecretArn });
    for (const [id] of plain.fns) {
      expect(
        plain.grants(id).actions.filter((a) => a.startsWith('eks:') || a.startsWith('sts:')),
        id,
      ).toEqual([]);
    }
  });

  it('a bad role ARN, region or k8sImpersonate fails synth naming the context key', () => {
    expect(() => synth({ ...CONTEXT, awsAccounts: 'arn:aws:iam::12:role/x' })).toThrow(/awsAccounts/);
    expect(() => synth({ ...CONTEXT, awsRegions: 'Europe' })).toThrow(/awsRegions/);
    expect(() => synth({ ...CONTEXT, k8sImpersonate: 'yes' })).toThrow(/k8sImpersonate: true or false/);
  });
});
