// The product's Kubernetes client reads pod logs the way a real API server allows: it must not
// send `Accept: text/plain` (406 NotAcceptable on real clusters, kubernetes/kubernetes#61450),
// and the fake refuses it as they do.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeKubeClient } from '../../shared/adapters/kube/kube-client.ts';
import { type FakeKube, LOG_LINES_ANNOTATION, startFakeKube } from '../support/fake-kube/index.ts';

describe('ClientNodeKubeClient.podLogs against an API server that negotiates Accept', () => {
  let kube: FakeKube;
  let client: ClientNodeKubeClient;
  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigYaml);
    client = new ClientNodeKubeClient({ cluster: 'fake', kubeConfig: kc, timeoutMs: 5000, discoveryTtlMs: 60_000 });
    kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logs' } });
    const planted = ['line with {"json": true}', 'plain text, not JSON', '"a quoted string"'];
    kube.store.put(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'logs', annotations: { [LOG_LINES_ANNOTATION]: JSON.stringify(planted) } },
        spec: {
          containers: [
            { name: 'a', image: 'nginx:1.25' },
            { name: 'b', image: 'nginx:1.25' },
          ],
        },
      },
      { reconcile: true },
    );
    const deadline = Date.now() + 10_000;
    while ((kube.store.get('pods', 'logs', 'p') as { status?: { phase?: string } }).status?.phase !== 'Running') {
      if (Date.now() > deadline) throw new Error('pod did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('reads the log as text with every option, with an Accept the server serves', async () => {
    const variants = [
      { container: 'a' },
      { container: 'b', tailLines: 3 },
      { container: 'a', tailLines: 1, timestamps: true },
      { container: 'a', sinceSeconds: 3600, limitBytes: 4096 },
    ];
    for (const opts of variants) {
      const text = await client.podLogs('logs', 'p', opts);
      // The log stays text: the last planted line arrives verbatim, never JSON-decoded.
      expect(text.trimEnd().endsWith('"a quoted string"'), JSON.stringify(opts)).toBe(true);
      if (!opts.tailLines) expect(text).toContain('plain text, not JSON');
      if (opts.tailLines) expect(text.trimEnd().split('\n')).toHaveLength(opts.tailLines);
    }
    const logCalls = kube.requests.filter((r) => r.path.endsWith('/log'));
    expect(logCalls.length).toBe(variants.length);
    expect(logCalls.every((r) => r.status === 200)).toBe(true);
  });

  it('passes the server refusals through as API errors, not as log text', async () => {
    await expect(client.podLogs('logs', 'p')).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('a container name must be specified'),
    });
    await expect(client.podLogs('logs', 'missing', { container: 'a' })).rejects.toMatchObject({ status: 404 });
  });
});
