import { beforeEach, describe, expect, it } from 'vitest';
import { listCatalog } from '../../scripts/tool-manifest.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { powerInstances } from '../../shared/app/cloud/power.ts';
import { buildDeps, type Deps } from '../../shared/app/deps.ts';
import { AppError, RefusedError } from '../../shared/app/errors.ts';
import { ApprovalError } from '../../shared/app/repos/approvals.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { parsePolicy } from '../../shared/domain/guardrails/policy.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { catalogTool } from '../../shared/mcp/endpoint.ts';
import { executeTool } from '../../shared/mcp/tool-runner.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import type { Store } from '../../shared/ports/store.ts';
import type { ToolRunResult } from '../../shared/ports/tool-runner.ts';
import { awsEc2InstancesStartTool } from '../../shared/tools/aws/ec2-instances-start.tool.ts';
import { awsEc2InstancesStopTool } from '../../shared/tools/aws/ec2-instances-stop.tool.ts';
import { gcpComputeInstancesStartTool } from '../../shared/tools/gcp/compute-instances-start.tool.ts';
import { gcpComputeInstancesStopTool } from '../../shared/tools/gcp/compute-instances-stop.tool.ts';
import { opsApprovalsDecideTool } from '../../shared/tools/ops/approvals-decide.tool.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import { FakeAwsInventory, FakeGcpInventory } from '../support/fake-cloud-inventory.ts';

/*
 * aws_ec2_instances_start|stop and gcp_compute_instances_start|stop over the real use case, the real
 * approvals repository on a MemoryStore and the tool runner (strict arguments, roles), against
 * in-memory inventories that refuse as EC2 and Compute do and count every call.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const SCOPE = { account: ACCOUNT, region: REGION };
const PROJECT = 'shop-prod-1';
const ZONE = 'europe-west1-b';
const WEB = 'i-0a1b2c3d4e5f60001';
const DB = 'i-0a1b2c3d4e5f60002';
const API = 'i-0a1b2c3d4e5f60003';
const OLD = 'i-0a1b2c3d4e5f60004';
const BASTION = 'i-0a1b2c3d4e5f60005';

const alice: Identity = { subject: 'user:alice', name: 'alice', roles: ['operator', 'approver'], method: 'apiKey' };
const bob: Identity = { subject: 'user:bob', name: 'bob', roles: ['approver'], method: 'apiKey' };
const dave: Identity = { subject: 'user:dave', name: 'dave', roles: ['operator'], method: 'apiKey' };

let now = Date.parse('2026-12-07T10:00:00Z');
const clock = { now: () => now };
let aws: FakeAwsInventory;
let gcp: FakeGcpInventory;
let deps: Deps;
let seq = 0;

function setup(policyYaml = '', accounts = [ACCOUNT], env: Record<string, string> = {}): void {
  aws = new FakeAwsInventory(accounts, [REGION]);
  aws.add(SCOPE, { id: WEB, state: 'running', tags: { Name: 'web', env: 'dev' } });
  aws.add(SCOPE, { id: DB, state: 'running', tags: { Name: 'db', env: 'prod' } });
  aws.add(SCOPE, { id: API, state: 'stopped', tags: { Name: 'api', environment: 'production' } });
  aws.add(SCOPE, { id: OLD, state: 'terminated', tags: {} });
  aws.add(SCOPE, { id: BASTION, state: 'running', tags: { role: 'bastion' } });
  aws.add({ account: '210987654321', region: REGION }, { id: WEB, state: 'running', tags: {} });
  gcp = new FakeGcpInventory([PROJECT]);
  gcp.add(PROJECT, { name: 'web-1', zone: ZONE, status: 'RUNNING', labels: { env: 'dev' } });
  gcp.add(PROJECT, { name: 'web-2', zone: ZONE, status: 'RUNNING', labels: { env: 'dev' } });
  gcp.add(PROJECT, { name: 'web-3', zone: ZONE, status: 'RUNNING', labels: {} });
  gcp.add(PROJECT, { name: 'db-1', zone: ZONE, status: 'RUNNING', labels: { env: 'prod' } });
  gcp.add(PROJECT, { name: 'batch-1', zone: ZONE, status: 'TERMINATED', labels: {} });
  const config = loadConfig({ STORE: 'memory', LOG_LEVEL: 'silent', ...env });
  deps = buildDeps(config, networked(new MemoryStore(clock)), createLogger('silent'), {
    metrics: new PrometheusSource(undefined),
    clusters: {
      list: async () => [],
      defaultCluster: async () => undefined,
      client: async () => Promise.reject(new Error('no clusters in this test')),
    },
    policy: parsePolicy(policyYaml),
    workflows: () => ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
    cloud: { aws, gcp },
    clock,
  });
}

/**
 * The store as a network store behaves: every call yields a turn of the event loop, so concurrent
 * callers' reads and writes interleave as they do against DynamoDB or Firestore.
 */
