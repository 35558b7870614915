import { expect } from 'vitest';
import type { KubeObject } from '../../shared/ports/kube.ts';
import { FAKE_TOKEN, type FakeKube } from './fake-kube/index.ts';

/** A small Deployment (`nginx:1.25`, 2 replicas) as the drift tests apply and baseline it. */
export function webDeployment(namespace: string, name = 'web'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
    },
  };
}

/**
 * Someone else changes a Deployment, as `kubectl edit` would: a strategic merge patch under the field
 * manager `kubectl-edit` (the fake API server records it in managedFields, as the real one does).
 */
export async function editDeployment(
  kube: FakeKube,
  namespace: string,
  name: string,
  patch: Record<string, unknown>,
  manager = 'kubectl-edit',
): Promise<void> {
  const res = await fetch(
    `${kube.url}/apis/apps/v1/namespaces/${namespace}/deployments/${name}?fieldManager=${encodeURIComponent(manager)}`,
    {
      method: 'PATCH',
      headers: { authorization: `Bearer ${FAKE_TOKEN}`, 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify(patch),
    },
  );
  expect(res.status, await res.clone().text()).toBe(200);
}
