/**
 * The drift check at 1,000 and 10,000 baselined objects (issue 12): API calls and CPU time per
 * check, and the ratio 10k/1k. Goals: the ratio at most 11x (linear in objects, one list per kind
 * and namespace set rather than a get per object) and at most 2 s of CPU for 10,000 objects.
 *
 * The fake Kubernetes API server (test/support/fake-kube) runs in a child process seeded with the
 * live objects (server defaults, status and managedFields as the API server keeps them; 1% changed
 * by kubectl-edit), so `process.cpuUsage()` here is the check's own cost: the real client
 * (@kubernetes/client-node through ClientNodeKubeClient), the baselines read from the Store (in
 * memory), the comparison and the findings written back. Exits 1 when a goal is missed.
 *
 *   node_modules/.bin/node bench/drift.bench.ts      BENCH_R=<measured checks per size>, default 5,
 *   after one warm-up check. Needs Node 22.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { KubeconfigClusters } from '../shared/adapters/kube/kubeconfig-clusters.ts';
import { MemoryStore } from '../shared/adapters/local/memory-store.ts';
import { checkDrift } from '../shared/app/drift/check.ts';
import type { DriftCheckReport } from '../shared/app/drift/types.ts';
import { Baselines } from '../shared/app/repos/baselines.ts';
import { DriftFindings } from '../shared/app/repos/drift-findings.ts';
import { defaultPolicy } from '../shared/domain/guardrails/index.ts';
import { VERSION } from '../shared/version.ts';
import { gitCommit, machineFacts, resultsFile, stats, table, writeJson } from './lib/report.ts';
import { envInt, hardDeadline, runMain } from './lib/run.ts';

const SIZES = [1000, 10_000] as const;
const NAMESPACES = 10;
/** One object in this many drifted. */
const DRIFT_EVERY = 100;
const GOAL_RATIO = 11;
const GOAL_CPU_MS_10K = 2000;
const R = envInt('BENCH_R', { fallback: 5, min: 1, max: 100 });
const DEADLINE_MS = 10 * 60_000;

type Rec = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The objects: half Deployments, half ConfigMaps, spread over NAMESPACES namespaces.

function manifestOf(i: number): Rec {
  const namespace = `team-${i % NAMESPACES}`;
  if (i % 2 === 1) {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cfg-${i}`, namespace, labels: { app: `app-${i}` } },
      data: { MODE: 'prod', LEVEL: 'info', 'app.properties': `port=8080\nname=app-${i}\n` },
    };
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${i}`, namespace, labels: { app: `app-${i}` } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: `app-${i}` } },
      template: {
        metadata: { labels: { app: `app-${i}` } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.example/web:1.4.2',
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [
                { name: 'MODE', value: 'prod' },
                { name: 'DB_HOST', value: 'db.internal' },
              ],
              resources: { requests: { cpu: '0.1', memory: '128Mi' }, limits: { memory: '256Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
            },
          ],
        },
      },
    },
  };
}

const APPLY_FIELDS = {
  'f:metadata': { 'f:labels': { 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': {
            '.': {},
            'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
            'f:image': {},
            'f:name': {},
            'f:ports': {
              'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} },
            },
            'f:readinessProbe': {},
            'f:resources': {},
          },
        },
      },
    },
  },
};

/** The object as the API server holds it: defaults, canonical quantities, metadata, status, managedFields. */
function liveOf(i: number): Rec {
  const m = structuredClone(manifestOf(i));
  const drifted = i % DRIFT_EVERY === 0;
  const managedFields: Rec[] = [
    {
      manager: 'cloudops-mcp',
      operation: 'Apply',
      apiVersion: String(m.apiVersion),
      time: '2026-12-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1:
        m.kind === 'ConfigMap' ? { 'f:data': { 'f:MODE': {}, 'f:LEVEL': {}, 'f:app.properties': {} } } : APPLY_FIELDS,
    },
  ];
  m.metadata = {
    ...(m.metadata as Rec),
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resourceVersion: String(1000 + i),
    creationTimestamp: '2026-12-01T00:00:00Z',
    managedFields,
  };
  if (m.kind === 'ConfigMap') return m;
  const spec = m.spec as Rec & { template: { spec: Rec & { containers: Rec[] } } };
  Object.assign(spec, { revisionHistoryLimit: 10, progressDeadlineSeconds: 600 });
  spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  Object.assign(spec.template.spec, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  });
  const c = spec.template.spec.containers[0] as Rec;
  Object.assign(c, {
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
  if (drifted) {
    c.image = 'registry.example/web:1.4.3-hotfix';
    managedFields.push({
      manager: 'kubectl-edit',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2026-12-02T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } },
      },
    });
  }
  m.status = { observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 };
  return m;
}

const expectedDrifted = (n: number) => Math.ceil(n / DRIFT_EVERY);

// ---------------------------------------------------------------------------------------------
// The child: the fake API server with `size` objects; answers `requests` with its request count.

