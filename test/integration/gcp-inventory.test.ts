import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpInventory } from '../../shared/adapters/gcp/gcp-inventory.ts';
import { CloudApiError, type GcpInstance, type GcpInventory, type TimeSeries } from '../../shared/ports/cloud.ts';
import { type FakeComputeApi, type FakeInstance, startFakeComputeApi } from '../support/fake-gcp/compute.ts';
import { type FakeContainerApi, startFakeContainerApi } from '../support/fake-gcp/container.ts';
import { CLOUD_PLATFORM_SCOPE, FakeGoogleTokens } from '../support/fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from '../support/fake-gcp/metadata.ts';
import { type FakeMonitoringApi, type FakeTimeSeries, startFakeMonitoringApi } from '../support/fake-gcp/monitoring.ts';

/**
 * The GcpInventory adapter through google-auth-library (ADC finding the fake metadata server, as on
 * Cloud Functions) against loopback fakes of Compute v1, Monitoring v3 and Container v1 that answer
 * and refuse as the published REST references say (test/support/fake-gcp/README.md).
 */

const SA = 'cloudops@ops-project.iam.gserviceaccount.com';
const STRANGER = 'someone@other-project.iam.gserviceaccount.com';
const PROJECTS = ['alpha-project', 'beta-project', 'gamma-project', 'stuck-project', 'patchy-project'];

const fleet: FakeInstance[] = Array.from({ length: 7 }, (_, n) => ({
  name: `fleet-${n}`,
  zone: 'us-central1-b',
  status: 'RUNNING',
  machineType: 'e2-small',
  labels: { env: 'dev', role: 'worker' },
}));

const alphaInstances = (): FakeInstance[] => [
  {
    name: 'web-1',
    zone: 'us-central1-a',
    status: 'RUNNING',
    machineType: 'e2-medium',
    labels: { env: 'prod', team: 'web' },
    internalIp: '10.128.0.5',
    externalIp: '203.0.113.5',
    created: '2026-01-05T02:00:00.000-08:00',
    id: '1234567890123456789',
  },
  { name: 'web-2', zone: 'us-central1-a', status: 'TERMINATED', machineType: 'e2-medium', labels: { env: 'prod' } },
  { name: 'eu-1', zone: 'europe-west1-b', status: 'RUNNING', machineType: 'n2-standard-4', labels: { env: 'prod' } },
  ...fleet.map((i) => ({ ...i })),
];

// Monitoring: ten minutes of per-minute points, 12:00 the end of the window.
const END = Date.parse('2026-12-07T12:00:00Z');
const START = END - 10 * 60_000;
const minutes = (value: (k: number) => number) =>
  Array.from({ length: 10 }, (_, k) => ({
    time: new Date(START + k * 60_000 + 30_000).toISOString(),
    value: value(k),
  }));
const CPU = 'compute.googleapis.com/instance/cpu/utilization';
const BYTES = 'compute.googleapis.com/instance/network/received_bytes_count';
const cpu = (instance: string, zone: string, base: number): FakeTimeSeries => ({
  metricType: CPU,
  metricLabels: { instance_name: instance },
  resourceType: 'gce_instance',
  resourceLabels: { project_id: 'beta-project', zone, instance_id: `${instance}-id` },
  valueType: 'DOUBLE',
  unit: '10^2.%',
  points: minutes((k) => base + k / 100),
});
const series: FakeTimeSeries[] = [
  cpu('web-1', 'us-central1-a', 0.1),
  cpu('web-2', 'us-central1-a', 0.3),
  cpu('eu-1', 'europe-west1-b', 0.5),
  {
    metricType: BYTES,
    metricLabels: { instance_name: 'web-1', loadbalanced: 'false' },
    resourceType: 'gce_instance',
    resourceLabels: { zone: 'us-central1-a', instance_id: 'web-1-id' },
    metricKind: 'DELTA',
    valueType: 'INT64',
    unit: 'By',
    points: minutes((k) => 5_000_000_000 + k),
  },
  // Sparse: one point each, so a page sized for full series holds them all.
  ...Array.from({ length: 5 }, (_, n) => ({
    metricType: 'custom.googleapis.com/batch/failures',
    metricLabels: { job: `job-${n}` },
    resourceType: 'global',
    resourceLabels: { project_id: 'beta-project' },
    valueType: 'INT64' as const,
    points: [{ time: new Date(START + 5 * 60_000).toISOString(), value: n }],
  })),
];

