import * as z from 'zod';
import { AppError } from '../../app/errors.ts';
import { namespaceFor, target } from '../../app/k8s/objects.ts';
import { boundRows, redactObject, summarize } from '../../domain/k8s/index.ts';
import type { ListResult, ResourceInfo } from '../../ports/kube.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { bytes, decodeContinue, encodeContinue, fitText, moreLine, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

const DEFAULT_LIMIT = { summary: 100, full: 20 } as const;

export const k8sResourcesListTool = defineTool({
  name: 'k8s_resources_list',
  title: 'List resources',
  description:
    'List objects of any kind (CRDs too): a compact table, or whole objects (Secrets redacted) with output "full".',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    kind: args.kind,
    apiVersion: args.apiVersion,
    namespace: args.namespace,
    allNamespaces: args.allNamespaces,
    labelSelector: args.labelSelector,
    fieldSelector: args.fieldSelector,
    limit: args.limit,
    continue: args.continue,
    output: z.enum(['summary', 'full']).default('summary'),
  }),
  output: z
    .object({
      count: z.number(),
      total: z.number().optional(),
      continue: z.string().optional(),
      items: z.array(z.object({}).passthrough()),
    })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const res = await t.client.resolve(input.kind, input.apiVersion);
      if (!res.verbs.includes('list')) throw new AppError(`${res.kind} cannot be listed on ${t.cluster}`);
      const namespace = namespaceFor(res, t, input);
      const from = input.continue ? decodeContinue(input.continue) : undefined;
      if (input.continue && !from)
        throw new AppError('`continue` is not a token from this tool; start again without it');
      const limit = input.limit ?? DEFAULT_LIMIT[input.output];
      // Half the budget for the text, half for structuredContent: clients may show the model either.
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      const now = ctx.deps.clock.now();
      const query = {
        ...(namespace ? { namespace } : {}),
        ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
        ...(input.fieldSelector ? { fieldSelector: input.fieldSelector } : {}),
        ...(from ? { continue: from.c } : {}),
      };

      // Start from the page size that fitted last time, so later pages fetch once.
      let pageLimit = Math.min(limit, from?.l ?? limit);
      let page = await t.client.list(res, { ...query, limit: pageLimit });
      const rowBudget = budget - 600;
      let shaped = shape(input.output, res, page, now);
      let bounded = boundRows(shaped.rows, rowBudget);
      // A page that does not fit is fetched again with exactly what fits, so the API's continue token
      // resumes right after the last row returned. Objects can grow between fetches: repeat until it
      // fits (boundRows always keeps one row, so this ends at a page of one at the latest).
      while (bounded.omitted > 0) {
        pageLimit = Math.max(1, Math.min(bounded.rows.length, pageLimit - 1));
        page = await t.client.list(res, { ...query, limit: pageLimit });
        shaped = shape(input.output, res, page, now);
        bounded = boundRows(shaped.rows, rowBudget);
      }
      // Only a row that alone is over budget (a ConfigMap of 900 KB) can be kept past it, and then
      // alone: it becomes a stub with its size and a hint, in both channels.
      const [only] = bounded.rows;
      const rows =
        only && bounded.rows.length === 1 && bounded.bytes - 2 > rowBudget
          ? [stub(only, bounded.bytes - 2, rowBudget)]
          : bounded.rows;
      const offset = from?.o ?? 0;
      const count = rows.length;
      const total =
        page.remainingItemCount !== undefined
          ? offset + page.items.length + page.remainingItemCount
          : page.continue
            ? undefined
            : offset + page.items.length;
      const next = page.continue
        ? encodeContinue(page.continue, offset + page.items.length, pageLimit < limit ? pageLimit : undefined)
        : undefined;
      const where = res.namespaced ? (namespace ? `namespace ${namespace}` : 'all namespaces') : 'cluster scope';
      const more = next
        ? moreLine('k8s_resources_list', 'objects', {
            token: next,
            ...(total !== undefined ? { remaining: total - offset - count } : {}),
          })
        : undefined;
      const head =
        `${res.kind} in ${where} on ${t.cluster}: ${count === 0 ? 'none' : `${offset + 1}-${offset + count}`}` +
        (total !== undefined ? ` of ${total}` : '') +
        (more ? `\n${more}` : '');
      const body =
        input.output === 'full'
          ? JSON.stringify(rows)
          : table(shaped.columns, rows as Array<Record<string, string | number>>);
      const text = bytes(body) > budget ? `${head}\n(table omitted: see structuredContent)` : `${head}\n${body}`;
      // Text and structuredContent together stay within the budget: the text gives way first.
      return fitText(
        result(text, {
          cluster: t.cluster,
          kind: res.kind,
          apiVersion: res.apiVersion,
          ...(namespace ? { namespace } : {}),
          count,
          ...(total !== undefined ? { total } : {}),
          ...(next ? { continue: next, more } : {}),
          items: rows,
        }),
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});

type Row = Record<string, unknown> & { name: string; namespace: string };

function shape(
  output: 'summary' | 'full',
  res: ResourceInfo,
  page: ListResult,
  now: number,
): { columns: string[]; rows: Row[] } {
  if (output === 'full') {
    return {
      columns: [],
      rows: page.items.map((o) => {
        const r = redactObject(o);
        return { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? '', ...r } as Row;
      }),
    };
  }
  const s = summarize(res.kind, page.items, now);
  return { columns: s.columns, rows: s.rows as Row[] };
}

function stub(row: Row, size: number, rowBudget: number): Row {
  return {
    name: row.name,
    namespace: row.namespace,
    truncated: true,
    bytes: size,
    hint: `over the ${rowBudget.toLocaleString('en-US')}-byte budget for one row: use k8s_resources_get for this object`,
  };
}