function networked(store: Store): Store {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  return {
    kind: store.kind,
    get: async (pk, sk) => turn().then(() => store.get(pk, sk)),
    put: async (item, condition) => turn().then(() => store.put(item, condition)),
    delete: async (pk, sk, condition) => turn().then(() => store.delete(pk, sk, condition)),
    query: async (input) => turn().then(() => store.query(input)),
    close: () => store.close(),
  };
}

async function call(tool: AnyTool, who: Identity, args: Record<string, unknown>): Promise<ToolRunResult> {
  return executeTool(tool, { v: 1, tool: tool.name, args, caller: who, requestId: `req-${++seq}` }, { deps });
}

/** The tool's answer (a run that got to the handler). */
async function answerOf(tool: AnyTool, who: Identity, args: Record<string, unknown>) {
  const r = await call(tool, who, args);
  if (!r.ok) throw new Error(`run failed: ${r.error.kind}: ${r.error.message}`);
  const first = r.result.content[0] as { text: string };
  return {
    text: first.text,
    data: (r.result.structuredContent ?? {}) as Record<string, unknown>,
    isError: !!r.result.isError,
  };
}

const stopDb = (extra: Record<string, unknown> = {}) =>
  answerOf(awsEc2InstancesStopTool, alice, { instanceIds: [DB, WEB], ...extra });

/** Alice asks to stop db (env=prod) and web; bob approves; the approval id. */
async function approvedStop(): Promise<string> {
  const asked = await stopDb({ reason: 'maintenance window' });
  expect(asked.data.status).toBe('approval_required');
  const approvalId = asked.data.approvalId as string;
  const decided = await answerOf(opsApprovalsDecideTool, bob, {
    operationId: approvalId,
    decision: 'approve',
    reason: 'window agreed',
    changeHash: asked.data.changeHash,
  });
  expect(decided.isError, decided.text).toBe(false);
  return approvalId;
}

beforeEach(() => {
  now = Date.parse('2026-12-07T10:00:00Z');
  setup();
});