let tokens: FakeGoogleTokens;
let metadata: FakeMetadataServer;
let compute: FakeComputeApi;
let monitoring: FakeMonitoringApi;
let container: FakeContainerApi;
let gcloudDir: string;
let gcp: GcpInventory;
const savedEnv: Record<string, string | undefined> = {};

const inventory = (timeoutMs = 5_000, endpoints?: { compute?: string }) =>
  createGcpInventory({
    projects: PROJECTS,
    endpoints: {
      container: container.url,
      compute: endpoints?.compute ?? compute.url,
      monitoring: monitoring.url,
    },
    timeoutMs,
  });

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  metadata = await startFakeMetadataServer(tokens, { serviceAccount: SA, projectId: 'ops-project' });
  compute = await startFakeComputeApi(tokens, [
    {
      id: 'alpha-project',
      zones: ['us-central1-a', 'us-central1-b', 'europe-west1-b', 'asia-east1-a'],
      instances: alphaInstances(),
      viewers: [SA],
      admins: [SA],
    },
    { id: 'gamma-project', zones: ['us-central1-a'], instances: [], viewers: [STRANGER] },
    { id: 'stuck-project', zones: ['us-central1-a'], instances: [], viewers: [SA], hang: true },
    {
      id: 'patchy-project',
      zones: ['us-east1-b', 'us-east1-c'],
      instances: [
        { name: 'api-1', zone: 'us-east1-b', status: 'RUNNING', machineType: 'e2-medium' },
        { name: 'api-2', zone: 'us-east1-c', status: 'RUNNING', machineType: 'e2-medium' },
      ],
      viewers: [SA],
      unreachableZones: ['us-east1-c'],
    },
  ]);
  monitoring = await startFakeMonitoringApi(tokens, [
    { id: 'beta-project', series, viewers: [SA] },
    { id: 'gamma-project', series: [], viewers: [STRANGER] },
    { id: 'stuck-project', series: [], viewers: [SA], hang: true },
  ]);
  container = await startFakeContainerApi(tokens, [
    {
      id: 'alpha-project',
      viewers: [SA],
      clusters: [
        {
          name: 'prod-eu',
          location: 'europe-west1',
          currentMasterVersion: '1.31.2-gke.1000',
          releaseChannel: 'STABLE',
          nodePools: [
            {
              name: 'default-pool',
              machineType: 'e2-standard-4',
              version: '1.31.2-gke.1000',
              initialNodeCount: 2,
              locations: ['europe-west1-b', 'europe-west1-c'],
            },
          ],
        },
      ],
    },
  ]);
  gcloudDir = mkdtempSync(join(tmpdir(), 'gcp-inv-adc-'));
  const keys = ['GCE_METADATA_HOST', 'GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION'];
  for (const k of [...keys, 'GOOGLE_CLOUD_PROJECT']) {
    savedEnv[k] = process.env[k];
    delete process.env[k];
  }
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.CLOUDSDK_CONFIG = gcloudDir;
  process.env.GOOGLE_CLOUD_PROJECT = 'ops-project';
  gcp = inventory();
});

afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await Promise.all([compute?.close(), monitoring?.close(), container?.close(), metadata?.close()]);
  if (gcloudDir) rmSync(gcloudDir, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a CloudApiError');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(CloudApiError);
      return err as CloudApiError;
    },
  );

/** The decoded query of the last request to `path`. */
const lastQuery = (requests: string[], path: string) => {
  const line = requests.filter((r) => r.split('?')[0]?.endsWith(path)).at(-1) ?? '';
  return new URL(line.slice(line.indexOf(' ') + 1), 'http://x').searchParams;
};

