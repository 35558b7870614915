import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientNodeKubeClient } from '../../shared/adapters/kube/kube-client.ts';
import type { KubeObject, ResourceInfo } from '../../shared/ports/kube.ts';
import { KubeApiError } from '../../shared/ports/kube.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';

/**
 * The precondition every guarded write carries (KubeClient WriteOptions.precondition), through the
 * real adapter against the fake API server: a stale resourceVersion (or uid) is refused with the
 * API server's own 409 Conflict for every write shape, dry run or not, and nothing changes.
 */
describe('write preconditions: adapter -> fake API server', () => {
  let kube: FakeKube;
  let client: ClientNodeKubeClient;
  let deployments: ResourceInfo;
  let configMaps: ResourceInfo;
  let n = 0;
  let name: string;
  let stale: KubeObject;
  let current: KubeObject;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 50 });
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigYaml);
    client = new ClientNodeKubeClient({ cluster: 'fake', kubeConfig: kc, timeoutMs: 3000, discoveryTtlMs: 60_000 });
    deployments = await client.resolve('Deployment', 'apps/v1');
    configMaps = await client.resolve('ConfigMap', 'v1');
  });
  afterAll(async () => {
    await kube?.close();
  });

  // Each test gets its own Deployment, read once (stale) and then changed by someone else (current).
  beforeEach(async () => {
    name = `pinned-${++n}`;
    stale = await client.create(deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default', labels: { app: name } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.25.3' }] },
        },
      },
    });
    current = await client.patch(deployments, name, 'default', { metadata: { labels: { by: 'someone' } } }, 'merge');
    expect(current.metadata?.resourceVersion).not.toBe(stale.metadata?.resourceVersion);
  });

  const pinOf = (o: KubeObject) => ({
    resourceVersion: o.metadata?.resourceVersion as string,
    uid: o.metadata?.uid as string,
  });
  const modified = (resource: string, n: string) =>
    `Operation cannot be fulfilled on ${resource} "${n}": the object has been modified; please apply your changes to the latest version and try again`;

  async function refused(write: Promise<unknown>): Promise<KubeApiError> {
    const err = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    const e = err as KubeApiError;
    expect([e.status, e.reason]).toEqual([409, 'Conflict']);
    return e;
  }
  const unchanged = async () => {
    const now = await client.get(deployments, name, 'default');
    expect(now.metadata?.resourceVersion).toBe(current.metadata?.resourceVersion);
    expect((now.spec as { replicas: number }).replicas).toBe(0);
    expect(now.metadata?.labels).toEqual({ app: name, by: 'someone' });
    return now;
  };

  const updates: Array<[string, (dryRun: boolean, pin: ReturnType<typeof pinOf>) => Promise<KubeObject>]> = [
    [
      'merge patch',
      (dryRun, pin) =>
        client.patch(deployments, name, 'default', { spec: { replicas: 2 } }, 'merge', { dryRun, precondition: pin }),
    ],
    [
      'strategic merge patch',
      (dryRun, pin) =>
        client.patch(
          deployments,
          name,
          'default',
          { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27.0' }] } } } },
          'strategic',
          { dryRun, precondition: pin },
        ),
    ],
    [
      'JSON patch',
      (dryRun, pin) =>
        client.patch(deployments, name, 'default', [{ op: 'replace', path: '/spec/replicas', value: 2 }], 'json', {
          dryRun,
          precondition: pin,
        }),
    ],
    [
      'server-side apply',
      (dryRun, pin) =>
        client.apply(
          deployments,
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name, namespace: 'default' },
            spec: { replicas: 2 },
          },
          { dryRun, precondition: pin, force: true },
        ),
    ],
    [
      'scale subresource',
      (dryRun, pin) =>
        client.patch(deployments, name, 'default', { spec: { replicas: 2 } }, 'merge', {
          dryRun,
          subresource: 'scale',
          precondition: { resourceVersion: pin.resourceVersion },
        }),
    ],
  ];

  for (const [shape, write] of updates) {
    for (const dryRun of [true, false]) {
      it(`${shape}${dryRun ? ' (dry run)' : ''}: a stale resourceVersion is refused with 409 Conflict, nothing changes`, async () => {
        const e = await refused(write(dryRun, pinOf(stale)));
        expect(e.message).toContain(modified('deployments.apps', name));
        expect(e.details).toEqual({ name, group: 'apps', kind: 'deployments' });
        await unchanged();
      });
    }
    it(`${shape}: the current resourceVersion is accepted`, async () => {
      await write(false, pinOf(current));
      const now = await client.get(deployments, name, 'default');
      expect(now.metadata?.resourceVersion).not.toBe(current.metadata?.resourceVersion);
    });
  }

  it('a core kind is named by its plural alone', async () => {
    await client.create(configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default' },
      data: { a: '1' },
    });
    const cm = await client.patch(configMaps, name, 'default', { data: { a: '2' } }, 'merge');
    const e = await refused(
      client.patch(configMaps, name, 'default', { data: { a: '3' } }, 'merge', {
        precondition: { resourceVersion: String(Number(cm.metadata?.resourceVersion) - 1) },
      }),
    );
    expect(e.message).toContain(modified('configmaps', name));
    expect(e.details).toEqual({ name, kind: 'configmaps' });
  });

  it("a caller's own resourceVersion in a patch stays the precondition", async () => {
    const e = await refused(
      client.patch(
        deployments,
        name,
        'default',
        { metadata: { resourceVersion: stale.metadata?.resourceVersion }, spec: { replicas: 2 } },
        'merge',
        { precondition: pinOf(current) },
      ),
    );
    expect(e.message).toContain('the object has been modified');
    await unchanged();
  });

  for (const dryRun of [true, false]) {
    it(`delete${dryRun ? ' (dry run)' : ''}: a stale resourceVersion or another uid is refused as rest.BeforeDelete does`, async () => {
      const rv = await refused(client.delete(deployments, name, 'default', { dryRun, precondition: pinOf(stale) }));
      expect(rv.message).toContain(
        `Operation cannot be fulfilled on Deployment.apps "${name}": the ResourceVersion in the precondition (${stale.metadata?.resourceVersion}) does not match the ResourceVersion in record (${current.metadata?.resourceVersion}). The object might have been modified`,
      );
      expect(rv.details).toEqual({ name, group: 'apps', kind: 'Deployment' });
      const uid = await refused(
        client.delete(deployments, name, 'default', {
          dryRun,
          precondition: { resourceVersion: current.metadata?.resourceVersion as string, uid: 'not-its-uid' },
        }),
      );
      expect(uid.message).toContain(
        `Operation cannot be fulfilled on Deployment.apps "${name}": the UID in the precondition (not-its-uid) does not match the UID in record (${current.metadata?.uid}). The object might have been deleted and then recreated`,
      );
      await unchanged();
    });
  }

  it('delete with the current uid and resourceVersion deletes it', async () => {
    await client.delete(deployments, name, 'default', { precondition: pinOf(current) });
    expect(kube.store.get('deployments.apps', 'default', name)).toBeUndefined();
  });
});
