import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CostExplorerOptions, createCostExplorerSource } from '../../shared/adapters/aws/cost-explorer.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import type { DailySpendQuery } from '../../shared/ports/cost.ts';
import { freePort, type MotoServer, startMoto } from '../support/moto.ts';

/*
 * The Cost Explorer CostSource against moto_server (moto 5.2): real GetCostAndUsage wire calls through
 * @aws-sdk/client-cost-explorer. moto tracks no cost: its answers are the results queued through
 * `POST /moto-api/static/ce/cost-and-usage-results`, handed out in order, one per distinct request body
 * (the same body again gets the same result, so the second page, whose body carries NextPageToken,
 * takes the next one).
 *
 * moto gaps (what real Cost Explorer does and moto 5.2 does not; read in moto/ce/models.py and measured):
 * - GetCostAndUsage validates nothing and applies nothing: no Filter, GroupBy, Granularity, Metrics or
 *   TimePeriod checks (the real one refuses e.g. an end before the start); the answer is whatever was
 *   queued. So the Filter the adapter sends is checked here on the wire (a recording proxy in front
 *   of moto), not by its effect.
 * - No GetCostForecast at all: moto answers an HTML 500 page ("The get_cost_forecast action has not
 *   been implemented"). The adapter takes that as "no forecast here" and computes one, which is what
 *   these tests check against moto. The provider path is checked through the same proxy answering
 *   GetCostForecast in Cost Explorer's documented shape and refusing a start before today, as Cost
 *   Explorer does (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html).
 * - No DataUnavailableException, LimitExceededException or BillExpirationException; no charge per request.
 */

const BASE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
/** The injected clock: 2026-12-10, midday UTC. */
const NOW = Date.parse('2026-12-10T12:00:00Z');
const TODAY = '2026-12-10';

let moto: MotoServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await recordingProxy();
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.requests.length = 0;
  proxy.forecast = undefined;
});

const source = (overrides: Partial<CostExplorerOptions> = {}) =>
  createCostExplorerSource({ endpoint: proxy.url, credentials: BASE, now: () => NOW, timeoutMs: 10_000, ...overrides });