describe('Compute instances', () => {
  it('lists one zone, mapping Compute URLs, addresses and timestamps', async () => {
    const page = await gcp.listInstances({ project: 'alpha-project', zone: 'us-central1-a', limit: 50 });
    expect(page.nextToken).toBeUndefined();
    expect(page.items.map((i) => i.name)).toEqual(['web-1', 'web-2']);
    expect(page.items[0]).toEqual({
      name: 'web-1',
      id: '1234567890123456789',
      zone: 'us-central1-a',
      status: 'RUNNING',
      machineType: 'e2-medium',
      labels: { env: 'prod', team: 'web' },
      internalIp: '10.128.0.5',
      externalIp: '203.0.113.5',
      created: '2026-01-05T10:00:00.000Z',
    } satisfies GcpInstance);
    expect(page.items[1]?.externalIp).toBeUndefined();
    // A metadata-server token reached the API.
    expect(metadata.tokenRequests).toBeGreaterThan(0);
  });

  it('lists every zone through aggregatedList, zones without instances being no failure', async () => {
    const page = await gcp.listInstances({ project: 'alpha-project', limit: 500 });
    expect(page.items.map((i) => `${i.zone}/${i.name}`)).toEqual(
      [
        'europe-west1-b/eu-1',
        ...fleet.map((i) => `us-central1-b/${i.name}`),
        'us-central1-a/web-1',
        'us-central1-a/web-2',
      ].sort((a, b) => a.localeCompare(b)),
    );
    expect(page.unreachable).toBeUndefined();
    expect(lastQuery(compute.requests, '/aggregated/instances').get('returnPartialSuccess')).toBe('true');
  });

  it('filters by statuses and labels in Compute filter syntax', async () => {
    const prodRunning = await gcp.listInstances({
      project: 'alpha-project',
      statuses: ['RUNNING'],
      labels: { env: 'prod' },
      limit: 100,
    });
    expect(prodRunning.items.map((i) => i.name).sort()).toEqual(['eu-1', 'web-1']);
    expect(lastQuery(compute.requests, '/aggregated/instances').get('filter')).toBe(
      '(status = RUNNING) AND (labels.env = "prod")',
    );

    const prodAny = await gcp.listInstances({
      project: 'alpha-project',
      zone: 'us-central1-a',
      statuses: ['RUNNING', 'TERMINATED'],
      labels: { env: 'prod', team: 'web' },
      limit: 100,
    });
    expect(prodAny.items.map((i) => i.name)).toEqual(['web-1']);

    const stopped = await gcp.listInstances({ project: 'alpha-project', statuses: ['TERMINATED'], limit: 100 });
    expect(stopped.items.map((i) => i.name)).toEqual(['web-2']);
  });

  it('refuses a status or label that is not Compute syntax before any call', async () => {
    const before = compute.requests.length;
    const badStatus = await failure(gcp.listInstances({ project: 'alpha-project', statuses: ['running'], limit: 10 }));
    expect(badStatus.code).toBe('InvalidArgument');
    const injection = await failure(
      gcp.listInstances({ project: 'alpha-project', labels: { env: 'prod") OR (name = "x' }, limit: 10 }),
    );
    expect(injection.code).toBe('InvalidArgument');
    expect((await failure(gcp.listInstances({ project: 'alpha-project', limit: 501 }))).code).toBe('InvalidArgument');
    expect(compute.requests.length).toBe(before);
  });

  it('pages with Compute pageTokens, every instance once', async () => {
    for (const zone of [undefined, 'us-central1-b']) {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await gcp.listInstances({ project: 'alpha-project', zone, limit: 3, nextToken });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((i) => i.name));
        nextToken = page.nextToken;
        pages++;
      } while (nextToken && pages < 20);
      const expected = zone ? fleet.map((i) => i.name) : alphaInstances().map((i) => i.name);
      expect(seen.sort()).toEqual(expected.sort());
      expect(pages).toBe(Math.ceil(expected.length / 3));
    }
  });

  it('says which zones aggregatedList could not reach and lists the rest', async () => {
    const page = await gcp.listInstances({ project: 'patchy-project', limit: 50 });
    expect(page.items.map((i) => i.name)).toEqual(['api-1']);
    expect(page.unreachable).toEqual(['us-east1-c']);
  });

  it('gets one instance; a missing one is NotFound, a forbidden project Forbidden', async () => {
    expect((await gcp.getInstance('alpha-project', 'europe-west1-b', 'eu-1')).machineType).toBe('n2-standard-4');

    const missing = await failure(gcp.getInstance('alpha-project', 'us-central1-a', 'nope'));
    expect(missing).toMatchObject({ provider: 'gcp', code: 'NotFound', providerCode: 'NOT_FOUND' });
    expect(missing.message).toContain(
      "The resource 'projects/alpha-project/zones/us-central1-a/instances/nope' was not found",
    );

    const forbidden = await failure(gcp.getInstance('gamma-project', 'us-central1-a', 'web-1'));
    expect(forbidden).toMatchObject({ code: 'Forbidden', providerCode: 'PERMISSION_DENIED' });
    expect(forbidden.message).toContain("Required 'compute.instances.get' permission");

    const unknownZone = await failure(gcp.listInstances({ project: 'alpha-project', zone: 'mars-north1-a', limit: 5 }));
    expect(unknownZone.code).toBe('NotFound');
  });

  it('refuses malformed names and projects that are not configured without calling Compute', async () => {
    const before = compute.requests.length;
    expect((await failure(gcp.getInstance('alpha-project', 'us-central1-a', '../../x'))).code).toBe('InvalidArgument');
    expect((await failure(gcp.getInstance('alpha-project', 'us-central1', 'web-1'))).code).toBe('InvalidArgument');
    const other = await failure(gcp.getInstance('delta-project', 'us-central1-a', 'web-1'));
    expect(other.code).toBe('InvalidArgument');
    expect(other.message).toContain('not configured');
    expect(compute.requests.length).toBe(before);
  });

  it('stops an instance (read back TERMINATED) and starts it again; start on a running VM is a no-op operation', async () => {
    const stop = await gcp.powerInstance('alpha-project', 'us-central1-a', 'web-1', 'stop');
    expect(stop.operation).toMatch(/^operation-/);
    expect(stop.status).toBe('RUNNING');
    const statuses: string[] = [];
    for (let n = 0; n < 5 && statuses.at(-1) !== 'TERMINATED'; n++) {
      statuses.push((await gcp.getInstance('alpha-project', 'us-central1-a', 'web-1')).status);
    }
    expect(statuses).toEqual(['STOPPING', 'TERMINATED']);

    const start = await gcp.powerInstance('alpha-project', 'us-central1-a', 'web-1', 'start');
    expect(start.status).toBe('RUNNING');
    const after: string[] = [];
    for (let n = 0; n < 5 && after.at(-1) !== 'RUNNING'; n++) {
      after.push((await gcp.getInstance('alpha-project', 'us-central1-a', 'web-1')).status);
    }
    expect(after).toEqual(['STAGING', 'RUNNING']);

    const again = await gcp.powerInstance('alpha-project', 'us-central1-a', 'web-1', 'start');
    expect(again.status).toBe('DONE');
    expect(compute.requests.filter((r) => r.startsWith('POST '))).toHaveLength(3);
  });
});