describe('aws_ec2_instances_stop / start', () => {
  it('stops unprotected instances at once and reports the state changes', async () => {
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB] });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toBe(`Stopped 1 EC2 instance in ${ACCOUNT}/${REGION}.\nChanged: ${WEB} running → stopping`);
    expect(r.data).toMatchObject({ status: 'done', changes: [{ id: WEB, previous: 'running', current: 'stopping' }] });
    expect(aws.state(SCOPE, WEB)).toBe('stopping');
    expect(aws.calls.power).toBe(1);
  });

  it('reports instances already in the target state without acting on them', async () => {
    aws.add(SCOPE, { id: 'i-0000000000000000a', state: 'stopped', tags: {} });
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, 'i-0000000000000000a'] });
    expect(r.data.changes).toEqual([{ id: WEB, previous: 'running', current: 'stopping' }]);
    expect(r.data.skipped).toEqual([{ id: 'i-0000000000000000a', state: 'stopped' }]);
    expect(aws.changes.map((c) => c.id)).toEqual([WEB]);
    const none = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: ['i-0000000000000000a'] });
    expect(none.text).toMatch(/^Nothing to stop in .*: every instance named is already stopped/);
    expect(aws.calls.power).toBe(1);
  });

  it('asks for an approval for a protected instance and changes nothing', async () => {
    const r = await stopDb({ reason: 'maintenance window' });
    expect(r.isError).toBe(false);
    expect(r.data).toMatchObject({
      status: 'approval_required',
      protectedBy: [{ instance: DB, tag: 'env', value: 'prod' }],
    });
    expect(r.data.approvalId).toMatch(/^cloud-[0-9a-f-]{36}$/);
    expect(r.data.changeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.text).toContain(`ops_approvals_decide with operationId "${r.data.approvalId}"`);
    expect(r.text).toContain(`repeat this call unchanged with approvalId "${r.data.approvalId}"`);
    expect(aws.calls.power + aws.calls.dryRun).toBe(0);
    expect(aws.state(SCOPE, DB)).toBe('running');
    expect(aws.state(SCOPE, WEB)).toBe('running');
    const stored = await deps.approvals.get(r.data.approvalId as string);
    expect(stored).toMatchObject({
      status: 'pending',
      summary: `stop 2 EC2 instances in ${ACCOUNT}/${REGION}: ${DB}, ${WEB} (env=prod)`,
      requester: { subject: alice.subject, name: 'alice' },
      reason: 'maintenance window',
      changeHash: r.data.changeHash,
      expiresAt: new Date(now + 3600_000).toISOString(),
    });
    // Repeating it with the approval still pending says what is missing.
    const early = await stopDb({ approvalId: r.data.approvalId });
    expect(early.isError).toBe(true);
    expect(early.text).toMatch(
      /is not decided yet: someone else with the approver role decides it with ops_approvals_decide/,
    );
    expect(aws.calls.power).toBe(0);
  });

  it('refuses the requester approving their own request, through ops_approvals_decide', async () => {
    const asked = await stopDb();
    const self = await answerOf(opsApprovalsDecideTool, alice, {
      operationId: asked.data.approvalId,
      decision: 'approve',
      reason: 'looks fine to me',
    });
    expect(self.isError).toBe(true);
    expect(self.text).toBe('you requested this change: someone else must approve or reject it');
    expect((await deps.approvals.get(asked.data.approvalId as string))?.status).toBe('pending');
  });

  it('acts once another person approved and the requester repeats the call; the approval is then used up', async () => {
    const approvalId = await approvedStop();
    // A dry run with the approval checks it without using it.
    const preview = await stopDb({ approvalId, dryRun: true });
    expect(preview.data).toMatchObject({ status: 'preview', approvalRequired: true, approvalId });
    expect(preview.text).toContain(`approval ${approvalId} is approved for this change and would be used`);
    expect((await deps.approvals.get(approvalId))?.status).toBe('approved');
    expect(aws.calls.power).toBe(0);
    const r = await stopDb({ approvalId });
    expect(r.isError, r.text).toBe(false);
    expect(r.data).toMatchObject({ status: 'done', approvalId });
    expect(r.data.changes).toEqual([
      { id: DB, previous: 'running', current: 'stopping' },
      { id: WEB, previous: 'running', current: 'stopping' },
    ]);
    expect(r.text).toContain(`Used approval ${approvalId}.`);
    expect(aws.calls.power).toBe(1);
    const used = await deps.approvals.get(approvalId);
    expect(used?.status).toBe('closed');
    expect(used?.closed).toMatchObject({ operationStatus: 'completed' });
    expect(used?.closed?.reason).toMatch(/^used by req-\d+$/);

    // Used once: the same call with the same approval is refused, and nothing more is changed.
    aws.settle();
    aws.add(SCOPE, { id: DB, state: 'running', tags: { env: 'prod' } });
    const again = await stopDb({ approvalId });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(new RegExp(`approval ${approvalId} was already used \\(used by req-\\d+\\)`));
    expect(aws.calls.power).toBe(1);
    expect(aws.state(SCOPE, DB)).toBe('running');
  });

  it('refuses an approval used for other instances (another change hash)', async () => {
    const approvalId = await approvedStop();
    const other = await answerOf(awsEc2InstancesStopTool, alice, { instanceIds: [DB], approvalId });
    expect(other.isError).toBe(true);
    expect(other.text).toMatch(
      /approves another change \(stop 2 EC2 instances .*\); this call's change hash is [0-9a-f]{12}…/,
    );
    const otherAction = await answerOf(awsEc2InstancesStartTool, alice, { instanceIds: [DB, WEB], approvalId });
    expect(otherAction.isError).toBe(true);
    expect(aws.calls.power).toBe(0);
    // Still usable for the change it approved, in any order of ids.
    const r = await answerOf(awsEc2InstancesStopTool, alice, { instanceIds: [WEB, DB], approvalId });
    expect(r.data.status, r.text).toBe('done');
    expect(aws.calls.power).toBe(1);
  });

  it("refuses another operator using someone else's approval", async () => {
    const approvalId = await approvedStop();
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [DB, WEB], approvalId });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/was requested by alice; only they can use it/);
    expect(aws.calls.power).toBe(0);
    expect((await deps.approvals.get(approvalId))?.status).toBe('approved');
  });

  it('refuses an expired approval, and a rejected one', async () => {
    const approvalId = await approvedStop();
    now += 3600_000;
    const r = await stopDb({ approvalId });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/expired at 2026-12-07T11:00:00.000Z; repeat this call without approvalId/);
    await expect(deps.approvals.consume(approvalId, r.data.changeHash as string, 'x')).rejects.toThrow(ApprovalError);

    const asked = await stopDb();
    await answerOf(opsApprovalsDecideTool, bob, {
      operationId: asked.data.approvalId,
      decision: 'reject',
      reason: 'not during the sale',
    });
    const rejected = await stopDb({ approvalId: asked.data.approvalId });
    expect(rejected.text).toMatch(/was rejected by bob \(not during the sale\)/);
    expect(aws.calls.power).toBe(0);
    // An approval id nobody issued.
    const unknown = await stopDb({ approvalId: 'cloud-00000000-0000-4000-8000-000000000000' });
    expect(unknown.text).toMatch(/^no approval cloud-0{8}/);
  });

  it('of concurrent calls holding one approval, exactly one changes anything', async () => {
    const approvalId = await approvedStop();
    const results = await Promise.all(Array.from({ length: 8 }, () => stopDb({ approvalId })));
    const acted = results.filter((r) => r.data.status === 'done');
    expect(acted).toHaveLength(1);
    expect(results.filter((r) => r.isError && /already used/.test(r.text))).toHaveLength(7);
    expect(aws.calls.power).toBe(1);
    expect(aws.changes).toHaveLength(2);
  });

  it('Approvals.consume is a compare-and-set: of parallel consumers one wins', async () => {
    const asked = await stopDb();
    const id = asked.data.approvalId as string;
    await deps.approvals.decide({ operationId: id, approver: bob, decision: 'approve', reason: 'fine' });
    const hash = asked.data.changeHash as string;
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => deps.approvals.consume(id, hash, `r${i}`)),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of settled.filter((s) => s.status === 'rejected'))
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(ApprovalError);
  });

  it('refuses a denied tag before any write reaches EC2', async () => {
    setup('cloud: { deniedTags: { role: [bastion] } }');
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, BASTION], dryRun: true });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(
      /^Dry run: stop of 2 EC2 instances in .* refused by the cloud policy \(1\); nothing was changed/,
    );
    expect(r.text).toContain(`cloud/denied-tag (${BASTION}): ${BASTION} is tagged role=bastion`);
    expect(r.data).toMatchObject({ refused: true, findings: [{ ruleId: 'cloud/denied-tag', instance: BASTION }] });
    const real = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, BASTION] });
    expect(real.isError).toBe(true);
    expect(aws.calls.power + aws.calls.dryRun).toBe(0);
    expect(aws.state(SCOPE, WEB)).toBe('running');
  });

  it('refuses an account the policy does not allow before reading anything; readOnly likewise', async () => {
    setup('cloud: { accounts: { allow: ["2109*"] } }', [ACCOUNT, '210987654321']);
    const unnamed = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB] });
    expect(unnamed.text).toMatch(/^account is required: 2 are configured/);
    const r = await answerOf(awsEc2InstancesStopTool, dave, { account: ACCOUNT, instanceIds: [WEB] });
    expect(r.isError).toBe(true);
    expect(r.text).toContain(`cloud/account-not-allowed: account ${ACCOUNT} is not in cloud.accounts.allow (2109*)`);
    expect(aws.calls).toEqual({ getInstances: 0, power: 0, dryRun: 0 });
    const allowed = await answerOf(awsEc2InstancesStopTool, dave, { account: '210987654321', instanceIds: [WEB] });
    expect(allowed.data.status, allowed.text).toBe('done');
    // The same id in the account the policy closes is untouched.
    expect(aws.state(SCOPE, WEB)).toBe('running');

    setup('cloud: { readOnly: true }');
    const ro = await answerOf(awsEc2InstancesStartTool, dave, { account: ACCOUNT, instanceIds: [API] });
    expect(ro.text).toContain('cloud/read-only');
    expect(aws.calls).toEqual({ getInstances: 0, power: 0, dryRun: 0 });
  });

  it('refuses more instances than maxInstancesPerCall, and an id named twice', async () => {
    setup('cloud: { maxInstancesPerCall: 2 }');
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, DB, BASTION] });
    expect(r.text).toContain('cloud/max-instances: 3 instances in one call; the policy allows at most 2');
    const twice = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, WEB] });
    expect(twice.text).toBe(`instances named twice: ${WEB}; name each once`);
    expect(aws.calls.getInstances + aws.calls.power).toBe(0);
  });

  it('dryRun changes nothing, shows the states, the approval it would need and EC2 DryRun', async () => {
    const r = await answerOf(awsEc2InstancesStopTool, alice, { instanceIds: [DB, WEB], dryRun: true });
    expect(r.isError, r.text).toBe(false);
    expect(r.data).toMatchObject({
      status: 'preview',
      dryRun: true,
      wouldChange: [
        { id: DB, state: 'running' },
        { id: WEB, state: 'running' },
      ],
      approvalRequired: true,
      protectedBy: [{ instance: DB, tag: 'env', value: 'prod' }],
      providerCheck: { ran: true, ok: true },
    });
    expect(r.text).toContain(
      'Policy: allowed; approval required for 1 protected (env=prod): without dryRun this call asks for one.',
    );
    expect(r.text).toContain(`Protected: ${DB} env=prod`);
    expect(r.text).toContain('EC2 DryRun: the server may stop these instances');
    expect(aws.calls).toEqual({ getInstances: 1, power: 0, dryRun: 1 });
    expect(aws.changes).toEqual([]);
    expect((await deps.approvals.list({ limit: 10 })).items).toEqual([]);

    aws.permitted = false;
    const forbidden = await answerOf(awsEc2InstancesStartTool, alice, { instanceIds: [API], dryRun: true });
    expect(forbidden.isError).toBe(false);
    expect(forbidden.data.providerCheck).toMatchObject({ ran: true, ok: false, code: 'UnauthorizedOperation' });
    expect(forbidden.text).toContain('Provider check failed: EC2 DryRun refused it (UnauthorizedOperation)');
    expect(aws.state(SCOPE, API)).toBe('stopped');
  });

  it('refuses a terminated instance before acting; EC2 itself refuses it with IncorrectInstanceState', async () => {
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: [WEB, OLD] });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(new RegExp(`cannot stop 1 instance in .*; nothing was changed:\\n${OLD}: it is terminated`));
    expect(aws.calls.power).toBe(0);
    await expect(aws.powerInstances(SCOPE, 'stop', [WEB, OLD], { dryRun: false })).rejects.toMatchObject({
      code: 'Conflict',
      providerCode: 'IncorrectInstanceState',
    });
    expect(aws.state(SCOPE, WEB)).toBe('running');
  });

  it("an unknown id is EC2's NotFound, passed on with its code", async () => {
    const r = await answerOf(awsEc2InstancesStopTool, dave, { instanceIds: ['i-0fffffffffffffff0'] });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(
      /^AWS refused the call \(InvalidInstanceID\.NotFound\): The instance ID 'i-0fffffffffffffff0' does not exist/,
    );
    expect(aws.calls.power).toBe(0);
  });

  it('refuses a misspelled argument with a did-you-mean instead of running the real write', async () => {
    const r = await call(awsEc2InstancesStopTool, dave, { instanceIds: [WEB], dryrun: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe('invalid_arguments');
    expect(r.error.message).toContain('`dryrun` (did you mean `dryRun`?)');
    const bad = await call(awsEc2InstancesStopTool, dave, { instanceIds: ['i-123'] });
    expect(bad.ok).toBe(false);
    const many = await call(awsEc2InstancesStopTool, dave, {
      instanceIds: Array.from({ length: 51 }, (_, i) => `i-${String(i).padStart(8, '0')}`),
    });
    expect(many.ok).toBe(false);
    expect(aws.calls).toEqual({ getInstances: 0, power: 0, dryRun: 0 });
  });

  it('is refused to a caller without the operator role', async () => {
    const r = await call(awsEc2InstancesStopTool, bob, { instanceIds: [WEB] });
    expect(r).toMatchObject({ ok: false, error: { kind: 'denied' } });
  });
});

