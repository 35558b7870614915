import { describe, expect, it } from 'vitest';
import { printerKind, summarize } from '../../shared/domain/k8s/index.ts';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function meta(name: string, namespace: string | undefined, ageMs: number, extra: Record<string, unknown> = {}) {
  return { name, ...(namespace ? { namespace } : {}), uid: `uid-${name}`, creationTimestamp: ago(ageMs), ...extra };
}

const crashLoopingPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta('api-7d9f8b6c5-x2k4q', 'shop', 2 * HOUR + 15 * MIN),
  spec: { nodeName: 'ip-10-0-1-23.ec2.internal', containers: [{ name: 'api', image: 'ghcr.io/acme/api:2.4.1' }] },
  status: {
    phase: 'Running',
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
      { type: 'PodScheduled', status: 'True' },
    ],
    containerStatuses: [
      {
        name: 'api',
        image: 'ghcr.io/acme/api:2.4.1',
        ready: false,
        started: false,
        restartCount: 7,
        state: {
          waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=api' },
        },
        lastState: {
          terminated: {
            exitCode: 137,
            reason: 'OOMKilled',
            startedAt: ago(6 * MIN),
            finishedAt: ago(5 * MIN),
          },
        },
      },
    ],
  },
};

const completedJobPod = {
  kind: 'Pod',
  metadata: meta('db-migrate-28864320-9vzl2', 'shop', 3 * DAY + 4 * HOUR, {
    labels: { 'batch.kubernetes.io/job-name': 'db-migrate-28864320' },
  }),
  spec: {
    nodeName: 'ip-10-0-2-7.ec2.internal',
    restartPolicy: 'Never',
    containers: [{ name: 'migrate', image: 'acme/migrate:1.9' }],
  },
  status: {
    phase: 'Succeeded',
    conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }],
    containerStatuses: [
      {
        name: 'migrate',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: ago(3 * DAY), finishedAt: ago(3 * DAY) } },
      },
    ],
  },
};

const terminatingPod = {
  kind: 'Pod',
  metadata: meta('web-5c7d6f9d8-abcde', 'shop', 45 * 1000, {
    deletionTimestamp: ago(-30 * 1000),
    deletionGracePeriodSeconds: 30,
  }),
  spec: { nodeName: 'node-a', containers: [{ name: 'web', image: 'nginx:1.27' }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: ago(40_000) } } }],
  },
};

const multiContainerPod = {
  kind: 'Pod',
  metadata: meta('checkout-6b8f7-qq9zt', 'shop', 9 * MIN + 10 * 1000),
  spec: {
    nodeName: 'node-b',
    containers: [
      { name: 'checkout', image: 'acme/checkout:3.1.0' },
      { name: 'envoy', image: 'envoyproxy/envoy:v1.31.0' },
    ],
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [
      { name: 'checkout', ready: true, restartCount: 1, state: { running: { startedAt: ago(8 * MIN) } } },
      { name: 'envoy', ready: false, restartCount: 2, state: { running: { startedAt: ago(1 * MIN) } } },
    ],
  },
};

const imagePullPod = {
  kind: 'Pod',
  metadata: meta('worker-0', 'jobs', 3 * MIN),
  spec: { nodeName: 'node-a', containers: [{ name: 'worker', image: 'acme/worker:does-not-exist' }] },
  status: {
    phase: 'Pending',
    containerStatuses: [
      {
        name: 'worker',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
      },
    ],
  },
};