describe('Monitoring time series', () => {
  const base = {
    project: 'beta-project',
    start: new Date(START),
    end: new Date(END),
    alignmentPeriodSeconds: 60,
    aligner: 'ALIGN_MEAN',
    limit: 100,
  };

  it('answers aligned points oldest first, with metric and resource labels', async () => {
    const page = await gcp.queryTimeSeries({
      ...base,
      filter: `metric.type = "${CPU}" AND metric.label.instance_name = "web-1"`,
    });
    expect(page.nextToken).toBeUndefined();
    expect(page.items).toHaveLength(1);
    const s = page.items[0] as TimeSeries;
    expect(s.metricType).toBe(CPU);
    expect(s.resourceType).toBe('gce_instance');
    expect(s.unit).toBe('10^2.%');
    expect(s.labels).toEqual({
      instance_name: 'web-1',
      'resource.project_id': 'beta-project',
      'resource.zone': 'us-central1-a',
      'resource.instance_id': 'web-1-id',
    });
    expect(s.points).toHaveLength(10);
    expect(s.points[0]).toEqual({ time: new Date(START + 60_000).toISOString(), value: 0.1 });
    expect(s.points.at(-1)).toEqual({ time: new Date(END).toISOString(), value: 0.1 + 9 / 100 });
    const times = s.points.map((p) => Date.parse(p.time));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const q = lastQuery(monitoring.requests, '/timeSeries');
    expect(q.get('interval.startTime')).toBe('2026-12-07T11:50:00.000Z');
    expect(q.get('aggregation.alignmentPeriod')).toBe('60s');
    expect(q.get('view')).toBe('FULL');
  });

  it('parses int64 values, which Monitoring sends as strings', async () => {
    const page = await gcp.queryTimeSeries({ ...base, filter: `metric.type = "${BYTES}"`, aligner: 'ALIGN_SUM' });
    const points = page.items[0]?.points ?? [];
    expect(points.map((p) => p.value)).toEqual(Array.from({ length: 10 }, (_, k) => 5_000_000_000 + k));
    expect(points.every((p) => typeof p.value === 'number')).toBe(true);
  });

  it('passes the reducer and groupBy fields through: one series per zone', async () => {
    const page = await gcp.queryTimeSeries({
      ...base,
      filter: `metric.type = "${CPU}"`,
      reducer: 'REDUCE_MEAN',
      groupBy: ['resource.label.zone'],
    });
    const byZone = Object.fromEntries(page.items.map((s) => [s.labels['resource.zone'], s]));
    expect(Object.keys(byZone).sort()).toEqual(['europe-west1-b', 'us-central1-a']);
    expect(byZone['us-central1-a']?.points[0]?.value).toBeCloseTo(0.2);
    expect(byZone['europe-west1-b']?.points[0]?.value).toBeCloseTo(0.5);
    const q = lastQuery(monitoring.requests, '/timeSeries');
    expect(q.get('aggregation.crossSeriesReducer')).toBe('REDUCE_MEAN');
    expect(q.getAll('aggregation.groupByFields')).toEqual(['resource.label.zone']);
  });

  it('pages every series once, no page longer than the limit, also when one Monitoring page holds more', async () => {
    for (const [filter, total] of [
      [`metric.type = "${CPU}"`, 3],
      ['metric.type = "custom.googleapis.com/batch/failures"', 5],
    ] as const) {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await gcp.queryTimeSeries({ ...base, filter, aligner: 'ALIGN_MAX', limit: 2, nextToken });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((s) => JSON.stringify(s.labels)));
        nextToken = page.nextToken;
        pages++;
      } while (nextToken && pages < 10);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
    }
  });

  it('maps Monitoring refusals: forbidden project, a filter the API cannot parse', async () => {
    const forbidden = await failure(
      gcp.queryTimeSeries({ ...base, project: 'gamma-project', filter: `metric.type = "${CPU}"` }),
    );
    expect(forbidden).toMatchObject({ code: 'Forbidden', providerCode: 'PERMISSION_DENIED' });
    expect(forbidden.message).toContain('monitoring.timeSeries.list denied');

    const bad = await failure(gcp.queryTimeSeries({ ...base, filter: 'resource.type = "gce_instance"' }));
    expect(bad).toMatchObject({ code: 'InvalidArgument', providerCode: 'INVALID_ARGUMENT' });
    expect(bad.message).toContain('metric type');
  });

  it('refuses a bad query before calling Monitoring', async () => {
    const before = monitoring.requests.length;
    const cases = [
      { ...base, filter: `metric.type = "${CPU}"`, alignmentPeriodSeconds: 30 },
      { ...base, filter: `metric.type = "${CPU}"`, start: new Date(END), end: new Date(START) },
      { ...base, filter: `metric.type = "${CPU}"`, nextToken: 'forged' },
      { ...base, filter: `metric.type = "${CPU}"`, groupBy: ['resource.label.zone'] },
      { ...base, filter: '' },
    ];
    for (const q of cases) expect((await failure(gcp.queryTimeSeries(q))).code).toBe('InvalidArgument');
    expect(monitoring.requests.length).toBe(before);
  });
});

