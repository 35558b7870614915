/**
 * The local host's COST_CHECK_SCHEDULE and USAGE_SAMPLE_SCHEDULE: off by default; when set, each
 * timer is armed for its schedule's next time. A cost run reads spend through the sources the
 * settings build (COST_AWS with AWS_ENDPOINT_URL: Cost Explorer on moto_server), judges the budgets
 * and sends the alert; a usage run samples every cluster (the fake API server's metrics.k8s.io).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

describe('local host: COST_CHECK_SCHEDULE and USAGE_SAMPLE_SCHEDULE', () => {
  let kube: FakeKube;
  let slack: SlackReceiver;
  let moto: MotoServer;
  let dir: string;
  let base: Record<string, string>;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    slack = await startSlackReceiver();
    moto = await startMoto();
    dir = mkdtempSync(join(tmpdir(), 'cost-schedule-'));
    writeFileSync(
      join(dir, 'policy.yaml'),
      'cost:\n  budgets:\n    - name: aws-monthly\n      scope: { account: "123456789012" }\n      monthlyUsd: 100\n',
    );
    base = { PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent', KUBECONFIG: kube.kubeconfigPath };
  }, 90_000);
  afterAll(async () => {
    await moto?.stop();
    await slack?.close();
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is off by default, with no spend source', async () => {
    const server = await startLocalServer(base);
    try {
      expect(server.costTimer).toBeUndefined();
      expect(server.usageTimer).toBeUndefined();
      expect(server.deps.costSources).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('armed when set: a cost run judges the budget from Cost Explorer and alerts once; a usage run samples the cluster', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const res = await fetch(`${moto.url}/moto-api/static/ce/cost-and-usage-results`, {
      method: 'POST',
      body: JSON.stringify({
        results: [
          {
            ResultsByTime: [
              {
                TimePeriod: { Start: today, End: tomorrow },
                Total: {},
                Groups: [{ Keys: ['Amazon EC2'], Metrics: { UnblendedCost: { Amount: '150', Unit: 'USD' } } }],
                Estimated: true,
              },
            ],
          },
          { ResultsByTime: [] },
          // By linked account, for the account budget.
          {
            ResultsByTime: [
              {
                TimePeriod: { Start: today, End: tomorrow },
                Total: {},
                Groups: [{ Keys: ['123456789012'], Metrics: { UnblendedCost: { Amount: '150', Unit: 'USD' } } }],
                Estimated: true,
              },
            ],
          },
        ],
      }),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(201);
    // The SDK's default chain reads the process environment, as on a developer's machine.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const server: LocalServer = await startLocalServer({
      ...base,
      POLICY_FILE: join(dir, 'policy.yaml'),
      COST_AWS: 'true',
      AWS_ENDPOINT_URL: moto.url,
      COST_CHECK_SCHEDULE: 'rate(1 hour)',
      USAGE_SAMPLE_SCHEDULE: 'rate(5 minutes)',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_CHANNEL: slack.channel,
      SLACK_API_URL: slack.apiUrl,
      ALERT_GROUP_WAIT: '0s',
    });
    try {
      const now = Date.now();
      expect(server.costTimer?.nextAt()).toBeGreaterThan(now - 60_000);
      expect(server.costTimer?.nextAt()).toBeLessThanOrEqual(now + 3600_000);
      expect(server.usageTimer?.nextAt()).toBeLessThanOrEqual(now + 5 * 60_000);
      expect(server.deps.costSources.map((s) => s.kind)).toEqual(['aws-cost-explorer']);

      await server.costTimer?.runNow();
      const roots = () => slack.messages().filter((m) => !m.thread_ts);
      expect(roots()).toHaveLength(1);
      expect(JSON.stringify(roots()[0])).toContain('Budget aws-monthly (account=123456789012)');
      // The next run reads the cache and sends nothing new.
      await server.costTimer?.runNow();
      expect(slack.messages()).toHaveLength(1);

      const before = Date.now();
      await server.usageTimer?.runNow();
      const summary = await server.deps.usageSamples.summarize('fake', { from: before - 60_000, to: Date.now() + 1 });
      expect(summary.sampleTimes).toBe(1);
    } finally {
      await server.close();
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 90_000);
});
