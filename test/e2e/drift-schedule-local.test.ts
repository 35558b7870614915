/**
 * The local host's DRIFT_CHECK_SCHEDULE: off by default; when set, the timer is armed for the
 * schedule's next time, a run checks every cluster (its findings are what drift_findings_list reads)
 * and ends by delivering the alert outbox, and the server stops the timer when it closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { nextRun, parseSchedule } from '../../shared/domain/schedule.ts';
import { editDeployment, webDeployment } from '../support/drift.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

describe('local host: DRIFT_CHECK_SCHEDULE', () => {
  let kube: FakeKube;
  let slack: SlackReceiver;
  let base: Record<string, string>;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    slack = await startSlackReceiver();
    base = { PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent', KUBECONFIG: kube.kubeconfigPath };
  });
  afterAll(async () => {
    await slack?.close();
    await kube?.close();
  });

  it('is off by default', async () => {
    const server = await startLocalServer(base);
    try {
      expect(server.driftTimer).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('a bad schedule stops the start, naming the setting', async () => {
    await expect(startLocalServer({ ...base, DRIFT_CHECK_SCHEDULE: 'every 5 minutes' })).rejects.toThrow(
      /DRIFT_CHECK_SCHEDULE: .*not a schedule/,
    );
  });

  describe('set to cron(0/5 * * * ? *), with Slack', () => {
    let server: LocalServer;
    beforeAll(async () => {
      server = await startLocalServer({
        ...base,
        DRIFT_CHECK_SCHEDULE: 'cron(0/5 * * * ? *)',
        SLACK_BOT_TOKEN: slack.token,
        SLACK_CHANNEL: slack.channel,
        SLACK_API_URL: slack.apiUrl,
        ALERT_GROUP_WAIT: '0s',
      });
      const deployment = webDeployment('default');
      (deployment.spec as { replicas: number }).replicas = 1;
      const client = await server.deps.clusters.client();
      await client.apply(await client.resolve('Deployment', 'apps/v1'), deployment);
      await server.deps.baselines.record({ cluster: 'fake', manifest: deployment, appliedBy: 'a', requestId: 'r' });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("is armed for the schedule's next time", () => {
      const next = server.driftTimer?.nextAt();
      expect(next).toBeDefined();
      const now = Date.now();
      // The next multiple of 5 minutes from when it was armed (at most 5 minutes ahead).
      expect(next as number).toBeGreaterThan(now - 60_000);
      expect(next as number).toBeLessThanOrEqual(now + 5 * 60_000);
      expect(new Date(next as number).getUTCMinutes() % 5).toBe(0);
      expect(next).toBe(nextRun(parseSchedule('cron(0/5 * * * ? *)'), (next as number) - 1));
    });

    it('a run checks the clusters, records findings and sends the alert; the next run sends nothing new', async () => {
      await editDeployment(kube, 'default', 'web', { spec: { replicas: 4 } });
      await server.driftTimer?.runNow();
      const page = await server.deps.driftFindings.list({ limit: 10 });
      expect(page.items.map((f) => [f.name, f.state])).toEqual([['web', 'drifted']]);
      expect(page.items[0]?.changes[0]).toMatchObject({ path: 'spec.replicas', live: '4', manager: 'kubectl-edit' });
      const posted = () => slack.messages().filter((m) => !m.thread_ts).length;
      expect(posted()).toBe(1);
      await server.driftTimer?.runNow();
      expect(posted()).toBe(1);
    });
  });
});