describe('GKE through the inventory', () => {
  it('describes a cluster, and maps a missing one to NotFound', async () => {
    const d = await gcp.describeGkeCluster({ project: 'alpha-project', location: 'europe-west1', name: 'prod-eu' });
    expect(d).toMatchObject({
      id: 'gke:alpha-project/europe-west1/prod-eu',
      status: 'RUNNING',
      version: '1.31.2-gke.1000',
      releaseChannel: 'STABLE',
      currentNodeCount: 4,
      nodePools: [{ name: 'default-pool', machineType: 'e2-standard-4', zones: ['europe-west1-b', 'europe-west1-c'] }],
    });
    const missing = await failure(
      gcp.describeGkeCluster({ project: 'alpha-project', location: 'europe-west1', name: 'nope' }),
    );
    expect(missing).toMatchObject({ provider: 'gcp', code: 'NotFound', providerCode: 'NOT_FOUND' });
    const bad = await failure(
      gcp.describeGkeCluster({ project: 'alpha-project', location: 'x/../y', name: 'prod-eu' }),
    );
    expect(bad.code).toBe('InvalidArgument');
  });
});

describe('bounds', () => {
  it('gives up on an endpoint that never answers (Timeout), and on a caller abort', async () => {
    const quick = inventory(300);
    const hung = await failure(quick.listInstances({ project: 'stuck-project', zone: 'us-central1-a', limit: 5 }));
    expect(hung).toMatchObject({ code: 'Timeout', providerCode: 'DEADLINE_EXCEEDED' });
    const hungMetrics = await failure(
      quick.queryTimeSeries({
        project: 'stuck-project',
        filter: `metric.type = "${CPU}"`,
        start: new Date(START),
        end: new Date(END),
        alignmentPeriodSeconds: 60,
        aligner: 'ALIGN_MEAN',
        limit: 5,
      }),
    );
    expect(hungMetrics.code).toBe('Timeout');

    const ac = new AbortController();
    const pending = failure(gcp.getInstance('stuck-project', 'us-central1-a', 'x', ac.signal));
    setTimeout(() => ac.abort(), 50);
    expect(await pending).toMatchObject({ code: 'Timeout', providerCode: 'CANCELLED' });
  });

  it('reports a closed port as Unavailable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const closed = inventory(5_000, { compute: `http://127.0.0.1:${port}` });
    const err = await failure(closed.getInstance('alpha-project', 'us-central1-a', 'web-1'));
    expect(err.code).toBe('Unavailable');
    expect(err.message).toContain('no answer');
    expect(err.message.length).toBeLessThanOrEqual(300);
    expect(err.message).not.toMatch(/ya29\./);
  });

  it('says when the server has no Google credentials, for REST and GKE calls alike', async () => {
    const none = createGcpInventory({
      projects: ['alpha-project'],
      auth: new GoogleAuth({ keyFilename: join(gcloudDir, 'missing-key.json') }),
      endpoints: { compute: compute.url, container: container.url },
    });
    const rest = await failure(none.getInstance('alpha-project', 'us-central1-a', 'web-1'));
    expect(rest).toMatchObject({ code: 'Forbidden', providerCode: 'UNAUTHENTICATED' });
    expect(rest.message).toContain('no Google credentials');
    const gke = await failure(
      none.describeGkeCluster({ project: 'alpha-project', location: 'europe-west1', name: 'prod-eu' }),
    );
    expect(gke).toMatchObject({ code: 'Forbidden', providerCode: 'UNAUTHENTICATED' });
  });

  it('refuses bad options at construction', () => {
    expect(() => createGcpInventory({ projects: [] })).toThrow(/GCP_PROJECTS/);
    expect(() => createGcpInventory({ projects: ['Bad_Project'] })).toThrow(/not project ids/);
    expect(() => createGcpInventory({ projects: ['alpha-project'], timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() =>
      createGcpInventory({ projects: ['alpha-project'], endpoints: { compute: 'http://compute.example.com' } }),
    ).toThrow(/https/);
  });
});

describe('the fakes refuse what Google refuses', () => {
  const get = (base: string, path: string, token?: string, method = 'GET') =>
    fetch(`${base}${path}`, { method, ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) });

  it('Compute: 401 without a token, 400 for a bad filter or maxResults over 500, 403 stop for a viewer', async () => {
    const token = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token;
    const list = '/compute/v1/projects/alpha-project/zones/us-central1-a/instances';
    expect((await get(compute.url, list)).status).toBe(401);
    expect((await get(compute.url, list, tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 0).token)).status).toBe(401);

    const badFilter = await get(
      compute.url,
      `${list}?filter=${encodeURIComponent('status eq RUNNING AND name eq x')}`,
      token,
    );
    expect(badFilter.status).toBe(400);
    expect(await badFilter.json()).toMatchObject({
      error: {
        code: 400,
        message: "Invalid value for field 'filter': 'status eq RUNNING AND name eq x'. Invalid list filter expression.",
        errors: [{ reason: 'invalid' }],
      },
    });
    expect((await get(compute.url, `${list}?filter=${encodeURIComponent('(machineType = "x")')}`, token)).status).toBe(
      400,
    );
    expect((await get(compute.url, `${list}?maxResults=501`, token)).status).toBe(400);
    expect((await get(compute.url, `${list}?pageToken=forged`, token)).status).toBe(400);

    const viewerOnly = tokens.issue(STRANGER, [CLOUD_PLATFORM_SCOPE], 3600).token;
    compute.projects.get('gamma-project')?.instances.push({
      name: 'vm',
      zone: 'us-central1-a',
      status: 'RUNNING',
      machineType: 'e2-micro',
    });
    expect(
      (await get(compute.url, '/compute/v1/projects/gamma-project/zones/us-central1-a/instances/vm', viewerOnly))
        .status,
    ).toBe(200);
    const stop = await get(
      compute.url,
      '/compute/v1/projects/gamma-project/zones/us-central1-a/instances/vm/stop',
      viewerOnly,
      'POST',
    );
    expect(stop.status).toBe(403);
    expect(((await stop.json()) as { error: { message: string } }).error.message).toBe(
      "Required 'compute.instances.stop' permission for 'projects/gamma-project/zones/us-central1-a/instances/vm'",
    );
  });

  it('Monitoring: 400 without a filter or metric type, without endTime, for a period under 60 s with an aligner', async () => {
    const token = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token;
    const path = '/v3/projects/beta-project/timeSeries';
    const q = (params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;
    const ok = {
      filter: `metric.type = "${CPU}"`,
      'interval.startTime': new Date(START).toISOString(),
      'interval.endTime': new Date(END).toISOString(),
    };
    const raw = await get(monitoring.url, q(ok), token);
    expect(raw.status).toBe(200);
    const body = (await raw.json()) as { timeSeries: Array<{ points: Array<{ interval: { endTime: string } }> }> };
    const ends = body.timeSeries[0]?.points.map((p) => Date.parse(p.interval.endTime)) ?? [];
    expect(ends).toEqual([...ends].sort((a, b) => b - a)); // newest first

    const refusals: Array<Record<string, string>> = [
      { 'interval.endTime': ok['interval.endTime'] },
      { ...ok, filter: 'resource.type = "gce_instance"' },
      { ...ok, filter: 'metric.type = ' },
      { filter: ok.filter },
      { ...ok, 'aggregation.perSeriesAligner': 'ALIGN_MEAN', 'aggregation.alignmentPeriod': '30s' },
      { ...ok, 'aggregation.perSeriesAligner': 'ALIGN_MEAN' },
      { ...ok, 'aggregation.crossSeriesReducer': 'REDUCE_SUM' },
      { ...ok, 'aggregation.perSeriesAligner': 'ALIGN_RATE', 'aggregation.alignmentPeriod': '60s' },
      { ...ok, pageSize: '-1' },
    ];
    for (const params of refusals) {
      const res = await get(monitoring.url, q(params), token);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
    }
    // Above 100000 the effective page size is 100000, as documented: not a refusal.
    expect((await get(monitoring.url, q({ ...ok, pageSize: '250000' }), token)).status).toBe(200);
    expect((await get(monitoring.url, q(ok))).status).toBe(401);
  });
});
