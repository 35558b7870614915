/**
 * The drift and alert tools over MCP (SDK v2 client -> local host -> fake API server, alerts to a
 * loopback Slack): a field changed by another manager is found with its path, values and manager, the
 * same drift twice sends one message, reverting resolves it; adoption with and without dryRun; paged
 * findings; who may call what; each tool's tools/list entry size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_TOKEN } from '../support/fake-kube/index.ts';
import { type Caller, deploymentYaml, type Harness, startHarness } from '../support/k8s-harness.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const DRIFT_TOOLS = [
  'drift_baselines_adopt',
  'drift_checks_run',
  'drift_findings_list',
  'alerts_channel_test',
  'alerts_outbox_list',
];

describe('drift and alert tools over MCP', () => {
  let h: Harness;
  let slack: SlackReceiver;
  let viewer: Caller;

  async function kubectl(method: 'PATCH' | 'POST', path: string, body: unknown, manager: string) {
    const res = await fetch(`${h.kube.url}${path}?fieldManager=${manager}`, {
      method,
      headers: {
        authorization: `Bearer ${FAKE_TOKEN}`,
        'content-type': method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
  const setImage = (image: string) =>
    kubectl(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/web',
      { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
      'kubectl-edit',
    );
  const topLevel = () => slack.messages().filter((m) => !m.thread_ts);

  beforeAll(async () => {
    slack = await startSlackReceiver();
    h = await startHarness(
      {
        TOOLSETS: 'core,k8s,drift,alerts',
        SLACK_BOT_TOKEN: slack.token,
        SLACK_CHANNEL: slack.channel,
        SLACK_API_URL: slack.apiUrl,
        ALERT_GROUP_WAIT: '0s',
      },
      { auth: true },
    );
    viewer = await h.as('val', 'cloudops:read');
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.27', { replicas: 2 }) });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await slack?.close();
  });

  it('nothing changed: clean, summary first, no alert', async () => {
    const r = await h.ok<{ counts: Record<string, number> }>('drift_checks_run', { namespace: 'default' });
    expect(r.counts).toMatchObject({ objects: 1, clean: 1, drifted: 0, deleted: 0, error: 0 });
    expect(r._text.split('\n')[0]).toMatch(/^Drift check of fake, namespace default at .*: 1 objects: 0 drifted/);
    expect(topLevel()).toHaveLength(0);
  });

  it('a field changed by another manager: its path, values and manager; alerted once, however often checked', async () => {
    await setImage('nginx:1.28');
    const r = await h.ok<{ counts: Record<string, number>; findings: Array<Record<string, string>> }>(
      'drift_checks_run',
      {},
    );
    expect(r.counts).toMatchObject({ drifted: 1 });
    expect(r.findings[0]).toMatchObject({ state: 'drifted', object: 'Deployment default/web' });
    expect(r.findings[0]?.changes).toContain(
      'spec.template.spec.containers[app].image: nginx:1.27 → nginx:1.28 (by kubectl-edit)',
    );
    expect(r._text).toContain('Alerts: 1 new');
    expect(topLevel()).toHaveLength(1);
    await h.ok('drift_checks_run', {});
    await h.ok('drift_checks_run', { namespace: 'default' });
    expect(topLevel()).toHaveLength(1);

    // A viewer reads the findings and the alerts.
    const list = await viewer.ok<{ counts: Record<string, number>; items: Array<Record<string, string>> }>(
      'drift_findings_list',
      {},
    );
    expect(list.counts).toMatchObject({ drifted: 1 });
    expect(list.items.map((i) => i.object)).toEqual(['Deployment default/web']);
    const alerts = await viewer.ok<{ items: Array<Record<string, unknown>> }>('alerts_outbox_list', {});
    expect(alerts.items).toHaveLength(1);
    expect(alerts.items[0]).toMatchObject({ status: 'firing', state: 'sent' });
  });

  it('reverting resolves: the alert is sent once more as resolved, and the finding is gone', async () => {
    await setImage('nginx:1.27');
    const r = await h.ok<{ counts: Record<string, number> }>('drift_checks_run', {});
    expect(r.counts).toMatchObject({ drifted: 0, clean: 1 });
    expect(r._text).toContain('1 resolved');
    const alerts = await viewer.ok<{ items: Array<Record<string, unknown>> }>('alerts_outbox_list', {});
    expect(alerts.items[0]).toMatchObject({ status: 'resolved', state: 'sent' });
    expect((await viewer.ok<{ items: unknown[] }>('drift_findings_list', {})).items).toEqual([]);
  });

  it('adopts live objects: dryRun records nothing, then they are watched; findings page with continue', async () => {
    h.kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy' } });
    for (const name of ['alpha', 'beta', 'gamma']) {
      await kubectl(
        'POST',
        '/api/v1/namespaces/legacy/configmaps',
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'legacy' }, data: { mode: 'a' } },
        'kubectl-create',
      );
    }
    const dry = await h.ok<{ adopted: number; dryRun: boolean }>('drift_baselines_adopt', {
      namespace: 'legacy',
      kinds: ['ConfigMap'],
      dryRun: true,
    });
    expect(dry).toMatchObject({ adopted: 3, dryRun: true });
    expect(dry._text).toMatch(/^Would adopt 3 baselines on fake from live objects \(dry run: nothing recorded\)/);
    expect((await h.ok<{ counts: { objects: number } }>('drift_checks_run', {})).counts.objects).toBe(1);

    const real = await h.ok<{ adopted: number }>('drift_baselines_adopt', {
      namespace: 'legacy',
      kinds: ['ConfigMap'],
    });
    expect(real.adopted, real._text).toBe(3);
    expect((await h.ok<{ counts: Record<string, number> }>('drift_checks_run', {})).counts).toMatchObject({
      objects: 4,
      clean: 4,
    });
    for (const name of ['alpha', 'beta', 'gamma']) {
      await kubectl('PATCH', `/api/v1/namespaces/legacy/configmaps/${name}`, { data: { mode: 'b' } }, 'kubectl-edit');
    }
    expect((await h.ok<{ counts: Record<string, number> }>('drift_checks_run', {})).counts.drifted).toBe(3);

    const first = await viewer.ok<{
      count: number;
      continue?: string;
      more?: string;
      items: Array<{ object: string }>;
    }>('drift_findings_list', { limit: 2 });
    expect(first.count).toBe(2);
    expect(first._text.split('\n')[1]).toMatch(/^More: more findings; call drift_findings_list again with continue: "/);
    const rest = await viewer.ok<{ count: number; continue?: string; items: Array<{ object: string }> }>(
      'drift_findings_list',
      { namespace: 'legacy', limit: 2, continue: first.continue },
    );
    expect(rest.continue).toBeUndefined();
    expect([...first.items, ...rest.items].map((i) => i.object)).toEqual([
      'ConfigMap legacy/alpha',
      'ConfigMap legacy/beta',
      'ConfigMap legacy/gamma',
    ]);
    for (const tool of ['drift_findings_list', 'alerts_outbox_list']) {
      const bad = await viewer.call(tool, { continue: 'not-a-token' });
      expect(bad.isError, tool).toBe(true);
      expect(bad.text, tool).toMatch(/continue.*(without it|again without)/);
    }
  });

  it('Slack failing during a check (5xx, then 429), then recovering: the alert arrives exactly once', async () => {
    await kubectl('PATCH', '/api/v1/namespaces/legacy/configmaps/alpha', { data: { mode: 'c' } }, 'kubectl-edit');
    const before = topLevel().length;
    const updatedBefore = slack.messages().reduce((n, m) => n + m.edits, 0);
    slack.failWith({ kind: 'status', status: 503, times: 1 });
    const failed = await h.ok<{ alerts: { deliver: { pending: number } } }>('drift_checks_run', {
      namespace: 'legacy',
    });
    expect(failed.alerts.deliver.pending).toBeGreaterThanOrEqual(1);
    slack.failWith({ kind: 'ratelimit', retryAfterS: 1, times: 1 });
    // Each check delivers what is due; the retry waits out its backoff (and the Retry-After).
    const deadline = Date.now() + 60_000;
    let pending = 1;
    while (pending > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      pending = (await h.ok<{ alerts: { deliver: { pending: number } } }>('drift_checks_run', { namespace: 'legacy' }))
        .alerts.deliver.pending;
    }
    expect(pending).toBe(0);
    await h.ok('drift_checks_run', { namespace: 'legacy' });
    // alpha's alert was open already (sent before): its new content updates that message, once.
    const updates = slack.messages().reduce((n, m) => n + m.edits, 0) - updatedBefore;
    const posts = topLevel().length - before;
    expect(updates + posts).toBe(1);
  }, 90_000);

  it('alerts_channel_test sends a test message now', async () => {
    const before = topLevel().length;
    const r = await h.ok<{ channel: string; messageId: string }>('alerts_channel_test', {});
    expect(r.channel).toBe('slack');
    expect(topLevel()).toHaveLength(before + 1);
    expect(topLevel().at(-1)?.text ?? JSON.stringify(topLevel().at(-1)?.blocks)).toMatch(/Test message/);
  });

  it('a misspelled argument is refused with a did-you-mean, never ignored (no adoption happens)', async () => {
    const r = await h.client
      .callTool({
        name: 'drift_baselines_adopt',
        arguments: { namespace: 'default', kinds: ['Service'], dryrun: true },
      })
      .then(
        (x) => JSON.stringify(x),
        (e: unknown) => String(e),
      );
    expect(r).toMatch(/dryrun/);
    expect(r).toMatch(/dryRun/);
  });

  it('roles: a viewer sees and reads findings and alerts; checks, adoption and test messages are an operator’s', async () => {
    const names = (await viewer.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['drift_findings_list', 'alerts_outbox_list']));
    for (const t of ['drift_checks_run', 'drift_baselines_adopt', 'alerts_channel_test']) {
      expect(names).not.toContain(t);
      const r = await viewer.client.callTool({ name: t, arguments: {} }).then(
        (x) => JSON.stringify(x),
        (e: unknown) => String(e),
      );
      expect(r, t).toMatch(/needs the operator role; you have viewer/);
    }
  });

  it('each tools/list entry is under 900 bytes (drift_baselines_adopt, with three sources, under 1,000)', async () => {
    const tools = (await h.client.listTools()).tools.filter((t) => DRIFT_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...DRIFT_TOOLS].sort());
    for (const t of tools)
      expect(JSON.stringify(t).length, t.name).toBeLessThan(t.name === 'drift_baselines_adopt' ? 1000 : 900);
  });
});
