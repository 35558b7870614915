import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateWrite, parsePolicy } from '../../shared/domain/guardrails/index.ts';
import { FAKE_TOKEN } from '../support/fake-kube/index.ts';
import { renderKubeconfig } from '../support/fake-kube/kubeconfig.ts';
import { type Harness, startHarness } from '../support/k8s-harness.ts';

/**
 * Two writes that are each allowed but together forbidden, fired at one object at the same time
 * through the real tool handlers (MCP client -> local host -> API server). The policy requires
 * runAsNonRoot at pod level or in every container; the object sets both, so removing either one is
 * allowed and removing both is not.
 *
 * A proxy in front of the fake API server holds every real (non-dry-run) write of a round until both
 * writes have had their server dry run judged (or one call has ended): both are judged on the same
 * state, which is the interleaving that let both land before writes were pinned to what was judged.
 */
const POLICY = 'rules:\n  pss-restricted/run-as-non-root:\n    enabled: true\n';

/** Holds real writes while a round's gate is closed; dry runs and reads pass. */
class GatedProxy {
  private server?: Server;
  private round?: { dryRuns: number; open: boolean; waiters: Array<() => void> };
  /** Runs right before each real write is forwarded (another writer getting in first). */
  beforeWrite?: () => void;
  url = '';
  private readonly upstream: string;
  constructor(upstream: string) {
    this.upstream = upstream;
  }

  async start(): Promise<void> {
    const up = new URL(this.upstream);
    this.server = createServer((req, res) => {
      void this.forward(req, up).then(
        ({ status, headers, body }) => {
          res.writeHead(status, headers);
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        },
      );
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async forward(req: IncomingMessage, up: URL) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const write = req.method !== 'GET';
    const dryRun = new URL(req.url ?? '/', up).searchParams.get('dryRun') === 'All';
    const round = this.round;
    if (round && write && !dryRun && !round.open) await new Promise<void>((r) => round.waiters.push(r));
    if (write && !dryRun) this.beforeWrite?.();
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>(
      (resolve, reject) => {
        const out = request(
          { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            const body: Buffer[] = [];
            r.on('data', (c: Buffer) => body.push(c));
            r.on('end', () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(body) }));
            r.on('error', reject);
          },
        );
        out.on('error', reject);
        out.end(Buffer.concat(chunks));
      },
    );
    if (round && write && dryRun && ++round.dryRuns >= 2) this.open(round);
    return answer;
  }

  private open(round: NonNullable<GatedProxy['round']>): void {
    round.open = true;
    for (const w of round.waiters.splice(0)) w();
  }

  /** Runs both calls with the gate closed until both were dry-run, or one of them ended. */
  async race<T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> {
    const round = { dryRuns: 0, open: false, waiters: [] as Array<() => void> };
    this.round = round;
    try {
      return await Promise.all([a().finally(() => this.open(round)), b().finally(() => this.open(round))]);
    } finally {
      this.open(round);
      this.round = undefined;
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const deployment = (opts: { podLevel: boolean; containerLevel: boolean }) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'racer', namespace: 'default', labels: { app: 'racer' } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: 'racer' } },
    template: {
      metadata: { labels: { app: 'racer' } },
      spec: {
        ...(opts.podLevel ? { securityContext: { runAsNonRoot: true } } : {}),
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25.3',
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
            ...(opts.containerLevel ? { securityContext: { runAsNonRoot: true } } : {}),
          },
        ],
      },
    },
  },
});

type Call = { isError: boolean; text: string; data: Record<string, unknown> };