async function serve(size: number): Promise<void> {
  const { startFakeKube } = await import('../test/support/fake-kube/index.ts');
  const fake = await startFakeKube({ readyDelayMs: 60_000 });
  for (let n = 0; n < NAMESPACES; n++)
    fake.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${n}` } });
  for (let i = 0; i < size; i++) fake.store.put(liveOf(i) as never);
  console.log(JSON.stringify({ kubeconfigPath: fake.kubeconfigPath }));
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'requests') console.log(JSON.stringify({ requests: fake.requests.length }));
  }
  await fake.close();
  process.exit(0);
}

interface Server {
  kubeconfigPath: string;
  requests(): Promise<number>;
  close(): void;
}

async function startServer(size: number): Promise<Server> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(size)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('the fake API server process ended');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const first = await next();
  return {
    kubeconfigPath: String(first.kubeconfigPath),
    async requests() {
      child.stdin.write('requests\n');
      return Number((await next()).requests);
    },
    close() {
      child.stdin.end();
      child.kill();
    },
  };
}

// ---------------------------------------------------------------------------------------------

interface SizeResult {
  objects: number;
  apiCalls: number;
  httpRequests: number;
  cpuMs: ReturnType<typeof stats>;
  wallMs: ReturnType<typeof stats>;
  counts: DriftCheckReport['counts'];
}

async function measure(size: number): Promise<SizeResult> {
  const server = await startServer(size);
  try {
    const clock = { now: () => Date.now() };
    const store = new MemoryStore(clock);
    const baselines = new Baselines(store, clock);
    for (let i = 0; i < size; i++) {
      await baselines.record({ cluster: 'fake', manifest: manifestOf(i), appliedBy: 'bench', requestId: 'bench' });
    }
    const clusters = new KubeconfigClusters(
      { kubeconfig: server.kubeconfigPath, timeoutMs: 60_000, discoveryTtlMs: 10 * 60_000 },
      {},
    );
    const deps = {
      clusters,
      store,
      clock,
      baselines,
      log: pino({ level: 'silent' }),
      policy: defaultPolicy(),
      driftFindings: new DriftFindings(store, clock),
    };
    const run = () => checkDrift(deps, { trigger: 'cli', requestId: 'bench' });
    const check = (r: DriftCheckReport) => {
      const want = {
        objects: size,
        clean: size - expectedDrifted(size),
        drifted: expectedDrifted(size),
        deleted: 0,
        error: 0,
      };
      if (JSON.stringify(r.counts) !== JSON.stringify(want))
        throw new Error(`${size} objects: counts ${JSON.stringify(r.counts)}, expected ${JSON.stringify(want)}`);
    };
    check(await run()); // warm-up: discovery, JIT
    const cpu: number[] = [];
    const wall: number[] = [];
    let last: DriftCheckReport | undefined;
    const before = await server.requests();
    for (let i = 0; i < R; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      last = await run();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      check(last);
    }
    const httpRequests = ((await server.requests()) - before) / R;
    return {
      objects: size,
      apiCalls: last?.apiCalls ?? 0,
      httpRequests,
      cpuMs: stats(cpu),
      wallMs: stats(wall),
      counts: (last as DriftCheckReport).counts,
    };
  } finally {
    server.close();
  }
}

async function main(): Promise<void> {
  hardDeadline(DEADLINE_MS);
  const started = Date.now();
  const machine = machineFacts();
  console.log(
    `drift: ${SIZES.join(' and ')} baselined objects (half Deployments, half ConfigMaps, ${NAMESPACES} namespaces, 1 in ${DRIFT_EVERY} drifted), ` +
      `1 warm-up + ${R} measured checks per size; node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu})`,
  );
  const results: SizeResult[] = [];
  for (const size of SIZES) results.push(await measure(size));
  const [small, big] = results as [SizeResult, SizeResult];
  const ratio = big.cpuMs.p50 / small.cpuMs.p50;
  const f = (n: number) => n.toFixed(0);
  console.log(
    table(
      [
        ['objects', 'drifted', 'API calls', 'HTTP requests', 'CPU p50 ms', 'CPU max ms', 'wall p50 ms'],
        ...results.map((r) => [
          String(r.objects),
          String(r.counts.drifted),
          String(r.apiCalls),
          r.httpRequests.toFixed(1),
          f(r.cpuMs.p50),
          f(r.cpuMs.max),
          f(r.wallMs.p50),
        ]),
      ],
      1,
    ),
  );
  const ratioOk = ratio <= GOAL_RATIO;
  const cpuOk = big.cpuMs.p50 <= GOAL_CPU_MS_10K;
  console.log(`CPU ratio 10k/1k: ${ratio.toFixed(2)}x (goal <= ${GOAL_RATIO}x) ${ratioOk ? 'ok' : 'MISSED'}`);
  console.log(`CPU for 10k: ${f(big.cpuMs.p50)} ms (goal <= ${GOAL_CPU_MS_10K} ms) ${cpuOk ? 'ok' : 'MISSED'}`);
  const file = await resultsFile('drift');
  await writeJson(file, {
    benchmark: 'drift',
    time: new Date().toISOString(),
    command: `BENCH_R=${R} node bench/drift.bench.ts`,
    version: VERSION,
    commit: gitCommit(),
    machine: { ...machine, loadAvg1m: os.loadavg()[0] ?? 0 },
    settings: { sizes: SIZES, namespaces: NAMESPACES, driftEvery: DRIFT_EVERY, rounds: R },
    results,
    ratioCpuP50: ratio,
    goals: { ratio: GOAL_RATIO, cpuMs10k: GOAL_CPU_MS_10K, met: ratioOk && cpuOk },
    durationS: (Date.now() - started) / 1000,
  });
  console.log(`results: ${file}`);
  if (!ratioOk || !cpuOk) throw new Error('a drift benchmark goal was missed');
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) void serve(Number(process.argv[serveAt + 1]));
else runMain(main);