describe('gcp_compute_instances_stop / start', () => {
  it('stops unprotected instances, reading each back for its state', async () => {
    const r = await answerOf(gcpComputeInstancesStopTool, dave, { zone: ZONE, names: ['web-1', 'batch-1'] });
    expect(r.isError, r.text).toBe(false);
    expect(r.data.changes).toEqual([
      { id: 'web-1', previous: 'RUNNING', current: 'STOPPING', operation: 'operation-1 (RUNNING)' },
    ]);
    expect(r.data.skipped).toEqual([{ id: 'batch-1', state: 'TERMINATED' }]);
    expect(gcp.calls.power).toBe(1);
    const started = await answerOf(gcpComputeInstancesStartTool, dave, { zone: ZONE, names: ['batch-1'] });
    expect(started.text).toBe(
      `Started 1 Compute instance in ${PROJECT}/${ZONE}.\nChanged: batch-1 TERMINATED → PROVISIONING`,
    );
  });

  it('asks for an approval for env=prod labels, then acts once after another person approved', async () => {
    const asked = await answerOf(gcpComputeInstancesStopTool, alice, { zone: ZONE, names: ['db-1'] });
    expect(asked.data.status).toBe('approval_required');
    expect(gcp.calls.power).toBe(0);
    expect((await deps.approvals.get(asked.data.approvalId as string))?.summary).toBe(
      `stop 1 Compute instance in ${PROJECT}/${ZONE}: db-1 (env=prod)`,
    );
    await answerOf(opsApprovalsDecideTool, bob, {
      operationId: asked.data.approvalId,
      decision: 'approve',
      reason: 'fine',
    });
    const r = await answerOf(gcpComputeInstancesStopTool, alice, {
      zone: ZONE,
      names: ['db-1'],
      approvalId: asked.data.approvalId,
    });
    expect(r.data).toMatchObject({
      status: 'done',
      changes: [{ id: 'db-1', previous: 'RUNNING', current: 'STOPPING' }],
    });
    expect(gcp.calls.power).toBe(1);
  });

  it('dryRun says Compute has no dry run and calls nothing that changes', async () => {
    const r = await answerOf(gcpComputeInstancesStopTool, alice, {
      zone: ZONE,
      names: ['db-1', 'web-1'],
      dryRun: true,
    });
    expect(r.data).toMatchObject({ status: 'preview', approvalRequired: true, providerCheck: { ran: false } });
    expect(r.text).toContain('Compute Engine has no dry run');
    expect(gcp.calls.power).toBe(0);
    expect(gcp.status(PROJECT, ZONE, 'web-1')).toBe('RUNNING');
  });

  it('reports what was done when Compute refuses one instance midway, and does not try the rest', async () => {
    gcp.forbidden.add('web-2');
    const r = await answerOf(gcpComputeInstancesStopTool, dave, { zone: ZONE, names: ['web-1', 'web-2', 'web-3'] });
    expect(r.isError).toBe(true);
    expect(r.data).toMatchObject({
      status: 'done',
      changes: [{ id: 'web-1', previous: 'RUNNING', current: 'STOPPING' }],
      failed: { id: 'web-2', code: 'forbidden' },
      notAttempted: ['web-3'],
    });
    expect(r.text).toMatch(
      /^Stopped 1 of 3 Compute instances in .*; web-2 failed \(forbidden\): Required 'compute.instances.stop' .*\nNot attempted: web-3\nChanged: web-1 RUNNING → STOPPING$/,
    );
    expect(gcp.status(PROJECT, ZONE, 'web-3')).toBe('RUNNING');
  });

  it('refuses a project outside the policy, a project not configured, and an unknown instance', async () => {
    setup('cloud: { projects: { deny: ["shop-prod-*"] } }');
    const denied = await answerOf(gcpComputeInstancesStopTool, dave, { zone: ZONE, names: ['web-1'] });
    expect(denied.text).toContain('cloud/project-not-allowed: project shop-prod-1 matches cloud.projects.deny');
    expect(gcp.calls).toEqual({ getInstance: 0, power: 0 });
    setup();
    const unconfigured = await answerOf(gcpComputeInstancesStopTool, dave, {
      project: 'shop-prod-2',
      zone: ZONE,
      names: ['web-1'],
    });
    expect(unconfigured.text).toMatch(/^project shop-prod-2 is not configured \(did you mean shop-prod-1\?\)/);
    const missing = await answerOf(gcpComputeInstancesStopTool, dave, { zone: ZONE, names: ['web-9'] });
    expect(missing.text).toMatch(/^GCP refused the call \(notFound\): The resource .*web-9' was not found/);
    expect(gcp.calls.power).toBe(0);
  });
});

describe('result size', () => {
  it('stays within OUTPUT_BUDGET_BYTES for 50 long names, text first', async () => {
    setup('cloud: { maxInstancesPerCall: 50 }', [ACCOUNT], { OUTPUT_BUDGET_BYTES: '4096' });
    const names = Array.from({ length: 50 }, (_, i) => `vm-${String(i).padStart(2, '0')}-${'x'.repeat(57)}`);
    for (const name of names) gcp.add(PROJECT, { name, zone: ZONE, status: 'RUNNING', labels: { env: 'prod' } });
    for (const dryRun of [true, false]) {
      const r = await call(gcpComputeInstancesStopTool, alice, { zone: ZONE, names, dryRun });
      if (!r.ok) throw new Error(r.error.message);
      expect(JSON.stringify(r.result).length, `dryRun ${dryRun}`).toBeLessThanOrEqual(4096 - 512);
      const text = (r.result.content[0] as { text: string }).text;
      expect(text).toMatch(dryRun ? /^Dry run: would stop 50 Compute instances/ : /^Approval required to stop 50/);
      if (!dryRun) expect(text).toMatch(/\napprovalId: cloud-[0-9a-f-]{36}\nchangeHash: [0-9a-f]{64}\nNext: /);
    }
    expect(gcp.calls.power).toBe(0);
  });
});

describe('the use case without a tool', () => {
  it('throws RefusedError, AppError and CloudApiError for the tools to map', async () => {
    setup('cloud: { readOnly: true }');
    const base = { provider: 'aws' as const, action: 'stop' as const, ids: [WEB] };
    const c = { identity: dave, requestId: 'r1' };
    await expect(powerInstances(deps, c, base)).rejects.toBeInstanceOf(RefusedError);
    setup();
    await expect(powerInstances(deps, c, { ...base, ids: [] })).rejects.toBeInstanceOf(AppError);
    await expect(powerInstances(deps, c, { ...base, ids: ['i-0fffffffffffffff0'] })).rejects.toBeInstanceOf(
      CloudApiError,
    );
    deps.cloud = {};
    await expect(powerInstances(deps, c, base)).rejects.toThrow(/AWS is not configured on this server/);
  });
});

describe('tool definitions', () => {
  it('stay under 900 bytes each in tools/list, with strict inputs and the right annotations', async () => {
    const tools = [
      awsEc2InstancesStartTool,
      awsEc2InstancesStopTool,
      gcpComputeInstancesStartTool,
      gcpComputeInstancesStopTool,
    ];
    const listed = await listCatalog(tools.map((t) => catalogTool(t as AnyTool)));
    for (const t of tools) {
      const entry = listed.get(t.name);
      expect(JSON.stringify(entry).length, t.name).toBeLessThan(900);
      expect(t.description.length, t.name).toBeLessThan(300);
      expect((entry?.inputSchema as { additionalProperties?: boolean } | undefined)?.additionalProperties, t.name).toBe(
        false,
      );
      expect(t.annotations, t.name).toEqual({
        readOnlyHint: false,
        destructiveHint: t.name.endsWith('_stop'),
        idempotentHint: true,
        openWorldHint: true,
      });
    }
  });
});