describe('concurrent writes cannot combine into a state nobody judged', () => {
  let h: Harness;
  let proxy: GatedProxy;
  let dir: string;
  const policy = parsePolicy(POLICY);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'write-races-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    // The harness's own fake API server, reached through the gate.
    h = await startHarness({ POLICY_FILE: join(dir, 'policy.yaml') });
    proxy = new GatedProxy(h.kube.url);
    await proxy.start();
    writeFileSync(
      join(dir, 'kubeconfig'),
      renderKubeconfig({ clusterName: 'fake', server: proxy.url, token: FAKE_TOKEN }),
    );
  });
  afterAll(async () => {
    await h?.close();
    await proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const patch = (patchType: string, body: unknown) => () =>
    gated.call('k8s_resources_patch', {
      kind: 'Deployment',
      name: 'racer',
      namespace: 'default',
      patchType,
      patch: JSON.stringify(body),
    });
  const apply = (doc: unknown) => () => gated.call('k8s_resources_apply', { manifest: JSON.stringify(doc) });
  let gated: Harness;

  const dropPodLevel = { spec: { template: { spec: { securityContext: { runAsNonRoot: null } } } } };
  const dropContainerLevel = {
    spec: { template: { spec: { containers: [{ name: 'app', securityContext: { runAsNonRoot: null } }] } } },
  };
  const pairs: Array<[string, () => Promise<Call>, () => Promise<Call>]> = [];

  it('no round of concurrent, individually allowed writes ever ends in a forbidden state', async () => {
    // A second local host on the same fake cluster, whose API calls go through the gate.
    gated = await startHarness({ POLICY_FILE: join(dir, 'policy.yaml'), KUBECONFIG: join(dir, 'kubeconfig') });
    try {
      pairs.push(
        [
          'strategic pod level / strategic container',
          patch('strategic', dropPodLevel),
          patch('strategic', dropContainerLevel),
        ],
        [
          'merge pod level / JSON patch container',
          patch('merge', dropPodLevel),
          patch('json', [{ op: 'remove', path: '/spec/template/spec/containers/0/securityContext/runAsNonRoot' }]),
        ],
        [
          'apply without pod level / strategic container',
          apply(deployment({ podLevel: false, containerLevel: true })),
          patch('strategic', dropContainerLevel),
        ],
        ['strategic container / merge pod level', patch('strategic', dropContainerLevel), patch('merge', dropPodLevel)],
      );
      let refusedOrConflicted = 0;
      let succeeded = 0;
      const ROUNDS = 3;
      for (let r = 0; r < ROUNDS; r++) {
        for (const [label, a, b] of pairs) {
          // Back to the state where each change alone is allowed (outside the gate: no round open).
          const reset = await h.call('k8s_resources_apply', {
            manifest: JSON.stringify(deployment({ podLevel: true, containerLevel: true })),
            force: true,
          });
          expect(reset.isError, reset.text).toBe(false);
          const results = await proxy.race(a, b);
          const final = h.kube.store.get('deployments.apps', 'default', 'racer');
          const verdict = evaluateWrite(
            {
              verb: 'apply',
              cluster: 'fake',
              kind: 'Deployment',
              apiVersion: 'apps/v1',
              namespaced: true,
              namespace: 'default',
              name: 'racer',
              object: final as Record<string, unknown>,
            },
            policy,
          );
          expect(verdict.allowed, `${label}, round ${r + 1}: ${JSON.stringify(results.map((x) => x.text))}`).toBe(true);
          for (const res of results) {
            if (!res.isError) {
              succeeded++;
              expect(res.text).toMatch(/^(Patched|Applied)/);
              continue;
            }
            refusedOrConflicted++;
            // A refused or conflicted write says so, and that nothing of it was written.
            expect(res.text).toMatch(
              /refused by guardrails[\s\S]*pss-restricted\/run-as-non-root[\s\S]*Nothing was changed|while this write was being judged[\s\S]*nothing was written|the object has been modified/,
            );
          }
          // Both cannot have landed: together they are forbidden.
          expect(results.filter((x) => !x.isError).length, label).toBeLessThanOrEqual(1);
        }
      }
      expect(refusedOrConflicted).toBeGreaterThanOrEqual(ROUNDS * pairs.length);
      expect(succeeded).toBeGreaterThan(0);
    } finally {
      await gated.close();
    }
  });

  it('an object that changes before every write: nothing is written, and the tool says why', async () => {
    const writer = await startHarness({ POLICY_FILE: join(dir, 'policy.yaml'), KUBECONFIG: join(dir, 'kubeconfig') });
    let touches = 0;
    try {
      const reset = await h.call('k8s_resources_apply', {
        manifest: JSON.stringify(deployment({ podLevel: true, containerLevel: true })),
        force: true,
      });
      expect(reset.isError, reset.text).toBe(false);
      // Someone else changes the object between every judgement and its write.
      proxy.beforeWrite = () => {
        const live = h.kube.store.get('deployments.apps', 'default', 'racer') as unknown as {
          metadata: Record<string, unknown>;
        };
        h.kube.store.put({
          ...live,
          metadata: { ...live.metadata, labels: { app: 'racer', touched: String(++touches) } },
        } as never);
      };
      const calls: Array<[string, Record<string, unknown>]> = [
        [
          'k8s_resources_patch',
          { kind: 'Deployment', name: 'racer', patch: JSON.stringify({ metadata: { annotations: { a: 'b' } } }) },
        ],
        ['k8s_workloads_scale', { name: 'racer', replicas: 2 }],
        ['k8s_rollouts_restart', { name: 'racer' }],
        ['k8s_resources_delete', { kind: 'Deployment', name: 'racer' }],
      ];
      for (const [tool, args] of calls) {
        const before = touches;
        const r = await writer.call(tool, args);
        expect(r.isError, `${tool}: ${r.text}`).toBe(true);
        expect(r.text).toContain('changed on fake while this write was being judged (tried 3 times');
        expect(r.text).toContain('nothing was written');
        expect(r.data).toMatchObject({ refused: true, conflict: true, attempts: 3 });
        // Judged again from a fresh read on each of the 3 attempts.
        expect(touches - before).toBe(3);
      }
      const final = h.kube.store.get('deployments.apps', 'default', 'racer') as unknown as {
        metadata: { annotations?: Record<string, string> };
        spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> } } };
      };
      expect(final).toBeDefined();
      expect(final.metadata.annotations?.a).toBeUndefined();
      expect(final.spec.replicas).toBe(0);
      expect(final.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    } finally {
      proxy.beforeWrite = undefined;
      await writer.close();
    }
  });

  it('a delete by selector removes only the objects as they were listed and judged, and says which', async () => {
    const writer = await startHarness({ POLICY_FILE: join(dir, 'policy.yaml'), KUBECONFIG: join(dir, 'kubeconfig') });
    try {
      for (const n of ['sel-a', 'sel-b', 'sel-c']) {
        await h.ok('k8s_resources_apply', {
          manifest: JSON.stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: n, namespace: 'default', labels: { batch: 'x' } },
            data: { v: '1' },
          }),
        });
      }
      // sel-b changes after the list was judged, before the deletes: it must stay, and so must what follows.
      proxy.beforeWrite = () => {
        const b = h.kube.store.get('configmaps', 'default', 'sel-b') as unknown as Record<string, unknown>;
        h.kube.store.put({ ...b, data: { v: String(Math.random()) } } as never);
      };
      const r = await writer.call('k8s_resources_delete', { kind: 'ConfigMap', labelSelector: 'batch=x', maxCount: 3 });
      expect(r.isError, r.text).toBe(true);
      expect(r.text).toContain('Deleted sel-a; ConfigMap sel-b changed on fake after it was listed and judged');
      expect(r.text).toContain('(sel-b, sel-c) were not deleted');
      expect(h.kube.store.get('configmaps', 'default', 'sel-a')).toBeUndefined();
      expect(h.kube.store.get('configmaps', 'default', 'sel-b')).toBeDefined();
      expect(h.kube.store.get('configmaps', 'default', 'sel-c')).toBeDefined();
    } finally {
      proxy.beforeWrite = undefined;
      await writer.close();
    }
  });
});