async function seed(results: unknown[]): Promise<void> {
  const res = await fetch(`${moto.url}/moto-api/static/ce/cost-and-usage-results`, {
    method: 'POST',
    body: JSON.stringify({ results }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`seeding Cost Explorer results: HTTP ${res.status}`);
}

const usd = (amount: string) => ({ UnblendedCost: { Amount: amount, Unit: 'USD' } });
/** One day of GetCostAndUsage grouped output (Total is empty when grouped, as Cost Explorer answers). */
const groupedDay = (start: string, groups: Record<string, string>, estimated = false) => ({
  TimePeriod: { Start: start, End: nextDay(start) },
  Total: {},
  Groups: Object.entries(groups).map(([k, amount]) => ({ Keys: [k], Metrics: usd(amount) })),
  Estimated: estimated,
});
const totalDay = (start: string, amount: string, estimated = true) => ({
  TimePeriod: { Start: start, End: nextDay(start) },
  Total: usd(amount),
  Groups: [],
  Estimated: estimated,
});
function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

const byService = (over: Partial<DailySpendQuery> = {}): DailySpendQuery => ({
  period: { start: '2026-12-01', end: '2026-12-04' },
  groupBy: { by: 'service' },
  maxGroups: 10,
  ...over,
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

/** The GetCostAndUsage request bodies the adapter sent. */
const usageRequests = () =>
  proxy.requests.filter((r) => r.target.endsWith('.GetCostAndUsage')).map((r) => JSON.parse(r.body));

describe('daily spend', () => {
  it('reads every page of a daily query grouped by service, and counts the pages it paid for', async () => {
    await seed([
      {
        ResultsByTime: [
          groupedDay('2026-12-01', { 'Amazon Elastic Compute Cloud - Compute': '10.25', 'Amazon S3': '0.1' }),
          groupedDay('2026-12-02', { 'Amazon Elastic Compute Cloud - Compute': '11.5', 'Amazon S3': '0.2' }),
        ],
        DimensionValueAttributes: [],
        NextPageToken: 'page-2',
      },
      {
        ResultsByTime: [
          groupedDay('2026-12-03', { 'Amazon Elastic Compute Cloud - Compute': '9.75', AWSLambda: '0.0000012' }, true),
        ],
        DimensionValueAttributes: [],
      },
    ]);
    const report = await source().dailySpend(byService());
    expect(report).toEqual({
      currency: 'USD',
      period: { start: '2026-12-01', end: '2026-12-04' },
      days: [
        { date: '2026-12-01', group: 'Amazon Elastic Compute Cloud - Compute', amount: 10.25 },
        { date: '2026-12-01', group: 'Amazon S3', amount: 0.1 },
        { date: '2026-12-02', group: 'Amazon Elastic Compute Cloud - Compute', amount: 11.5 },
        { date: '2026-12-02', group: 'Amazon S3', amount: 0.2 },
        { date: '2026-12-03', group: 'AWSLambda', amount: 0.0000012 },
        { date: '2026-12-03', group: 'Amazon Elastic Compute Cloud - Compute', amount: 9.75 },
      ],
      total: 31.8000012,
      estimated: true,
      pages: 2,
    });
    const sent = usageRequests();
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({
      TimePeriod: { Start: '2026-12-01', End: '2026-12-04' },
      Granularity: 'DAILY',
      Metrics: ['UnblendedCost'],
      GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
    });
    expect(sent[1].NextPageToken).toBe('page-2');
  });

  it('groups by a cost-allocation tag, the key$ prefix stripped and untagged spend as ""', async () => {
    await seed([
      {
        ResultsByTime: [
          groupedDay('2026-12-01', { team$: '4', team$web: '6', team$data: '1.5' }),
          groupedDay('2026-12-02', { team$: '3', team$web: '7' }),
        ],
      },
    ]);
    const report = await source().dailySpend(byService({ groupBy: { by: 'tag', key: 'team' } }));
    expect(report.days).toEqual([
      { date: '2026-12-01', group: '', amount: 4 },
      { date: '2026-12-01', group: 'data', amount: 1.5 },
      { date: '2026-12-01', group: 'web', amount: 6 },
      { date: '2026-12-02', group: '', amount: 3 },
      { date: '2026-12-02', group: 'web', amount: 7 },
    ]);
    expect(report).toMatchObject({ total: 21.5, estimated: false, pages: 1 });
    expect(usageRequests()[0].GroupBy).toEqual([{ Type: 'TAG', Key: 'team' }]);
  });

  it('keeps the largest groups by total and sums the rest as other', async () => {
    await seed([
      {
        ResultsByTime: [
          groupedDay('2026-12-01', { EC2: '50', RDS: '30', S3: '2', Lambda: '1', SNS: '0' }),
          groupedDay('2026-12-02', { EC2: '50', RDS: '35', S3: '3', Lambda: '0.5' }),
        ],
      },
    ]);
    const report = await source().dailySpend(byService({ maxGroups: 2 }));
    expect(report.days).toEqual([
      { date: '2026-12-01', group: 'EC2', amount: 50 },
      { date: '2026-12-01', group: 'RDS', amount: 30 },
      { date: '2026-12-01', group: 'other', amount: 3 },
      { date: '2026-12-02', group: 'EC2', amount: 50 },
      { date: '2026-12-02', group: 'RDS', amount: 35 },
      { date: '2026-12-02', group: 'other', amount: 3.5 },
    ]);
    expect(report.total).toBe(171.5);
  });

  it('sends only as a Filter: services by name, tag values with ABSENT for untagged spend', async () => {
    await seed([{ ResultsByTime: [groupedDay('2026-12-01', { EC2: '1' })] }]);
    await source().dailySpend(byService({ only: ['EC2', 'Amazon S3'] }));
    await source().dailySpend(byService({ groupBy: { by: 'tag', key: 'team' }, only: ['web', ''] }));
    await source().dailySpend(byService({ groupBy: { by: 'tag', key: 'team' }, only: ['web'] }));
    const [services, tagsAndUntagged, tags] = usageRequests();
    expect(services.Filter).toEqual({ Dimensions: { Key: 'SERVICE', Values: ['EC2', 'Amazon S3'] } });
    expect(tagsAndUntagged.Filter).toEqual({
      Or: [{ Tags: { Key: 'team', Values: ['web'] } }, { Tags: { Key: 'team', MatchOptions: ['ABSENT'] } }],
    });
    expect(tags.Filter).toEqual({ Tags: { Key: 'team', Values: ['web'] } });
  });

  it('groups by linked account, and filters to accounts with a LINKED_ACCOUNT Filter', async () => {
    await seed([
      {
        ResultsByTime: [
          groupedDay('2026-12-01', { '111122223333': '70', '444455556666': '15.5' }),
          groupedDay('2026-12-02', { '111122223333': '72' }, true),
        ],
      },
    ]);
    const report = await source().dailySpend(
      byService({ groupBy: { by: 'account' }, only: ['111122223333', '444455556666'], maxGroups: 2 }),
    );
    expect(report).toMatchObject({
      days: [
        { date: '2026-12-01', group: '111122223333', amount: 70 },
        { date: '2026-12-01', group: '444455556666', amount: 15.5 },
        { date: '2026-12-02', group: '111122223333', amount: 72 },
      ],
      total: 157.5,
      estimated: true,
      pages: 1,
    });
    const [sent] = usageRequests();
    expect(sent.GroupBy).toEqual([{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }]);
    expect(sent.Filter).toEqual({ Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['111122223333', '444455556666'] } });
  });

  it('refuses bad periods, keys and bounds before any request', async () => {
    const ce = source();
    const bad: Array<[Partial<DailySpendQuery>, RegExp]> = [
      [{ period: { start: '2026-02-30', end: '2026-03-02' } }, /YYYY-MM-DD/],
      [{ period: { start: '2026-12-04', end: '2026-12-01' } }, /before period.end/],
      [{ period: { start: '2026-12-01', end: '2026-12-01' } }, /before period.end/],
      [{ period: { start: '2025-01-01', end: '2026-12-01' } }, /at most 366 days/],
      [{ period: { start: '12/01/2026', end: '2026-12-04' } }, /YYYY-MM-DD/],
      [{ groupBy: { by: 'tag', key: 'team$web' } }, /tag key/],
      [{ groupBy: { by: 'tag', key: 'x'.repeat(129) } }, /tag key/],
      [{ maxGroups: 0 }, /maxGroups/],
      [{ maxGroups: 1.5 }, /maxGroups/],
      [{ only: [] }, /only/],
      [{ only: Array.from({ length: 101 }, (_, i) => `s${i}`) }, /only/],
      [{ only: [''] }, /only/],
      [{ only: ['x'.repeat(257)] }, /only/],
      [{ groupBy: { by: 'account' }, only: ['12345678901'] }, /only: each a 12-digit AWS account id/],
      [{ groupBy: { by: 'account' }, only: [''] }, /12-digit/],
      [{ groupBy: { by: 'region' } as never }, /groupBy.by/],
    ];
    for (const [over, message] of bad) {
      const err = await failure(ce.dailySpend(byService(over)));
      expect([err.code, err.message]).toEqual(['InvalidArgument', expect.stringMatching(message)]);
    }
    expect(proxy.requests).toHaveLength(0);
  });
});

describe('forecast', () => {
  const month = { start: '2026-12-01', end: '2027-01-01' };

  it('computes one from the daily series where Cost Explorer has none (moto), and says so', async () => {
    // Dec 1-9 are the whole days before today (Dec 10): 10, 10, 10, then 20 a day from Dec 4.
    const amounts = ['10', '10', '10', '20', '20', '20', '20', '20', '20'];
    const days = amounts.map((a, i) => totalDay(`2026-12-0${i + 1}`, a));
    await seed([{ ResultsByTime: days.slice(0, 5), NextPageToken: 'p2' }, { ResultsByTime: days.slice(5) }]);
    const forecast = await source().forecast(month);
    // actual Dec 1-9 = 150; mean of Dec 3-9 = (10 + 6 × 20) / 7 = 130 / 7; Dec 10-31 = 22 days.
    expect(forecast).toEqual({
      currency: 'USD',
      period: month,
      amount: Math.round((150 + (130 / 7) * 22) * 1e10) / 1e10,
      method: 'computed',
      pages: 2,
    });
    // moto's HTML 500 is retried once by the SDK (maxAttempts 2) before the adapter falls back.
    const targets = proxy.requests.map((r) => r.target.split('.').at(-1));
    expect(targets).toEqual(['GetCostForecast', 'GetCostForecast', 'GetCostAndUsage', 'GetCostAndUsage']);
    // The series starts at the period's start (earlier than 7 days before today) and ends before today.
    expect(usageRequests()[0]).toEqual({
      TimePeriod: { Start: '2026-12-01', End: TODAY },
      Granularity: 'DAILY',
      Metrics: ['UnblendedCost'],
    });
  });

  it('computes the next month from the last 7 whole days only', async () => {
    await seed([
      {
        ResultsByTime: ['03', '04', '05', '06', '07', '08', '09'].map((d) => totalDay(`2026-12-${d}`, '3')),
      },
    ]);
    const forecast = await source().forecast({ start: '2027-01-01', end: '2027-02-01' });
    expect(forecast).toMatchObject({ amount: 93, method: 'computed', pages: 1 });
    expect(usageRequests()[0].TimePeriod).toEqual({ Start: '2026-12-03', End: TODAY });
  });

  it("uses Cost Explorer's own forecast where it has one, plus the actual spend before today", async () => {
    proxy.forecast = {
      Total: { Amount: '440.5', Unit: 'USD' },
      ForecastResultsByTime: [
        {
          TimePeriod: { Start: TODAY, End: '2027-01-01' },
          MeanValue: '440.5',
          PredictionIntervalLowerBound: '400',
          PredictionIntervalUpperBound: '480',
        },
      ],
    };
    await seed([{ ResultsByTime: [totalDay('2026-12-01', '100'), totalDay('2026-12-02', '50')] }]);
    const forecast = await source().forecast(month);
    expect(forecast).toEqual({
      currency: 'USD',
      period: month,
      amount: 590.5,
      lower: 550,
      upper: 630,
      method: 'provider',
      pages: 2,
    });
    const asked = JSON.parse(proxy.requests.find((r) => r.target.endsWith('.GetCostForecast'))?.body ?? '{}');
    expect(asked).toEqual({
      TimePeriod: { Start: TODAY, End: '2027-01-01' },
      Metric: 'UNBLENDED_COST',
      Granularity: 'MONTHLY',
      PredictionIntervalLevel: 80,
    });
    expect(usageRequests()[0].TimePeriod).toEqual({ Start: '2026-12-01', End: TODAY });
  });

  it('costs one page for a period from today on', async () => {
    proxy.forecast = { Total: { Amount: '12', Unit: 'USD' }, ForecastResultsByTime: [] };
    const forecast = await source().forecast({ start: TODAY, end: '2026-12-12' });
    expect(forecast).toEqual({
      currency: 'USD',
      period: { start: TODAY, end: '2026-12-12' },
      amount: 12,
      method: 'provider',
      pages: 1,
    });
  });

  it('falls back to the computed forecast on DataUnavailableException', async () => {
    proxy.forecast = 'DataUnavailableException';
    await seed([{ ResultsByTime: [totalDay('2026-12-09', '7')] }]);
    const forecast = await source().forecast({ start: TODAY, end: '2026-12-17' });
    // mean of Dec 3-9 = 7 / 7 = 1 a day, 7 days left, nothing spent yet in the period.
    expect(forecast).toMatchObject({ amount: 7, method: 'computed', pages: 1 });
  });

  it('does not fall back when Cost Explorer throttles: LimitExceededException is Throttled', async () => {
    proxy.forecast = 'LimitExceededException';
    const err = await failure(source().forecast({ start: TODAY, end: '2026-12-17' }));
    expect([err.code, err.providerCode]).toEqual(['Throttled', 'LimitExceededException']);
    expect(usageRequests()).toHaveLength(0);
  });

  it('refuses a period that is over', async () => {
    const err = await failure(source().forecast({ start: '2026-11-01', end: '2026-12-01' }));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toMatch(/ends after today/);
    expect(proxy.requests).toHaveLength(0);
  });
});

describe('failures', () => {
  it('an endpoint nobody listens on is Unavailable', async () => {
    const port = await freePort();
    const err = await failure(source({ endpoint: `http://127.0.0.1:${port}` }).dailySpend(byService()));
    expect(err.code).toBe('Unavailable');
    expect(err.message).toMatch(/^GetCostAndUsage: /);
  });

  it('an endpoint that never answers is a Timeout within the bound', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const ce = source({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      const err = await failure(ce.dailySpend(byService()));
      expect(err.code).toBe('Timeout');
      expect(err.message).toMatch(/timed out after 300 ms/);
      const late = await failure(ce.forecast({ start: TODAY, end: '2026-12-12' }));
      expect(late.code).toBe('Timeout');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('refuses bad options at construction', () => {
    expect(() => createCostExplorerSource({ region: 'moon-1' })).toThrow(/region/);
    expect(() => createCostExplorerSource({ endpoint: 'ftp://x' })).toThrow(/endpoint/);
    expect(() => createCostExplorerSource({ timeoutMs: 5 })).toThrow(/timeoutMs/);
  });
});

/**
 * A loopback proxy in front of moto that records each Cost Explorer request (X-Amz-Target and body)
 * and, when a test sets `forecast`, answers GetCostForecast itself, as Cost Explorer documents it
 * (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html):
 * a start before today is a ValidationException; an error name answers that error (HTTP 400).
 * Unset, GetCostForecast goes to moto, which does not have it.
 */
async function recordingProxy() {
  const state: {
    requests: Array<{ target: string; body: string }>;
    forecast: Record<string, unknown> | string | undefined;
  } = { requests: [], forecast: undefined };
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    state.requests.push({ target, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(value));
    };
    if (target.endsWith('.GetCostForecast') && state.forecast !== undefined) {
      const input = JSON.parse(body) as { TimePeriod?: { Start?: string } };
      if ((input.TimePeriod?.Start ?? '') < TODAY) {
        return json(400, { __type: 'ValidationException', Message: 'Start date must be today or later' });
      }
      if (typeof state.forecast === 'string') {
        return json(400, { __type: state.forecast, Message: 'Insufficient amount of historical data' });
      }
      return json(200, state.forecast);
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
    ) as Record<string, string>;
    const up = await fetch(`${moto.url}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length ? body : undefined,
    });
    const answer = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
