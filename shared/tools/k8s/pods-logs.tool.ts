import * as z from 'zod';
import { AppError } from '../../app/errors.ts';
import { target } from '../../app/k8s/objects.ts';
import { boundText, maskLogText } from '../../domain/k8s/index.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { decodeContinue, encodeContinue, moreLine, resultBudget, wireBytes } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

/** Lines a call reads at most (the page asked for plus the newer ones a `continue` skips). */
const MAX_TAIL = 50_000;
/** How far back `continue` reaches (bytes of newer lines read again each page); beyond: sinceSeconds. */
const MAX_SKIP_BYTES = 8 * 1024 * 1024;

/** A logs cursor: how many of the newest lines, and how many bytes of them, come after the page. */
function logCursor(token: string): { skip: number; bytes: number } {
  const v = decodeContinue(token);
  const bytes = v && /^b\d+$/.test(v.c) ? Number(v.c.slice(1)) : Number.NaN;
  if (!v || !Number.isSafeInteger(bytes)) {
    throw new AppError('`continue` is not a token from this tool; start again without it');
  }
  return { skip: v.o, bytes };
}

export const k8sPodsLogsTool = defineTool({
  name: 'k8s_pods_logs',
  title: 'Pod logs',
  description:
    'Last lines of a container log (or of its previous, crashed one), credentials masked. Long logs keep the end; ' +
    'older lines: pass `continue`.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    name: args.name,
    container: z.string().max(63).optional(),
    tailLines: z.number().int().min(1).max(5000).default(100),
    sinceSeconds: z.number().int().min(1).max(31536000).optional(),
    previous: z.boolean().optional(),
    continue: args.continue,
  }),
  output: z.object({ pod: z.string(), lines: z.number(), truncated: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const namespace = input.namespace ?? t.defaultNamespace;
      // `continue` counts the newest lines already shown: this page ends just before them.
      const from = input.continue === undefined ? { skip: 0, bytes: 0 } : logCursor(input.continue);
      const skip = from.skip;
      const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
      // The API server applies limitBytes from the START of the selected lines: a response that hits it
      // holds the oldest part of the tail, not the newest. Such a response is asked again with fewer
      // lines, so the newest ones always come back.
      // The newest lines a `continue` skips are read again too: the limit grows by their size.
      const limitBytes = Math.max(budget * 4, 256 * 1024) + from.bytes;
      let tail = Math.min(MAX_TAIL, input.tailLines + skip);
      let raw = '';
      for (let attempt = 0; attempt < 6; attempt++) {
        raw = await t.client.podLogs(namespace, input.name, {
          tailLines: tail,
          limitBytes,
          ...(input.container ? { container: input.container } : {}),
          ...(input.sinceSeconds ? { sinceSeconds: input.sinceSeconds } : {}),
          ...(input.previous ? { previous: true } : {}),
        });
        if (Buffer.byteLength(raw, 'utf8') < limitBytes || tail <= skip + 1) break;
        const got = raw.split('\n').length - 1;
        tail = Math.max(skip + 1, Math.min(tail - 1, Math.floor(got * 0.8)));
      }
      const all = raw.endsWith('\n') ? raw.slice(0, -1).split('\n') : raw ? raw.split('\n') : [];
      const page = all.slice(0, Math.max(0, all.length - skip));
      // Lines older than this page exist when the API returned as many as asked (the log may go on).
      const olderExist = all.length >= tail && tail < MAX_TAIL;
      const masked = maskLogText(page.length ? `${page.join('\n')}\n` : '');
      const who = `${namespace}/${input.name}${input.container ? ` [${input.container}]` : ''} on ${t.cluster}${input.previous ? ' (previous container)' : ''}`;
      const build = (textBudget: number) => {
        const cut = boundText(masked, textBudget, 'start', {
          hint: 'Older lines: use the More line; a window: sinceSeconds or tailLines.',
        });
        const lines = cut.text ? cut.text.split('\n').filter((l) => l.length > 0).length : 0;
        const hasOlder = cut.truncated || olderExist;
        const shown = Buffer.byteLength(page.slice(page.length - lines).join('\n'), 'utf8') + lines;
        const next =
          hasOlder && lines > 0 && from.bytes + shown < MAX_SKIP_BYTES
            ? { token: encodeContinue(`b${from.bytes + shown}`, skip + lines) }
            : undefined;
        const more = next ? moreLine('k8s_pods_logs', 'older lines', next) : undefined;
        const head = `${lines} lines from ${who}${skip ? `, ending ${skip} lines before the newest` : ''}`;
        const text = [head, ...(more ? [more] : []), ...(cut.notice ? [cut.notice] : []), cut.text || '(no log lines)'];
        return result(text.join('\n'), {
          cluster: t.cluster,
          namespace,
          pod: input.name,
          lines,
          truncated: cut.truncated,
          ...(next ? { continue: next.token, more } : {}),
        });
      };
      // JSON escaping makes the text bigger on the wire than in UTF-8 (quotes, control characters):
      // the largest text budget whose whole result fits is searched for.
      let out = build(budget - 1000);
      if (wireBytes(out) > budget) {
        let lo = 1;
        let hi = budget - 1000;
        let best = build(lo);
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const candidate = build(mid);
          if (wireBytes(candidate) <= budget) {
            best = candidate;
            lo = mid + 1;
          } else hi = mid - 1;
        }
        out = best;
      }
      return out;
    });
  },
});