describe('summarize: pods (kubectl printPod)', () => {
  const { columns, rows } = summarize(
    'pods',
    [crashLoopingPod, completedJobPod, terminatingPod, multiContainerPod, imagePullPod],
    NOW,
  );

  it('has kubectl-like columns', () => {
    expect(columns).toEqual(['name', 'namespace', 'ready', 'status', 'restarts', 'age', 'node']);
  });

  it('shows the waiting reason of a crash-looping container and sums restarts', () => {
    expect(rows[0]).toEqual({
      name: 'api-7d9f8b6c5-x2k4q',
      namespace: 'shop',
      ready: '0/1',
      status: 'CrashLoopBackOff',
      restarts: 7,
      age: '135m',
      node: 'ip-10-0-1-23.ec2.internal',
    });
  });

  it('shows Completed for a finished job pod', () => {
    expect(rows[1]).toMatchObject({ ready: '0/1', status: 'Completed', restarts: 0, age: '3d4h' });
  });

  it('shows Terminating once deletionTimestamp is set on a running pod', () => {
    expect(rows[2]).toMatchObject({ ready: '1/1', status: 'Terminating', age: '45s' });
  });

  it('counts ready containers across a multi-container pod', () => {
    expect(rows[3]).toMatchObject({ ready: '1/2', status: 'Running', restarts: 3, age: '9m10s', node: 'node-b' });
  });

  it('shows ImagePullBackOff', () => {
    expect(rows[4]).toMatchObject({ ready: '0/1', status: 'ImagePullBackOff', age: '3m' });
  });

  it('handles init containers, sidecars, eviction, unscheduled and lost nodes like kubectl', () => {
    const initFailing = {
      kind: 'Pod',
      metadata: meta('init-pod', 'shop', 5 * MIN),
      spec: { initContainers: [{ name: 'wait-db', image: 'busybox' }], containers: [{ name: 'app', image: 'app' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'wait-db', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
        ],
      },
    };
    const initRunning = {
      kind: 'Pod',
      metadata: meta('init-running', 'shop', 5 * MIN),
      spec: { initContainers: [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'a', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'b', restartCount: 0, state: { running: { startedAt: ago(MIN) } } },
        ],
      },
    };
    const initExit = {
      kind: 'Pod',
      metadata: meta('init-exit', 'shop', 5 * MIN),
      spec: { initContainers: [{ name: 'a' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'a', restartCount: 1, state: { terminated: { exitCode: 3 } } }],
      },
    };
    const withSidecar = {
      kind: 'Pod',
      metadata: meta('sidecar-pod', 'shop', 5 * MIN),
      spec: {
        initContainers: [{ name: 'log-shipper', image: 'fluent-bit', restartPolicy: 'Always' }],
        containers: [{ name: 'app', image: 'app' }],
      },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        initContainerStatuses: [
          {
            name: 'log-shipper',
            ready: true,
            started: true,
            restartCount: 2,
            state: { running: { startedAt: ago(MIN) } },
          },
        ],
        containerStatuses: [{ name: 'app', ready: true, restartCount: 1, state: { running: { startedAt: ago(MIN) } } }],
      },
    };
    const evicted = {
      kind: 'Pod',
      metadata: meta('evicted', 'shop', 2 * DAY),
      spec: { containers: [{ name: 'app' }] },
      status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
    };
    const pending = {
      kind: 'Pod',
      metadata: meta('pending', 'shop', 20 * 1000),
      spec: { containers: [{ name: 'app' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
    };
    const gated = {
      kind: 'Pod',
      metadata: meta('gated', 'shop', 20 * 1000),
      spec: { containers: [{ name: 'app' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    };
    const nodeLost = {
      kind: 'Pod',
      metadata: meta('lost', 'shop', DAY, { deletionTimestamp: ago(HOUR) }),
      spec: { nodeName: 'gone', containers: [{ name: 'app' }] },
      status: { phase: 'Running', reason: 'NodeLost' },
    };
    const succeededDeleting = {
      ...completedJobPod,
      metadata: { ...completedJobPod.metadata, deletionTimestamp: ago(0) },
    };
    const out = summarize(
      'Pod',
      [initFailing, initRunning, initExit, withSidecar, evicted, pending, gated, nodeLost, succeededDeleting],
      NOW,
    );
    expect(out.rows.map((r) => [r.status, r.ready, r.restarts])).toEqual([
      ['Init:CrashLoopBackOff', '0/1', 4],
      ['Init:1/2', '0/1', 0],
      ['Init:ExitCode:3', '0/1', 1],
      ['Running', '2/2', 3],
      ['Evicted', '0/1', 0],
      ['Pending', '0/1', 0],
      ['SchedulingGated', '0/1', 0],
      ['Unknown', '0/1', 0],
      ['Completed', '0/1', 0], // a terminal pod being deleted keeps its phase reason
    ]);
    expect(out.rows[5]?.node).toBe('<none>');
  });
});

describe('summarize: workloads', () => {
  const template = (images: string[]) => ({
    metadata: { labels: { app: 'web' } },
    spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
  });

  it('shows a deployment mid-rollout', () => {
    const rolling = {
      kind: 'Deployment',
      metadata: meta('web', 'shop', 26 * DAY, { generation: 8 }),
      spec: { replicas: 3, template: template(['nginx:1.27', 'acme/metrics-sidecar:0.3']) },
      status: {
        observedGeneration: 8,
        replicas: 4,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
        unavailableReplicas: 1,
      },
    };
    const stuck = {
      kind: 'Deployment',
      metadata: meta('api', 'shop', 50 * MIN),
      spec: { replicas: 2, template: template(['ghcr.io/acme/api:2.4.1']) },
      status: { replicas: 2, updatedReplicas: 2, unavailableReplicas: 2 },
    };
    const out = summarize('deployments.apps', [rolling, stuck], NOW);
    expect(out.columns).toEqual(['name', 'namespace', 'ready', 'upToDate', 'available', 'age', 'images']);
    expect(out.rows).toEqual([
      {
        name: 'web',
        namespace: 'shop',
        ready: '3/3',
        upToDate: 2,
        available: 3,
        age: '26d',
        images: 'nginx:1.27,acme/metrics-sidecar:0.3',
      },
      {
        name: 'api',
        namespace: 'shop',
        ready: '0/2',
        upToDate: 2,
        available: 0,
        age: '50m',
        images: 'ghcr.io/acme/api:2.4.1',
      },
    ]);
  });

  it('shows replicasets, statefulsets and daemonsets', () => {
    const rs = {
      kind: 'ReplicaSet',
      metadata: meta('web-5c7d6f9d8', 'shop', 2 * HOUR),
      spec: { replicas: 2 },
      status: { replicas: 3, readyReplicas: 1 },
    };
    expect(summarize('rs', [rs], NOW).rows[0]).toEqual({
      name: 'web-5c7d6f9d8',
      namespace: 'shop',
      desired: 2,
      current: 3,
      ready: 1,
      age: '120m',
    });
    const sts = {
      kind: 'StatefulSet',
      metadata: meta('pg', 'db', 400 * DAY),
      spec: { replicas: 3 },
      status: { readyReplicas: 2 },
    };
    expect(summarize('StatefulSet', [sts], NOW).rows[0]).toEqual({
      name: 'pg',
      namespace: 'db',
      ready: '2/3',
      age: '400d',
    });
    const ds = {
      kind: 'DaemonSet',
      metadata: meta('node-exporter', 'monitoring', 10 * DAY),
      status: {
        desiredNumberScheduled: 5,
        currentNumberScheduled: 5,
        numberReady: 4,
        updatedNumberScheduled: 3,
        numberAvailable: 4,
      },
    };
    expect(summarize('ds', [ds], NOW)).toEqual({
      columns: ['name', 'namespace', 'desired', 'current', 'ready', 'upToDate', 'available', 'age'],
      rows: [
        {
          name: 'node-exporter',
          namespace: 'monitoring',
          desired: 5,
          current: 5,
          ready: 4,
          upToDate: 3,
          available: 4,
          age: '10d',
        },
      ],
    });
  });

  it('shows jobs: completions, duration and status', () => {
    const complete = {
      kind: 'Job',
      metadata: meta('db-migrate-28864320', 'shop', 3 * DAY + 4 * HOUR),
      spec: { completions: 1, parallelism: 1 },
      status: {
        startTime: ago(3 * DAY + 4 * HOUR),
        completionTime: ago(3 * DAY + 4 * HOUR - 95_000),
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    };
    const failed = {
      kind: 'Job',
      metadata: meta('report', 'shop', HOUR),
      spec: { completions: 3, parallelism: 1, backoffLimit: 2 },
      status: {
        startTime: ago(HOUR),
        failed: 3,
        succeeded: 1,
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
      },
    };
    const running = {
      kind: 'Job',
      metadata: meta('reindex', 'search', 4 * MIN),
      spec: { parallelism: 4 },
      status: { startTime: ago(4 * MIN + 5_000), active: 4 },
    };
    const out = summarize('jobs', [complete, failed, running], NOW);
    expect(out.columns).toEqual(['name', 'namespace', 'status', 'completions', 'duration', 'age']);
    expect(out.rows.map((r) => [r.status, r.completions, r.duration, r.age])).toEqual([
      ['Complete', '1/1', '95s', '3d4h'],
      ['Failed', '1/3', '60m', '60m'],
      ['Running', '0/1 of 4', '4m5s', '4m'],
    ]);
  });

  it('shows cronjobs', () => {
    const cj = {
      kind: 'CronJob',
      metadata: meta('db-migrate', 'shop', 30 * DAY),
      spec: { schedule: '0 */6 * * *', suspend: false },
      status: { active: [{ kind: 'Job', name: 'db-migrate-28864320' }], lastScheduleTime: ago(2 * HOUR + 5 * MIN) },
    };
    const never = {
      kind: 'CronJob',
      metadata: meta('cleanup', 'shop', MIN * 3),
      spec: { schedule: '@daily', suspend: true },
    };
    expect(summarize('cj', [cj, never], NOW).rows).toEqual([
      {
        name: 'db-migrate',
        namespace: 'shop',
        schedule: '0 */6 * * *',
        suspend: 'False',
        active: 1,
        lastSchedule: '125m',
        age: '30d',
      },
      {
        name: 'cleanup',
        namespace: 'shop',
        schedule: '@daily',
        suspend: 'True',
        active: 0,
        lastSchedule: '<none>',
        age: '3m',
      },
    ]);
  });
});

describe('summarize: networking, cluster and config objects', () => {
  it('shows services of every type', () => {
    const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
      kind: 'Service',
      metadata: meta(name, 'shop', DAY),
      spec,
      status,
    });
    const out = summarize(
      'svc',
      [
        svc('web', {
          type: 'ClusterIP',
          clusterIP: '10.96.12.4',
          clusterIPs: ['10.96.12.4'],
          ports: [
            { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
            { name: 'https', port: 443, protocol: 'TCP' },
          ],
        }),
        svc('admin', {
          type: 'NodePort',
          clusterIP: '10.96.0.9',
          ports: [{ port: 8080, nodePort: 30080, protocol: 'TCP' }],
        }),
        svc('edge', {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.10',
          ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }],
        }),
        svc(
          'public',
          { type: 'LoadBalancer', clusterIP: '10.96.0.11', ports: [{ port: 80, protocol: 'TCP' }] },
          { loadBalancer: { ingress: [{ hostname: 'a1b2c3.elb.us-east-1.amazonaws.com' }] } },
        ),
        svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
        svc('pg-headless', { clusterIP: 'None', ports: [{ port: 5432, protocol: 'TCP' }] }),
      ],
      NOW,
    );
    expect(out.columns).toEqual(['name', 'namespace', 'type', 'clusterIP', 'externalIP', 'ports', 'age']);
    expect(out.rows.map((r) => [r.type, r.clusterIP, r.externalIP, r.ports])).toEqual([
      ['ClusterIP', '10.96.12.4', '<none>', '80/TCP,443/TCP'],
      ['NodePort', '10.96.0.9', '<none>', '8080:30080/TCP'],
      ['LoadBalancer', '10.96.0.10', '<pending>', '443:31443/TCP'],
      ['LoadBalancer', '10.96.0.11', 'a1b2c3.elb.us-east-1.amazonaws.com', '80/TCP'],
      ['ExternalName', '<none>', 'db.example.com', '<none>'],
      ['ClusterIP', 'None', '<none>', '5432/TCP'],
    ]);
  });

  it('shows nodes with roles, readiness and cordon state; namespace is empty for cluster-scoped objects', () => {
    const cp = {
      kind: 'Node',
      metadata: meta('cp-1', undefined, 90 * DAY, {
        labels: {
          'node-role.kubernetes.io/control-plane': '',
          'node-role.kubernetes.io/etcd': '',
          'kubernetes.io/os': 'linux',
        },
      }),
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        nodeInfo: { kubeletVersion: 'v1.31.2' },
      },
    };
    const worker = {
      kind: 'Node',
      metadata: meta('ip-10-0-1-23.ec2.internal', undefined, 3 * HOUR, { labels: { 'kubernetes.io/role': 'worker' } }),
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'Unknown' }],
        nodeInfo: { kubeletVersion: 'v1.31.1-eks-1a2b3c' },
      },
    };
    const fresh = { kind: 'Node', metadata: meta('new', undefined, 10_000), status: {} };
    expect(summarize('nodes', [cp, worker, fresh], NOW).rows).toEqual([
      { name: 'cp-1', namespace: '', status: 'Ready', roles: 'control-plane,etcd', age: '90d', version: 'v1.31.2' },
      {
        name: 'ip-10-0-1-23.ec2.internal',
        namespace: '',
        status: 'NotReady,SchedulingDisabled',
        roles: 'worker',
        age: '3h',
        version: 'v1.31.1-eks-1a2b3c',
      },
      { name: 'new', namespace: '', status: 'Unknown', roles: '<none>', age: '10s', version: '' },
    ]);
  });

  it('shows namespaces', () => {
    const ns = { kind: 'Namespace', metadata: meta('shop', undefined, 5 * DAY), status: { phase: 'Terminating' } };
    expect(summarize('Namespace', [ns], NOW)).toEqual({
      columns: ['name', 'namespace', 'status', 'age'],
      rows: [{ name: 'shop', namespace: '', status: 'Terminating', age: '5d' }],
    });
  });

  it('shows events (core/v1 and events.k8s.io/v1), cutting long messages at 200 characters', () => {
    const backoff = {
      kind: 'Event',
      metadata: meta('api-7d9f8b6c5-x2k4q.17f9a', 'shop', HOUR),
      involvedObject: { kind: 'Pod', name: 'api-7d9f8b6c5-x2k4q', namespace: 'shop' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container api in pod api-7d9f8b6c5-x2k4q_shop(1234)',
      type: 'Warning',
      count: 31,
      firstTimestamp: ago(HOUR),
      lastTimestamp: ago(40_000),
    };
    const longMessage = `0/5 nodes are available: ${'3 Insufficient memory, '.repeat(20)}preemption: 0/5 nodes are available.`;
    const scheduling = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: meta('worker-0.17f9b', 'jobs', 10 * MIN),
      regarding: { kind: 'Pod', name: 'worker-0' },
      reason: 'FailedScheduling',
      note: longMessage,
      type: 'Warning',
      eventTime: ago(10 * MIN),
      series: { count: 4, lastObservedTime: ago(2 * MIN) },
    };
    const nodeEvent = {
      kind: 'Event',
      metadata: meta('cp-1.17f9c', 'default', MIN),
      involvedObject: { kind: 'Node' },
      reason: 'NodeReady',
      message: 'Node cp-1 status is now: NodeReady\n',
      type: 'Normal',
      eventTime: ago(5_000),
    };
    const out = summarize('events', [backoff, scheduling, nodeEvent], NOW);
    expect(out.columns).toEqual(['name', 'namespace', 'lastSeen', 'type', 'reason', 'object', 'count', 'message']);
    expect(out.rows[0]).toMatchObject({
      lastSeen: '40s',
      type: 'Warning',
      reason: 'BackOff',
      object: 'pod/api-7d9f8b6c5-x2k4q',
      count: 31,
    });
    expect(out.rows[1]).toMatchObject({ lastSeen: '2m', object: 'pod/worker-0', count: 4 });
    const message = String(out.rows[1]?.message);
    expect(Array.from(message)).toHaveLength(201);
    expect(message.endsWith('…')).toBe(true);
    expect(message.startsWith('0/5 nodes are available: 3 Insufficient memory')).toBe(true);
    expect(out.rows[2]).toMatchObject({
      lastSeen: '5s',
      object: 'node',
      count: 1,
      message: 'Node cp-1 status is now: NodeReady',
    });
  });

  it('counts ConfigMap and Secret keys without showing values', () => {
    const cm = {
      kind: 'ConfigMap',
      metadata: meta('web-config', 'shop', DAY),
      data: { 'nginx.conf': 'server { listen 80; }', LOG_LEVEL: 'info' },
      binaryData: { 'logo.png': 'iVBORw0KGgo=' },
    };
    const secret = {
      kind: 'Secret',
      metadata: meta('db-credentials', 'shop', DAY),
      type: 'kubernetes.io/basic-auth',
      data: { username: 'YXBw', password: 'cGE1NXdvcmQtOTk=' },
    };
    expect(summarize('cm', [cm], NOW).rows).toEqual([{ name: 'web-config', namespace: 'shop', data: 3, age: '24h' }]);
    const rows = summarize('secrets', [secret], NOW).rows;
    expect(rows).toEqual([
      { name: 'db-credentials', namespace: 'shop', type: 'kubernetes.io/basic-auth', data: 2, age: '24h' },
    ]);
    expect(JSON.stringify(rows)).not.toContain('cGE1NXdvcmQtOTk=');
  });

  it('shows ingresses', () => {
    const ing = {
      kind: 'Ingress',
      metadata: meta('shop', 'shop', 7 * DAY),
      spec: {
        ingressClassName: 'nginx',
        tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
        rules: ['shop.example.com', 'api.example.com', 'admin.example.com', 'cdn.example.com', 'img.example.com'].map(
          (host) => ({ host }),
        ),
      },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { hostname: 'lb.example.net' }] } },
    };
    const plain = {
      kind: 'Ingress',
      metadata: meta('catch-all', 'shop', DAY),
      spec: { defaultBackend: { service: { name: 'web' } } },
    };
    expect(summarize('ing', [ing, plain], NOW).rows).toEqual([
      {
        name: 'shop',
        namespace: 'shop',
        class: 'nginx',
        hosts: 'shop.example.com,api.example.com,admin.example.com + 2 more...',
        address: '203.0.113.10,lb.example.net',
        ports: '80, 443',
        age: '7d',
      },
      { name: 'catch-all', namespace: 'shop', class: '<none>', hosts: '*', address: '', ports: '80', age: '24h' },
    ]);
  });

  it('shows persistent volume claims', () => {
    const bound = {
      kind: 'PersistentVolumeClaim',
      metadata: meta('data-pg-0', 'db', 400 * DAY),
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '20Gi' } },
        storageClassName: 'gp3',
        volumeName: 'pvc-0f1e2d3c',
      },
      status: { phase: 'Bound', accessModes: ['ReadWriteMany', 'ReadWriteOnce'], capacity: { storage: '20Gi' } },
    };
    const pending = {
      kind: 'PersistentVolumeClaim',
      metadata: meta('scratch', 'jobs', 2 * MIN),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'fast' },
      status: { phase: 'Pending' },
    };
    expect(summarize('pvc', [bound, pending], NOW).rows).toEqual([
      {
        name: 'data-pg-0',
        namespace: 'db',
        status: 'Bound',
        volume: 'pvc-0f1e2d3c',
        capacity: '20Gi',
        accessModes: 'RWO,RWX',
        storageClass: 'gp3',
        age: '400d',
      },
      {
        name: 'scratch',
        namespace: 'jobs',
        status: 'Pending',
        volume: '',
        capacity: '',
        accessModes: '',
        storageClass: 'fast',
        age: '2m',
      },
    ]);
  });

  it('shows horizontal pod autoscalers (v2 metrics and v1 CPU target)', () => {
    const v2 = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('web', 'shop', 20 * DAY),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '100' } } },
        ],
      },
      status: {
        currentReplicas: 4,
        desiredReplicas: 4,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85, averageValue: '850m' } } },
        ],
      },
    };
    const v1 = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('api', 'shop', HOUR),
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      status: { currentReplicas: 1 },
    };
    const out = summarize('hpa', [v2, v1], NOW);
    expect(out.rows).toEqual([
      {
        name: 'web',
        namespace: 'shop',
        reference: 'Deployment/web',
        targets: 'cpu: 85%/70%, memory: <unknown>/500Mi + 1 more...',
        minPods: 2,
        maxPods: 10,
        replicas: 4,
        age: '20d',
      },
      {
        name: 'api',
        namespace: 'shop',
        reference: 'Deployment/api',
        targets: 'cpu: <unknown>/80%',
        minPods: '<unset>',
        maxPods: 5,
        replicas: 1,
        age: '60m',
      },
    ]);
  });
});

