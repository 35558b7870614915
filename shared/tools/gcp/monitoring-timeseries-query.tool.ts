import * as z from 'zod';
import { gcpProject } from '../../app/cloud/scope.ts';
import { AppError } from '../../app/errors.ts';
import type { TimeSeries } from '../../ports/cloud.ts';
import { boundPage, capMap, clip, cloudArgs, moreOf, seriesText, windowText } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { resultBudget } from '../common/render.ts';
import { summarizeSeries } from '../common/series.ts';
import { defineTool, result } from '../tool.ts';

const TOOL = 'gcp_monitoring_timeseries_query';
/** Aligned points per series at most: a longer window gets a longer alignment period (said in the answer). */
const MAX_POINTS = 1440;
/** Aligners and reducers by short name (tools/list bytes); the API's are ALIGN_<NAME> and REDUCE_<NAME>. */
const ALIGNERS = ['mean', 'max', 'min', 'sum', 'count', 'rate', 'delta', 'p50', 'p95', 'p99'] as const;
const REDUCERS = ['mean', 'max', 'min', 'sum', 'count', 'p50', 'p95', 'p99'] as const;
const METRIC_TYPE = /^[a-z][\w.-]*\/[\w./-]+$/;
const LABEL_PATH = /^[a-z][\w.]*$/;
const apiName = (prefix: 'ALIGN' | 'REDUCE', short: string) =>
  `${prefix}_${short.replace(/^p(\d\d)$/, 'PERCENTILE_$1').toUpperCase()}`;

export const gcpMonitoringTimeseriesQueryTool = defineTool({
  name: TOOL,
  title: 'Cloud Monitoring series',
  description:
    'Cloud Monitoring series of one metric type, summarized (min/max/avg/p95, last, trend); aligner/reducer: mean max min sum count rate delta p50 p95 p99. Use to check GCP load or errors.',
  group: 'gcp',
  access: 'read',
  input: z.object({
    project: cloudArgs.project,
    // No quotes or spaces: it is quoted into the filter. Checked by refinement: a pattern would only add tools/list bytes.
    metricType: z
      .string()
      .max(300)
      .refine((v) => METRIC_TYPE.test(v), 'a metric type like compute.googleapis.com/instance/cpu/utilization'),
    filter: z.string().max(1000).optional(),
    sinceMinutes: z.number().int().min(5).max(20160).default(180),
    periodSeconds: z.number().int().min(60).max(86400).default(300),
    // Names listed in the description: an enum would repeat them in tools/list.
    aligner: z
      .string()
      .max(8)
      .refine((v) => (ALIGNERS as readonly string[]).includes(v), `one of ${ALIGNERS.join(', ')}`)
      .default('mean'),
    reducer: z
      .string()
      .max(8)
      .refine((v) => (REDUCERS as readonly string[]).includes(v), `one of ${REDUCERS.join(', ')}`)
      .optional(),
    groupBy: z
      .array(
        z
          .string()
          .max(100)
          .refine((v) => LABEL_PATH.test(v), 'a label path like resource.labels.zone'),
      )
      .max(5)
      .optional(),
    limit: z.number().int().min(1).max(50).default(20),
    continue: cloudArgs.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { gcp, project } = gcpProject(ctx.deps.cloud, input.project);
      if (input.filter && /metric\.type/i.test(input.filter)) {
        throw new AppError(
          '`filter` must not name metric.type: give the metric as `metricType`, other clauses in `filter`',
        );
      }
      if (input.groupBy?.length && !input.reducer) throw new AppError('`groupBy` needs a `reducer` (e.g. mean)');
      const aligner = apiName('ALIGN', input.aligner);
      const reducer = input.reducer ? apiName('REDUCE', input.reducer) : undefined;
      const filter = `metric.type = "${input.metricType}"${input.filter ? ` AND (${input.filter})` : ''}`;
      const windowSec = input.sinceMinutes * 60;
      const floorPeriod = Math.ceil(windowSec / MAX_POINTS / 60) * 60;
      const period = Math.max(input.periodSeconds, floorPeriod);
      const raised = period !== input.periodSeconds;
      const windowMs = windowSec * 1000;
      const groupBy = input.groupBy?.length ? [...input.groupBy] : undefined;
      const query = {
        tool: TOOL,
        project,
        filter,
        since: input.sinceMinutes,
        period,
        aligner,
        reducer,
        groupBy,
      };
      return boundPage<TimeSeries>({
        query,
        continue: input.continue,
        limit: input.limit,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        // Whole minutes; later pages keep the first page's window (a page token is for one request).
        at: Math.floor(ctx.deps.clock.now() / 60_000) * 60_000,
        fetch: (limit, token, at) =>
          gcp.queryTimeSeries({
            project,
            filter,
            start: new Date((at as number) - windowMs),
            end: new Date(at as number),
            alignmentPeriodSeconds: period,
            aligner,
            ...(reducer ? { reducer } : {}),
            ...(groupBy ? { groupBy } : {}),
            limit,
            ...(token ? { nextToken: token } : {}),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          }),
        build(items, next, at) {
          const end = new Date(at as number);
          const start = new Date((at as number) - windowMs);
          const more = moreOf(TOOL, 'series', next);
          const series = items.map((s) => entry(s));
          const how = `${aligner}${reducer ? ` ${reducer}${groupBy ? ` by ${groupBy.join(',')}` : ''}` : ''}`;
          const heading =
            `Monitoring ${project}: ${input.metricType} ${how}, last ${windowText(input.sinceMinutes)} ` +
            `(${start.toISOString()} to ${end.toISOString()}, UTC), period ${period}s` +
            `${raised ? ` (raised to keep each series within ${MAX_POINTS} points)` : ''}: ${series.length} series` +
            `${next ? ' on this page' : ''}`;
          const text = [
            heading,
            more.line,
            ...series.map((s) => seriesText(labelText(s.labels, s.labelsOmitted), s, windowMs)),
          ]
            .filter(Boolean)
            .join('\n');
          return result(text, {
            project,
            metricType: input.metricType,
            window: { start: start.toISOString(), end: end.toISOString(), minutes: input.sinceMinutes },
            periodSeconds: period,
            count: series.length,
            ...more.fields,
            series,
          });
        },
      });
    });
  },
});

function entry(s: TimeSeries) {
  const labels = capMap(s.labels, 10);
  return {
    labels: labels.shown,
    ...(labels.omitted ? { labelsOmitted: labels.omitted } : {}),
    resourceType: s.resourceType,
    ...(s.unit ? { unit: clip(s.unit, 32) } : {}),
    ...summarizeSeries(
      s.points.map((p) => ({ t: Date.parse(p.time), v: p.value })),
      12,
    ),
  };
}

function labelText(labels: Record<string, string>, omitted: number | undefined): string {
  const e = Object.entries(labels);
  const text = e.length ? `{${e.map(([k, v]) => `${k}=${v}`).join(', ')}${omitted ? `, +${omitted}` : ''}}` : '{}';
  return clip(text, 240);
}
