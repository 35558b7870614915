// What a fresh cluster contains: the system namespaces, the `kubernetes` Service and one Ready node.
import { randomUUID } from 'node:crypto';
import { timestamp } from './json.ts';
import type { ObjectService, WriteContext } from './object-service.ts';
import { NODE_IP } from './pod-lifecycle.ts';
import type { KubeObject } from './types.ts';

export const NODE_NAME = 'node-1';
export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'] as const;

const BOOTSTRAP: WriteContext = { origin: 'controller', manager: 'kube-apiserver', dryRun: false };

function nodeObject(): KubeObject {
  const now = timestamp();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  const resources = {
    cpu: '4',
    'ephemeral-storage': '102626232Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: '16375000Ki',
    pods: '110',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      uid: randomUUID(),
      creationTimestamp: now,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': NODE_NAME,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/control-plane': '',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], providerID: `fake://${NODE_NAME}` },
    status: {
      capacity: resources,
      allocatable: { ...resources, memory: '16272600Ki' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: NODE_IP },
        { type: 'Hostname', address: NODE_NAME },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: 'f4c1e0d5a0b94c3e9d2a7b6c5d4e3f21',
        systemUUID: 'f4c1e0d5-a0b9-4c3e-9d2a-7b6c5d4e3f21',
        bootID: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
        kernelVersion: '6.8.0-fake',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.18',
        kubeletVersion: 'v1.31.0',
        kubeProxyVersion: 'v1.31.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export function seedCluster(service: ObjectService): void {
  const registry = service.registry;
  const ns = registry.resolve('namespaces');
  const svc = registry.resolve('services');
  const nodes = registry.resolve('nodes');
  if (!ns || !svc || !nodes) throw new Error('fake-kube: core types missing from the registry');
  for (const name of SYSTEM_NAMESPACES) service.create(ns, undefined, { metadata: { name } }, BOOTSTRAP);
  service.create(
    svc,
    'default',
    {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    BOOTSTRAP,
  );
  service.store.create(nodes.storage, NODE_NAME, nodeObject(), 'controller');
}
