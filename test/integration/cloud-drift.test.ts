/**
 * Cloud drift (issue 13): EKS and GKE clusters as baselines of their own, over real parts: the
 * memory Store, the real alerting with the real Slack notifier posting to a loopback Slack, the
 * tools run through the in-process runner (strict arguments, roles, output schema), and an
 * in-memory CloudInventory whose descriptions the tests change between checks.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/slack-notifier.ts';
import { buildDeps, type Deps } from '../../shared/app/deps.ts';
import { checkDrift, type DriftCheckDeps } from '../../shared/app/drift/check.ts';
import { CLOUD_DRIFT_LIMITS } from '../../shared/app/drift/cloud.ts';
import type { DriftCheckReport, DriftObjectResult } from '../../shared/app/drift/types.ts';
import { CloudBaselines } from '../../shared/app/repos/cloud-baselines.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { defaultPolicy, type Policy, parsePolicy } from '../../shared/domain/guardrails/index.ts';
import type { Role } from '../../shared/domain/identity.ts';
import { executeTool } from '../../shared/mcp/tool-runner.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import type { ClusterInfo, Clusters } from '../../shared/ports/kube.ts';
import { allTools } from '../../shared/tools/index.ts';
import { eksCluster, FakeCloudDrift, gkeCluster } from '../support/fake-cloud-drift.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const ACCOUNT = '111122223333';
const EKS_ID = `eks:${ACCOUNT}/eu-west-1/prod`;
const GKE_ID = 'gke:shop-prod-1/europe-west1/main';
const T0 = Date.parse('2026-12-07T10:00:00Z');

/** Kubernetes clusters as the registry lists them; `names` may include a discovered EKS cluster's id. */
function k8sClusters(names: string[]): Clusters {
  const info = (name: string): ClusterInfo => ({
    name,
    server: 'https://127.0.0.1:9',
    source: 'kubeconfig',
    isDefault: false,
    namespace: 'default',
  });
  return {
    list: async () => names.map(info),
    defaultCluster: async () => names[0],
    client: async (name) => Promise.reject(new Error(`cluster ${name ?? ''} does not answer (connect ECONNREFUSED)`)),
  };
}