describe('summarize: other kinds (CRDs)', () => {
  it('shows name, namespace, age and a status from phase or the Ready condition', () => {
    const cert = (name: string, ready: Record<string, unknown>) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(name, 'shop', 12 * DAY),
      status: {
        conditions: [
          { type: 'Issuing', status: 'False' },
          { type: 'Ready', ...ready },
        ],
      },
    });
    const out = summarize(
      'certificates.cert-manager.io',
      [
        cert('shop-tls', { status: 'True', reason: 'Ready' }),
        cert('api-tls', { status: 'False', reason: 'DoesNotExist' }),
        { kind: 'Workflow', metadata: meta('nightly', 'argo', HOUR), status: { phase: 'Failed' } },
        { kind: 'Widget', metadata: meta('no-status', 'argo', HOUR) },
      ],
      NOW,
    );
    expect(out.columns).toEqual(['name', 'namespace', 'age', 'status']);
    expect(out.rows).toEqual([
      { name: 'shop-tls', namespace: 'shop', age: '12d', status: 'Ready' },
      { name: 'api-tls', namespace: 'shop', age: '12d', status: 'NotReady (DoesNotExist)' },
      { name: 'nightly', namespace: 'argo', age: '60m', status: 'Failed' },
      { name: 'no-status', namespace: 'argo', age: '60m', status: '' },
    ]);
  });

  it('omits the status column when no item has one', () => {
    const out = summarize('ClusterRole', [{ kind: 'ClusterRole', metadata: meta('view', undefined, DAY) }], NOW);
    expect(out).toEqual({ columns: ['name', 'namespace', 'age'], rows: [{ name: 'view', namespace: '', age: '24h' }] });
  });

  it('resolves kinds, resources, short names and list kinds', () => {
    expect(printerKind('Pod')).toBe('Pod');
    expect(printerKind('po')).toBe('Pod');
    expect(printerKind('PodList')).toBe('Pod');
    expect(printerKind('deployments.apps')).toBe('Deployment');
    expect(printerKind('HPA')).toBe('HorizontalPodAutoscaler');
    expect(printerKind('persistentvolumeclaims')).toBe('PersistentVolumeClaim');
    expect(printerKind('certificates.cert-manager.io')).toBeUndefined();
  });
});
