import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery } from '../../ports/cloud.ts';
import { type AwsCore, type AwsPart, type CloudWatchOperations, invalid } from './aws-inventory-core.ts';

/*
 * The CloudWatch part of the AWS inventory (aws-inventory-core.ts): GetMetricData. Only hosts that hand
 * it to the core (createAwsInventory) bundle the CloudWatch client.
 */

const METRIC_ID = /^[a-z][a-zA-Z0-9_]{0,254}$/;
/** GetMetricData's own bound on queries per request. */
const MAX_QUERIES = 500;
/** Points per series a caller may ask for: a week of one-minute points. */
const MAX_POINTS = 10_080;
/** GetMetricData pages read at most per call (each holds up to 100,800 points). */
const MAX_METRIC_PAGES = 20;

export const cloudWatchPart: AwsPart<CloudWatchOperations> = (core: AwsCore) => ({
  async getMetricData(scope, query) {
    const { queries, start, end, maxPoints } = query;
    const requests = checkMetricQueries(queries);
    if (!(start instanceof Date && end instanceof Date && start.getTime() < end.getTime())) {
      throw invalid('start and end must be dates, start before end');
    }
    if (!(Number.isInteger(maxPoints) && maxPoints >= 1 && maxPoints <= MAX_POINTS)) {
      throw invalid(`maxPoints must be an integer 1..${MAX_POINTS}`);
    }
    return core.call('CloudWatch', 'GetMetricData', query.signal, async (s) => {
      const cw = await core.client(scope, 'cloudwatch', (config) => new CloudWatchClient(config), s);
      const series = new Map(
        queries.map((q) => [
          q.id,
          { label: q.id, times: [] as string[], values: [] as number[], status: 'Complete', cut: false },
        ]),
      );
      const enough = () => [...series.values()].every((x) => x.values.length >= maxPoints);
      let token: string | undefined;
      let pages = 0;
      // Newest first (ScanBy), so each series keeps its first maxPoints and paging stops once every
      // series holds that many: memory and pages stay bounded by what the caller asked for.
      do {
        const out = await cw.send(
          new GetMetricDataCommand({
            MetricDataQueries: requests,
            StartTime: start,
            EndTime: end,
            ScanBy: 'TimestampDescending',
            NextToken: token,
          }),
          { abortSignal: s },
        );
        for (const r of out.MetricDataResults ?? []) {
          const x = series.get(r.Id ?? '');
          if (!x) continue;
          if (r.Label) x.label = r.Label;
          const times = r.Timestamps ?? [];
          const values = r.Values ?? [];
          const n = Math.min(times.length, values.length);
          let i = 0;
          for (; i < n && x.values.length < maxPoints; i++) {
            x.times.push((times[i] as Date).toISOString());
            x.values.push(values[i] as number);
          }
          if (i < n) x.cut = true;
          // The last page's word, except that a failure on any page stays.
          if (r.StatusCode && x.status !== 'InternalError' && x.status !== 'Forbidden') x.status = r.StatusCode;
        }
        token = out.NextToken ?? undefined;
      } while (token && !enough() && ++pages < MAX_METRIC_PAGES);
      // Oldest first; a series with older points dropped or left unread is PartialData.
      return [...series.entries()].map(([id, x]) => ({
        id,
        label: x.label,
        timestamps: x.times.reverse(),
        values: x.values.reverse(),
        status: (x.cut || token !== undefined) && x.status === 'Complete' ? 'PartialData' : x.status,
      }));
    });
  },
});

function checkMetricQueries(queries: MetricQuery[]): MetricDataQuery[] {
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES) {
    throw invalid(`queries: give 1 to ${MAX_QUERIES}`);
  }
  const ids = new Set<string>();
  return queries.map((q) => {
    if (typeof q?.id !== 'string' || !METRIC_ID.test(q.id)) {
      throw invalid('metric query id: a lowercase letter, then letters, digits and underscores (at most 255)');
    }
    if (ids.has(q.id)) throw invalid(`metric query id ${q.id} is given twice`);
    ids.add(q.id);
    for (const [what, v] of [
      ['namespace', q.namespace],
      ['metric', q.metric],
      ['stat', q.stat],
    ] as const) {
      if (typeof v !== 'string' || !v || v.length > 255) throw invalid(`${q.id}: ${what} must be 1-255 characters`);
    }
    const dims = Object.entries(q.dimensions ?? {});
    if (dims.length > 30) throw invalid(`${q.id}: at most 30 dimensions`);
    for (const [k, v] of dims) {
      if (!k || k.length > 255 || typeof v !== 'string' || !v || v.length > 1024) {
        throw invalid(`${q.id}: dimension names of 1-255 characters, values of 1-1024`);
      }
    }
    const p = q.periodSeconds;
    if (!(Number.isInteger(p) && p >= 1 && p <= 86_400 * 455 && ([1, 5, 10, 20, 30].includes(p) || p % 60 === 0))) {
      throw invalid(`${q.id}: periodSeconds must be 1, 5, 10, 20, 30 or a multiple of 60`);
    }
    return {
      Id: q.id,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: q.namespace,
          MetricName: q.metric,
          Dimensions: dims.map(([Name, Value]) => ({ Name, Value })),
        },
        Period: p,
        Stat: q.stat,
      },
    };
  });
}