describe('cloud drift: EKS and GKE clusters as baselines', () => {
  let now: number;
  const clock = { now: () => now };
  let slack: SlackReceiver;
  let cloud: FakeCloudDrift;
  let deps: Deps;

  function makeDeps(opts: { policy?: Policy; k8s?: string[] } = {}): Deps {
    return buildDeps(
      loadConfig({ STORE: 'memory', LOG_LEVEL: 'silent' }),
      deps?.store ?? new MemoryStore(clock),
      pino({ level: 'silent' }),
      {
        clusters: k8sClusters(opts.k8s ?? []),
        policy: opts.policy ?? defaultPolicy(),
        metrics: new PrometheusSource(undefined),
        workflows: () =>
          ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
        notifier: createSlackNotifier(
          { mode: 'bot', token: slack.token, channel: slack.channel, apiUrl: slack.apiUrl, timeoutMs: 5_000 },
          clock,
        ),
        alertSettings: {
          groupWaitMs: 0,
          repeatIntervalMs: 4 * 3600_000,
          initialBackoffMs: 5_000,
          maxBackoffMs: 60_000,
        },
        cloud,
        clock,
      },
    );
  }
  const check = (extra: { cluster?: string; namespace?: string } = {}, over: Partial<DriftCheckDeps> = {}) =>
    checkDrift({ ...deps, ...over }, { trigger: 'tool', requestId: 'r-check', ...extra });
  const finding = (r: DriftCheckReport, cluster: string): DriftObjectResult | undefined =>
    r.findings.find((f) => f.cluster === cluster);
  const roots = () => slack.messages().filter((m) => !m.thread_ts);
  async function tool(name: string, args: Record<string, unknown>, roles: Role[] = ['operator']) {
    const t = allTools.find((x) => x.name === name);
    if (!t) throw new Error(`no tool ${name}`);
    const r = await executeTool(
      t,
      {
        v: 1,
        tool: name,
        args,
        caller: { subject: 'alice', name: 'alice', roles, method: 'local' },
        requestId: 'r-tool',
      },
      { deps },
    );
    if (!r.ok)
      return { refused: r.error.message, isError: true, text: r.error.message, data: {} as Record<string, unknown> };
    const text = (r.result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');
    return { isError: r.result.isError === true, text, data: r.result.structuredContent ?? {} };
  }
  const ng = (name: string) => {
    const d = cloud.eks.get(`${ACCOUNT}/eu-west-1/prod`);
    if (!d?.nodegroups.available) throw new Error('no node groups');
    return d.nodegroups.items.find((n) => n.name === name) as NonNullable<(typeof d.nodegroups.items)[number]>;
  };
  const addon = (name: string) => {
    const d = cloud.eks.get(`${ACCOUNT}/eu-west-1/prod`);
    if (!d?.addons.available) throw new Error('no add-ons');
    return d.addons.items.find((a) => a.name === name) as NonNullable<(typeof d.addons.items)[number]>;
  };

  beforeEach(async () => {
    now = T0;
    slack = await startSlackReceiver({ clock });
    cloud = new FakeCloudDrift({ accounts: [ACCOUNT], regions: ['eu-west-1', 'us-east-1'], projects: ['shop-prod-1'] });
    cloud.eks.set(`${ACCOUNT}/eu-west-1/prod`, eksCluster('prod'));
    cloud.gke.set('shop-prod-1/europe-west1/main', gkeCluster('shop-prod-1', 'europe-west1', 'main'));
    deps = undefined as unknown as Deps;
    deps = makeDeps();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await slack.close();
  });

  it('adopt, clean, drifted with paths and values, alerted once however often checked, reverted and resolved', async () => {
    const adopted = await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    expect(adopted.isError, adopted.text).toBe(false);
    expect(adopted.text.split('\n')).toEqual([
      `Adopted the baseline of EKS cluster ${EKS_ID}; check it with drift_checks_run cluster ${EKS_ID}.`,
      'version 1.30',
      'node group ng-a: desired 3 (min 1, max 5), 1.30, m5.large, ON_DEMAND',
      'node group ng-b: desired 2 (min 0, max 10), 1.30, c5.xlarge c6i.xlarge, SPOT',
      'add-ons: vpc-cni v1.18.3-eksbuild.1, coredns v1.11.1-eksbuild.9',
    ]);
    expect(adopted.data).toMatchObject({ adopted: 1, dryRun: false, cloudCluster: EKS_ID });
    const stored = await new CloudBaselines(deps.store, clock).get(EKS_ID);
    expect(stored).toMatchObject({
      provider: 'eks',
      name: 'prod',
      recordedBy: 'adopted by alice',
      recordedAt: '2026-12-07T10:00:00.000Z',
    });

    const clean = await check();
    expect(clean.clusters).toEqual([EKS_ID]);
    expect(clean.counts).toEqual({ objects: 1, clean: 1, drifted: 0, deleted: 0, error: 0 });
    expect(clean.cloudDescribes).toBe(1);
    expect(roots()).toHaveLength(0);

    ng('ng-a').scaling.desired = 5;
    addon('vpc-cni').version = 'v1.19.0-eksbuild.1';
    cloud.eks.get(`${ACCOUNT}/eu-west-1/prod`)!.platformVersion = 'eks.9'; // AWS's own: not drift
    now += 60_000;
    const drifted = await check();
    expect(drifted.counts).toMatchObject({ objects: 1, drifted: 1 });
    const f = finding(drifted, EKS_ID);
    expect(f).toMatchObject({
      cluster: EKS_ID,
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'EksCluster',
      namespace: '',
      name: 'prod',
      state: 'drifted',
      changesTotal: 2,
    });
    expect(f?.changes).toEqual([
      { path: 'nodegroups[ng-a].desiredSize', baseline: '3', live: '5' },
      { path: 'addons[vpc-cni].version', baseline: 'v1.18.3-eksbuild.1', live: 'v1.19.0-eksbuild.1' },
    ]);
    expect(f?.restore).toBeUndefined();
    expect(f?.restoreHint).toContain(
      'aws eks update-nodegroup-config --region eu-west-1 --cluster-name prod --nodegroup-name ng-a',
    );
    expect(f?.restoreHint).toContain(
      'aws eks update-addon --region eu-west-1 --cluster-name prod --addon-name vpc-cni --addon-version v1.18.3-eksbuild.1',
    );
    expect(drifted.alerts?.reconcile.opened).toBe(1);
    expect(roots()).toHaveLength(1);
    expect(JSON.stringify(roots()[0])).toContain('EksCluster prod drifted: 2 fields changed');

    // The same drift twice: no second message.
    now += 60_000;
    const again = await check();
    expect(again.alerts?.reconcile).toMatchObject({ opened: 0, unchanged: 1 });
    expect(roots()).toHaveLength(1);

    // drift_findings_list shows it like any object.
    const list = await tool('drift_findings_list', { cluster: EKS_ID }, ['viewer']);
    expect(list.isError, list.text).toBe(false);
    expect(list.data.items).toEqual([
      expect.objectContaining({
        state: 'drifted',
        cluster: EKS_ID,
        object: 'EksCluster prod',
        changes:
          'nodegroups[ng-a].desiredSize: 3 → 5; addons[vpc-cni].version: v1.18.3-eksbuild.1 → v1.19.0-eksbuild.1',
        restoreHint: expect.stringContaining('aws eks update-nodegroup-config --region eu-west-1'),
      }),
    ]);
    expect(list.data.counts).toEqual({ objects: 1, clean: 0, drifted: 1, deleted: 0, error: 0 });

    // Put back: clean, the finding gone, the alert resolved (its message updated, no new one).
    ng('ng-a').scaling.desired = 3;
    addon('vpc-cni').version = 'v1.18.3-eksbuild.1';
    now += 60_000;
    const reverted = await check();
    expect(reverted.counts).toMatchObject({ clean: 1, drifted: 0 });
    expect(reverted.alerts?.reconcile.resolved).toBe(1);
    expect(reverted.alerts?.deliver.pending).toBe(0);
    expect(roots()).toHaveLength(1);
    expect((await deps.alerting.list({ limit: 10 })).items[0]).toMatchObject({ status: 'resolved', state: 'sent' });
    expect((await deps.driftFindings.list({ limit: 10 })).items).toEqual([]);
  });

  it('GKE: a patch upgrade is not drift, a new autoscaling bound is; an autoscaled pool resizing itself is nothing', async () => {
    expect((await tool('drift_baselines_adopt', { cloudCluster: GKE_ID })).isError).toBe(false);
    const d = cloud.gke.get('shop-prod-1/europe-west1/main')!;
    d.version = '1.30.6-gke.1125000';
    d.currentNodeCount = 12;
    // A pool node auto-provisioning added is GKE's, not drift.
    d.nodePools.push({ name: 'nap-n2-standard-4-abcdefgh', status: 'RUNNING', zones: ['europe-west1-d'] });
    const patched = await check();
    expect(patched.counts).toMatchObject({ objects: 1, clean: 1 });
    d.nodePools[0]!.autoscaling = { minNodeCount: 2, maxNodeCount: 5, locationPolicy: 'BALANCED' };
    const r = await check({ cluster: GKE_ID });
    const f = finding(r, GKE_ID);
    expect(f).toMatchObject({
      kind: 'GkeCluster',
      apiVersion: 'container.googleapis.com/v1',
      name: 'main',
      state: 'drifted',
    });
    expect(f?.changes).toEqual([
      { path: 'nodePools[default-pool].autoscaling.minNodeCount', baseline: '1', live: '2' },
    ]);
    expect(f?.ignored).toBe(1);
    expect(f?.restoreHint).toContain(
      'gcloud container node-pools update default-pool --cluster main --location europe-west1 --project shop-prod-1 --enable-autoscaling --min-nodes 1 --max-nodes 5',
    );
  });

  it('drift.cloud.ignoreDesiredSize: a cluster autoscaler moving desiredSize is not drift', async () => {
    deps = makeDeps({ policy: parsePolicy('drift:\n  cloud:\n    ignoreDesiredSize: true\n') });
    await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    ng('ng-b').scaling.desired = 7;
    const r = await check();
    expect(r.counts).toMatchObject({ clean: 1, drifted: 0 });
    ng('ng-b').scaling.max = 12;
    expect(finding(await check(), EKS_ID)?.changes).toEqual([
      { path: 'nodegroups[ng-b].maxSize', baseline: '10', live: '12' },
    ]);
  });

  it('a describe that fails is an error for that cluster only, its drift alert kept open; a gone cluster is deleted until adopted away', async () => {
    await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    await tool('drift_baselines_adopt', { cloudCluster: GKE_ID });
    ng('ng-a').scaling.min = 2;
    const first = await check();
    expect(first.counts).toMatchObject({ objects: 2, clean: 1, drifted: 1 });
    expect(roots()).toHaveLength(1);

    cloud.failWith(EKS_ID, new CloudApiError('aws', 'Throttled', 'Rate exceeded', 'ThrottlingException'));
    now += 60_000;
    const failed = await check();
    expect(failed.counts).toEqual({ objects: 2, clean: 1, drifted: 0, deleted: 0, error: 1 });
    expect(finding(failed, EKS_ID)).toMatchObject({
      state: 'error',
      error: 'describing the cluster failed: AWS ThrottlingException: Rate exceeded',
    });
    // The drift alert stays open (last known drift), and an error alert says the cluster could not be compared.
    expect(failed.alerts?.reconcile.resolved).toBe(0);
    const open = (await deps.alerting.list({ limit: 10 })).items.filter((a) => a.status === 'firing');
    expect(open.map((a) => a.summary).sort()).toEqual([
      `Drift check could not compare 1 object in ${EKS_ID}/(cluster-scoped)`,
      'EksCluster prod drifted: 1 field changed',
    ]);

    // The cluster deleted in AWS: `deleted`, with how to stop watching it.
    cloud.failWith(EKS_ID, undefined);
    cloud.eks.delete(`${ACCOUNT}/eu-west-1/prod`);
    now += 60_000;
    const gone = await check();
    expect(finding(gone, EKS_ID)).toMatchObject({ state: 'deleted' });
    expect(finding(gone, EKS_ID)?.restoreHint).toMatch(/stop watching it with drift_baselines_adopt cloudCluster/);
    const dry = await tool('drift_baselines_adopt', { cloudCluster: EKS_ID, dryRun: true });
    expect(dry.text).toBe(
      `EKS cluster ${EKS_ID} no longer exists: adopting it would remove its baseline (dry run: nothing changed).`,
    );
    expect(await new CloudBaselines(deps.store, clock).get(EKS_ID)).toMatchObject({ name: 'prod' });
    const removed = await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    expect(removed.data).toMatchObject({ adopted: 0, removed: true });
    now += 60_000;
    const after = await check();
    expect(after.clusters).toEqual([EKS_ID, GKE_ID]); // the tombstone's run clears what it left
    expect(after.counts).toMatchObject({ objects: 1, clean: 1 });
    expect((await deps.driftFindings.list({ limit: 10 })).items).toEqual([]);
    expect((await deps.alerting.list({ limit: 10 })).items.every((a) => a.status === 'resolved')).toBe(true);
    expect((await check()).clusters).toEqual([GKE_ID]);
    // Adopting a cluster that does not exist (and has no baseline) is refused with the provider's word.
    const nothing = await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    expect(nothing.isError).toBe(true);
    expect(nothing.text).toMatch(
      /^AWS refused the call \(ResourceNotFoundException\): No cluster found for name: prod\./,
    );
  });

  it('a describe that never answers is an error within the bound, not a hang', async () => {
    await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    await tool('drift_baselines_adopt', { cloudCluster: GKE_ID });
    cloud.failWith(GKE_ID, 'hang');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const running = check({}, { alerting: undefined as never });
    // The EKS describe answers (in real time); then only the hung one is left, and its bound passes.
    for (let i = 0; i < 1000 && !(cloud.describes === 2 && cloud.running === 1); i++)
      await new Promise((r) => setImmediate(r));
    expect(cloud.running).toBe(1);
    await vi.advanceTimersByTimeAsync(CLOUD_DRIFT_LIMITS.describeTimeoutMs);
    const r = await running;
    expect(r.counts).toMatchObject({ objects: 2, clean: 1, error: 1 });
    expect(finding(r, GKE_ID)?.error).toMatch(/describing the cluster failed: .*took longer than 60 s/);
  });

  it('describes a few clusters at a time', async () => {
    for (let i = 0; i < 12; i++) {
      cloud.eks.set(`${ACCOUNT}/us-east-1/c${i}`, eksCluster(`c${i}`));
      expect((await tool('drift_baselines_adopt', { cloudCluster: `eks:${ACCOUNT}/us-east-1/c${i}` })).isError).toBe(
        false,
      );
    }
    cloud.maxInFlight = 0;
    const r = await check();
    expect(r.counts).toMatchObject({ objects: 12, clean: 12 });
    expect(r.cloudDescribes).toBe(12);
    expect(cloud.maxInFlight).toBeGreaterThan(1);
    expect(cloud.maxInFlight).toBeLessThanOrEqual(CLOUD_DRIFT_LIMITS.concurrency);
  });

  it("descriptions that take long use up the check's cloud budget: the clusters left are errors, not a longer check", async () => {
    for (let i = 0; i < 6; i++) {
      cloud.eks.set(`${ACCOUNT}/us-east-1/c${i}`, eksCluster(`c${i}`));
      await tool('drift_baselines_adopt', { cloudCluster: `eks:${ACCOUNT}/us-east-1/c${i}` });
    }
    // The first answer takes 130 s of the check's clock: four were under way, the two not started yet are out of time.
    let slow = true;
    cloud.onDescribe = () => {
      if (slow) now += 130_000;
      slow = false;
    };
    const r = await check({}, { alerting: undefined as never });
    expect(r.counts).toMatchObject({ objects: 6, clean: 4, error: 2 });
    expect(r.cloudDescribes).toBe(4);
    for (const f of r.findings) expect(f.error).toMatch(/not described: this check's 120 s for cloud clusters ran out/);
  });

  it('a discovered EKS cluster with object baselines and a cloud baseline is one run; a check without cloud leaves the cloud finding be', async () => {
    deps = makeDeps({ k8s: [EKS_ID] });
    await deps.baselines.record({
      cluster: EKS_ID,
      manifest: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'shop' },
        data: { a: '1' },
      },
      appliedBy: 'alice',
      requestId: 'r-1',
    });
    await tool('drift_baselines_adopt', { cloudCluster: EKS_ID });
    ng('ng-a').scaling.max = 6;
    const r = await check();
    expect(r.clusters).toEqual([EKS_ID]);
    expect(r.counts).toMatchObject({ objects: 2, drifted: 1, error: 1 });
    const listed = await deps.driftFindings.list({ cluster: EKS_ID, limit: 10 });
    expect(listed.items.map((i) => `${i.kind}:${i.state}`).sort()).toEqual(['ConfigMap:error', 'EksCluster:drifted']);

    // A host without cloud access (the CLI, say) checks the objects and keeps the cloud finding and its alert.
    const noCloud = await checkDrift({ ...deps, cloud: undefined as never }, { trigger: 'cli', requestId: 'r-cli' });
    expect(noCloud.counts).toMatchObject({ objects: 1, error: 1 });
    expect((await deps.driftFindings.list({ cluster: EKS_ID, limit: 10 })).items.map((i) => i.kind).sort()).toEqual([
      'ConfigMap',
      'EksCluster',
    ]);
    expect(noCloud.alerts?.reconcile.resolved).toBe(0);
    // A namespace check never covers the cloud cluster; asking for one on a cloud-only id is refused.
    expect((await check({ namespace: 'shop' })).counts.objects).toBe(1);
    await expect(check({ cluster: GKE_ID })).rejects.toThrow(
      `no cloud baseline for ${GKE_ID}: adopt it with drift_baselines_adopt cloudCluster ${GKE_ID}`,
    );
    await tool('drift_baselines_adopt', { cloudCluster: GKE_ID });
    await expect(check({ cluster: GKE_ID, namespace: 'shop' })).rejects.toThrow(/has no namespaces/);
  });

  it('an unreadable cloud baseline is an error result naming the cluster, not a skip', async () => {
    await deps.store.put({ pk: 'cloud-baseline', sk: EKS_ID, data: { id: EKS_ID, facts: 'nonsense' } });
    const r = await check();
    expect(finding(r, EKS_ID)).toMatchObject({ kind: 'EksCluster', name: 'prod', state: 'error' });
    expect(finding(r, EKS_ID)?.error).toMatch(/unreadable .* adopt it again with drift_baselines_adopt cloudCluster/);
  });

  it('drift_baselines_adopt with cloudCluster: alone, a checked id, configured scopes; dryRun records nothing', async () => {
    const both = await tool('drift_baselines_adopt', { cloudCluster: EKS_ID, kinds: ['Deployment'] });
    expect(both.isError).toBe(true);
    expect(both.text).toBe(
      'Give cloudCluster alone (dryRun aside): it baselines the EKS or GKE cluster itself, not Kubernetes objects; drop kinds.',
    );
    const typo = await tool('drift_baselines_adopt', { cloudClusters: EKS_ID });
    expect(typo.refused).toMatch(/cloudClusters/);
    expect(typo.refused).toMatch(/cloudCluster\b/);
    expect((await tool('drift_baselines_adopt', { cloudCluster: 'x'.repeat(201) })).refused).toMatch(/cloudCluster/);
    expect((await tool('drift_baselines_adopt', { cloudCluster: 'eks:prod' })).text).toMatch(
      /is not an EKS id: expected eks:<12-digit account>\/<region>\/<name>/,
    );
    expect((await tool('drift_baselines_adopt', { cloudCluster: `eks:${ACCOUNT}/eu-west-2/prod` })).text).toMatch(
      /region eu-west-2 is not configured \(did you mean eu-west-1\?\)/,
    );
    expect((await tool('drift_baselines_adopt', { cloudCluster: 'gke:shop-prod-2/europe-west1/main' })).text).toMatch(
      /project shop-prod-2 is not configured \(did you mean shop-prod-1\?\)/,
    );
    expect((await tool('drift_baselines_adopt', { cloudCluster: EKS_ID }, ['viewer'])).refused).toMatch(
      /needs the operator role/,
    );
    const dry = await tool('drift_baselines_adopt', { cloudCluster: GKE_ID, dryRun: true });
    expect(dry.text.split('\n').slice(0, 3)).toEqual([
      `Would adopt the baseline of GKE cluster ${GKE_ID} (dry run: nothing recorded).`,
      'version 1.30.5-gke.1014001, nodes 1.30.5-gke.1014001',
      'node pool default-pool: 1.30.5-gke.1014001, e2-standard-4, autoscaling 1-5 per zone, BALANCED, 1 per zone at creation, zones europe-west1-a europe-west1-b',
    ]);
    expect(await new CloudBaselines(deps.store, clock).get(GKE_ID)).toBeUndefined();
    // Without AWS configured the id is refused by name.
    cloud = new FakeCloudDrift({ accounts: [], regions: [], projects: [] });
    deps = makeDeps();
    (deps.cloud as { aws?: unknown }).aws = undefined;
    expect((await tool('drift_baselines_adopt', { cloudCluster: EKS_ID })).text).toMatch(
      /AWS is not configured on this server/,
    );
  });
});
