import * as z from 'zod';
import { awsScope } from '../../app/cloud/scope.ts';
import type { MetricQuery, MetricSeries } from '../../ports/cloud.ts';
import { boundedRecord, capMap, clip, cloudArgs, fitSeries, seriesText, windowText } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { resultBudget } from '../common/render.ts';
import { summarizeSeries } from '../common/series.ts';
import { defineTool, result } from '../tool.ts';

/** Raw points per series at most: a longer window gets a longer period (said in the answer). */
const MAX_POINTS = 1440;
const nonEmpty = (v: string) => v.length > 0;
const STAT = /^(Average|Sum|Minimum|Maximum|SampleCount|p\d\d?(\.\d\d?)?)$/;

export const awsCloudwatchMetricsGetTool = defineTool({
  name: 'aws_cloudwatch_metrics_get',
  title: 'CloudWatch metrics',
  description:
    'CloudWatch metrics, 1-10 series summarized (min/max/avg/p95, last, trend). Use to check AWS load, errors or latency.',
  group: 'aws',
  access: 'read',
  input: z.object({
    account: cloudArgs.account,
    region: cloudArgs.region,
    queries: z
      .array(
        z.object({
          // Constraints as refinements where a JSON Schema keyword would only add tools/list bytes.
          namespace: z.string().max(255).refine(nonEmpty, 'must not be empty (e.g. AWS/EC2)'),
          metric: z.string().max(255).refine(nonEmpty, 'must not be empty (e.g. CPUUtilization)'),
          dimensions: boundedRecord('dimensions', { max: 10, key: 255, value: 1024 }),
          stat: z
            .string()
            .max(16)
            .refine((v) => STAT.test(v), 'Average, Sum, Minimum, Maximum, SampleCount or a percentile like p95')
            .default('Average'),
        }),
      )
      .min(1)
      .max(10),
    periodSeconds: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .refine((n) => n % 60 === 0, 'a multiple of 60')
      .default(300),
    sinceMinutes: z.number().int().min(5).max(20160).default(180),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { aws, scope } = await awsScope(ctx.deps.cloud, input, ctx.signal);
      const windowSec = input.sinceMinutes * 60;
      // The smallest period that keeps a series within MAX_POINTS, in whole minutes.
      const floorPeriod = Math.ceil(windowSec / MAX_POINTS / 60) * 60;
      // One period for every series: raised when the window would hold more than MAX_POINTS.
      const period = Math.max(input.periodSeconds, floorPeriod);
      const raised = period !== input.periodSeconds;
      const queries = input.queries.map(
        (q, i): MetricQuery => ({
          id: `m${i + 1}`,
          namespace: q.namespace,
          metric: q.metric,
          dimensions: q.dimensions ?? {},
          stat: q.stat,
          periodSeconds: period,
        }),
      );
      // Whole minutes, so periods line up with CloudWatch's own buckets.
      const end = new Date(Math.floor(ctx.deps.clock.now() / 60_000) * 60_000);
      const start = new Date(end.getTime() - windowSec * 1000);
      const maxPoints = Math.ceil(windowSec / period);
      const series = await aws.getMetricData(scope, {
        queries,
        start,
        end,
        maxPoints,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const byId = new Map(series.map((s) => [s.id, s]));
      const windowMs = windowSec * 1000;
      const heading =
        `CloudWatch ${scope.account}/${scope.region}: ${queries.length} series, last ${windowText(input.sinceMinutes)} ` +
        `(${start.toISOString()} to ${end.toISOString()}, UTC), period ${period}s` +
        (raised ? ` (raised to keep each series within ${MAX_POINTS} points)` : '');
      return fitSeries(queries.length, resultBudget(ctx.deps.config.outputBudgetBytes), (n, points) => {
        const shown = queries.slice(0, n).map((q) => entry(q, byId.get(q.id), points));
        const omitted = queries.length - n;
        const note = omitted ? `${omitted} series left out to fit the output budget: ask for them separately` : '';
        const text = [
          heading,
          note,
          ...shown.map((s) =>
            seriesText(
              `${s.id} ${s.namespace}/${s.metric}${dims(s.dimensions)} ${s.stat}${s.status !== 'Complete' ? ` [${s.status}]` : ''}`,
              s,
              windowMs,
            ),
          ),
        ]
          .filter(Boolean)
          .join('\n');
        return result(text, {
          account: scope.account,
          region: scope.region,
          window: { start: start.toISOString(), end: end.toISOString(), minutes: input.sinceMinutes },
          periodSeconds: period,
          count: n,
          ...(omitted ? { omitted } : {}),
          series: shown,
        });
      });
    });
  },
});

function entry(q: MetricQuery, s: MetricSeries | undefined, points: number) {
  const pts = s ? s.timestamps.map((t, i) => ({ t: Date.parse(t), v: s.values[i] as number })) : [];
  return {
    id: q.id,
    ...(s?.label ? { label: clip(s.label, 200) } : {}),
    namespace: q.namespace,
    metric: q.metric,
    dimensions: capMap(q.dimensions, 10).shown,
    stat: q.stat,
    status: s?.status ?? 'NoData',
    ...summarizeSeries(pts, points),
  };
}

function dims(d: Record<string, string>): string {
  const e = Object.entries(d);
  return e.length ? ` {${e.map(([k, v]) => `${clip(k, 64)}=${clip(v, 64)}`).join(',')}}` : '';
}
