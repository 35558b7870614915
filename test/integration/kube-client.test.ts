import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeKubeClient } from '../../shared/adapters/kube/kube-client.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';

describe('ClientNodeKubeClient connection pool', () => {
  let kube: FakeKube;
  const accepted = new Map<number, number>();
  const onSocket = (message: unknown) => {
    const port = (message as { socket?: Socket }).socket?.localPort;
    if (port !== undefined) accepted.set(port, (accepted.get(port) ?? 0) + 1);
  };
  beforeAll(async () => {
    kube = await startFakeKube();
    subscribe('net.server.socket', onSocket);
  });
  afterAll(async () => {
    unsubscribe('net.server.socket', onSocket);
    await kube?.close();
  });

  it('reuses one pool, and replaces it after a while so rotated TLS material is picked up', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigYaml);
    let now = 1_000_000;
    const client = new ClientNodeKubeClient({
      cluster: 'fake',
      kubeConfig: kc,
      timeoutMs: 3000,
      discoveryTtlMs: 60_000,
      now: () => now,
    });
    const port = Number(new URL(kube.url).port);
    const connections = () => accepted.get(port) ?? 0;
    const res = await client.resolve('Namespace');
    const before = connections();
    for (let i = 0; i < 5; i++) await client.get(res, 'default');
    // Keep-alive: five requests, no new connection.
    expect(connections()).toBe(before);
    // Six minutes later the pool (and the CA and client certificate it was built with) is renewed.
    now += 6 * 60_000;
    await client.get(res, 'default');
    expect(connections()).toBe(before + 1);
    // The new pool is kept (a pause lets undici hand the one connection back between requests).
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await client.get(res, 'default');
    }
    expect(connections()).toBe(before + 1);
  });
});
