import { stringify } from 'yaml';
import * as z from 'zod';
import { namespaceFor, target } from '../../app/k8s/objects.ts';
import { boundText, redactObject } from '../../domain/k8s/index.ts';
import { capJson, OMITTED_KEY } from '../../domain/redact.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { bytes, fitText, resultBudget } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

/** Room kept for the truncation note and the other structuredContent fields. */
const NOTE_RESERVE = 1000;

function truncationNote(fullBytes: number, budget: number): string {
  return (
    `Truncated: the object is ${fullBytes.toLocaleString('en-US')} bytes, over the ` +
    `${budget.toLocaleString('en-US')}-byte response budget. Large maps and lists show their first entries ` +
    `("${OMITTED_KEY}" counts the keys left out, "[N more items omitted]" the list items) and long strings are cut; ` +
    'metadata, kind and apiVersion are kept. This tool cannot return a single field: to see the rest, read the ' +
    'object with kubectl, or list related objects with k8s_resources_list and a label or field selector.'
  );
}

export const k8sResourcesGetTool = defineTool({
  name: 'k8s_resources_get',
  title: 'Get an object',
  description:
    'One object without managedFields; Secret values replaced by their sizes. Use for spec and status in detail.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    kind: args.kind,
    apiVersion: args.apiVersion,
    namespace: args.namespace,
    name: args.name,
    format: z.enum(['yaml', 'json']).default('yaml'),
  }),
  output: z.object({ kind: z.string(), name: z.string(), object: z.record(z.string(), z.unknown()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const res = await t.client.resolve(input.kind, input.apiVersion);
      const namespace = namespaceFor(res, t, input);
      const live = await t.client.get(res, input.name, namespace);
      // Half the budget for the text, half for structuredContent (see docs/decisions.md).
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      const full = redactObject({ apiVersion: res.apiVersion, kind: res.kind, ...live });
      const fullBytes = bytes(full);
      const render = (o: Record<string, unknown>): string =>
        input.format === 'json' ? JSON.stringify(o, null, 1) : stringify(o, { lineWidth: 0 });
      let object = full;
      let body = render(full);
      const cut = fullBytes > budget - NOTE_RESERVE || bytes(body) > budget - NOTE_RESERVE;
      if (cut) {
        // Large maps and lists keep their first entries, long strings are cut; "[omitted]" entries
        // count what was left out. The rendered text (indented JSON or YAML) can be larger than the
        // compact JSON, so the cap shrinks until both fit.
        let cap = budget - NOTE_RESERVE;
        for (let i = 0; i < 8; i++) {
          object = capJson(full, cap) as Record<string, unknown>;
          body = render(object);
          const over = Math.max(bytes(object), bytes(body)) - (budget - NOTE_RESERVE);
          if (over <= 0) break;
          cap = Math.max(200, Math.floor(cap - over - cap * 0.05));
        }
        const bounded = boundText(body, budget - NOTE_RESERVE, 'end');
        body = bounded.text;
      }
      const note = cut ? `${input.format === 'json' ? '\n' : ''}# ${truncationNote(fullBytes, budget)}` : '';
      // Escaping (YAML or JSON inside a JSON string) can grow the text on the wire: it gives way first,
      // and the note stays at its end.
      const structured = {
        cluster: t.cluster,
        kind: res.kind,
        name: input.name,
        ...(namespace ? { namespace } : {}),
        object,
        ...(cut ? { truncated: true, bytes: fullBytes, note: truncationNote(fullBytes, budget) } : {}),
      };
      const total = resultBudget(ctx.deps.config.outputBudgetBytes);
      const fitted = fitText(result(body, structured), total - 2 * bytes(note) - 16);
      const text = (fitted.content[0] as { text: string }).text;
      return result(`${text}${note}`, structured);
    });
  },
});
