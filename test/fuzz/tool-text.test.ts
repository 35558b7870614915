/**
 * Fuzz: hostile text through the real handlers of every tool that takes text, against the fake
 * Kubernetes API server, each with its own per-request ParseCache as the endpoint gives it, then
 * through the tool's audit hook with that cache. Every call must come back (no throw, no stall)
 * with a result or a clear tool error free of stack traces and parser internals; the audit hook
 * never throws and records a redacted text or a bounded marker; a text is parsed once per request.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseCache } from '../../shared/domain/input/index.ts';
import { QUOTE_CHARS } from '../../shared/domain/text.ts';
import { allTools } from '../../shared/tools/index.ts';
import type { AnyTool, ToolContext } from '../../shared/tools/tool.ts';
import { type Harness, startHarness } from '../support/k8s-harness.ts';
import { hostileString, hostileText, INTERNALS, validDeployment } from './hostile-text.ts';

/** Far above any honest call on a loaded machine; a stall (quadratic parse, alias expansion) takes minutes. */
const STALL_MS = 20_000;
/** A billion laughs materialized is gigabytes; honest work on these inputs stays well below this. */
const MAX_HEAP_GROWTH = 512 * 1024 * 1024;

const tool = (name: string): AnyTool => {
  const t = allTools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};

describe('fuzz: hostile text through the tool handlers', () => {
  let h: Harness;
  let n = 0;
  const heapBefore = process.memoryUsage().heapUsed;

  beforeAll(async () => {
    h = await startHarness();
    await h.ok('k8s_resources_apply', { manifest: validDeployment() });
  });
  afterAll(async () => {
    await h?.close();
  });

  const ctx = (): ToolContext => {
    const deps = h.server.deps;
    return {
      deps,
      identity: { subject: 'fuzz', name: 'fuzz', roles: ['admin'], method: 'local' },
      requestId: `fuzz-${++n}`,
      log: deps.log,
      parsed: new ParseCache(),
    };
  };

  /**
   * One call as the endpoint makes it: schema check, handler, then the audit hook with the same cache.
   * Returns the answer's text ('' when the schema refused the arguments).
   */
  async function drive(name: string, args: Record<string, unknown>): Promise<string> {
    const t = tool(name);
    const input = t.input.safeParse(args);
    if (!input.success) return ''; // the endpoint answers -32602 before any handler runs
    const c = ctx();
    const started = performance.now();
    const result = await t.handler(input.data as never, c);
    const audited = t.auditArgs ? t.auditArgs(args, c.parsed) : args;
    expect(performance.now() - started, name).toBeLessThan(STALL_MS);

    const text = (result.content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('\n');
    // Whatever the input, the answer fits the output budget (an echo of a huge argument would not).
    expect(Buffer.byteLength(text), text.slice(0, 300)).toBeLessThanOrEqual(c.deps.config.outputBudgetBytes);
    if (result.isError) {
      for (const pattern of INTERNALS) expect(text, name).not.toMatch(pattern);
    }
    // One parse per text per request: the audit hook answered from the handler's parse.
    expect(c.parsed.parses).toBeLessThanOrEqual(1);
    for (const key of ['manifest', 'patch'] as const) {
      const v = audited[key];
      if (typeof v === 'string' && v.startsWith('[unparseable')) {
        expect(v.length).toBeLessThan(400);
        expect(v).toMatch(/^\[unparseable (manifest|patch), \d+ bytes, not recorded: .+\]$/);
      }
    }
    return text;
  }

  it('manifests and patches: apply, patch, rollouts plan and start', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileText,
        fc.constantFrom('apply', 'patch-merge', 'patch-json', 'patch-strategic', 'plan', 'start', 'adopt'),
        async (text, use) => {
          // Dry runs: a hostile but valid manifest (a mutation to replicas: 22222, say) must not make the
          // fake cluster start that many pods; the parse and the guardrails run the same either way.
          if (use === 'apply') await drive('k8s_resources_apply', { manifest: text, dryRun: true });
          else if (use === 'adopt') await drive('drift_baselines_adopt', { manifest: text, dryRun: true });
          else if (use.startsWith('patch-'))
            await drive('k8s_resources_patch', {
              kind: 'Deployment',
              name: 'web',
              namespace: 'default',
              patch: text,
              patchType: use.slice(6),
              dryRun: true,
            });
          else
            await drive(use === 'plan' ? 'delivery_rollouts_plan' : 'delivery_rollouts_start', {
              name: 'web',
              namespace: 'default',
              manifest: text,
            });
        },
      ),
      { numRuns: 30 },
    );
    // The process is up and the cluster still answers through the same handlers.
    const after = await h.call('k8s_resources_get', { kind: 'Deployment', name: 'web', namespace: 'default' });
    expect(after.isError).toBe(false);
  });

  it('selectors, names, filters and cursors of the other tools', { timeout: 240_000 }, async () => {
    const calls: Array<(s: string) => [string, Record<string, unknown>]> = [
      (s) => ['k8s_resources_list', { kind: 'pods', labelSelector: s }],
      (s) => ['k8s_resources_list', { kind: 'pods', fieldSelector: s }],
      (s) => ['k8s_resources_list', { kind: 'configmaps', continue: s }],
      (s) => ['k8s_resources_list', { kind: s }],
      (s) => ['k8s_resources_get', { kind: 'Deployment', name: s }],
      (s) => ['k8s_resources_get', { kind: s, name: 'web', apiVersion: s }],
      (s) => ['k8s_pods_logs', { name: s, container: s }],
      (s) => ['k8s_events_list', { kind: s, name: s }],
      (s) => ['k8s_api_resources_list', { search: s, group: s }],
      (s) => ['k8s_api_resources_list', { continue: s }],
      (s) => ['k8s_namespaces_list', { continue: s }],
      (s) => ['audit_events_list', { tool: s, caller: s }],
      (s) => ['audit_events_list', { cursor: s }],
      (s) => ['ops_operations_list', { cursor: s }],
      (s) => ['ops_operations_get', { operationId: s }],
      (s) => ['k8s_resources_delete', { kind: 'ConfigMap', labelSelector: s, maxCount: 5, dryRun: true }],
      (s) => ['drift_checks_run', { cluster: s }],
      (s) => ['drift_checks_run', { namespace: s }],
      (s) => ['drift_findings_list', { cluster: s, namespace: s }],
      (s) => ['drift_findings_list', { continue: s }],
      (s) => ['drift_baselines_adopt', { namespace: 'default', labelSelector: s, dryRun: true }],
      (s) => ['drift_baselines_adopt', { namespace: 'default', kinds: [s], dryRun: true }],
      (s) => ['alerts_outbox_list', { continue: s }],
    ];
    await fc.assert(
      fc.asyncProperty(hostileString, fc.nat({ max: calls.length - 1 }), async (s, i) => {
        const [name, args] = (calls[i] as (s: string) => [string, Record<string, unknown>])(s);
        const text = await drive(name, args);
        // A long argument that passed its bound is quoted, never echoed whole: the tool's own messages
        // quote QUOTE_CHARS, and an API server's message (which may quote a selector) is cut at 1000.
        if (s.length > Math.max(QUOTE_CHARS, 1000) + 24)
          expect(text.includes(s), `${name} echoed ${s.length} characters`).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('the shared Kubernetes arguments are bounded where they come in', async () => {
    const long = 'a'.repeat(70_000);
    for (const args of [
      { kind: 'pods', labelSelector: long },
      { kind: 'pods', fieldSelector: long },
      { kind: 'pods', continue: long },
      { kind: long },
      { kind: 'pods', namespace: 'n'.repeat(64) },
      { kind: 'pods', cluster: long },
    ]) {
      expect(tool('k8s_resources_list').input.safeParse(args).success, JSON.stringify(args).slice(0, 80)).toBe(false);
    }
    expect(tool('k8s_resources_get').input.safeParse({ kind: 'Deployment', name: 'n'.repeat(254) }).success).toBe(
      false,
    );
    expect(tool('k8s_resources_get').input.safeParse({ kind: 'Deployment', name: 'n'.repeat(253) }).success).toBe(true);
  });

  it('messages quote at most QUOTE_CHARS of a caller value (operation ids, selectors, images)', async () => {
    const id = `op-${'z'.repeat(124)}`;
    for (const name of ['ops_operations_get', 'delivery_rollouts_get', 'ops_operations_cancel']) {
      const text = await drive(name, { operationId: id });
      expect(text, name).toBe(`no operation ${id}`);
    }
    // A selector at its bound (4096) that matches nothing: the answer names it, quoted.
    const selector = `app in (${Array.from({ length: 800 }, (_, i) => `v${i}`).join(',')})`.slice(0, 4000);
    const fixed = `${selector.slice(0, selector.lastIndexOf(','))})`;
    const none = await drive('k8s_resources_delete', {
      kind: 'ConfigMap',
      namespace: 'default',
      labelSelector: fixed,
      maxCount: 5,
      dryRun: true,
    });
    expect(none).toContain(`"${fixed.slice(0, QUOTE_CHARS)}…(`);
    expect(none.length).toBeLessThan(QUOTE_CHARS + 200);
    // An image at its bound (512) in the plan's summary and in "already runs".
    const image = `registry.example.com/${'i'.repeat(480)}:1.0`;
    const plan = await drive('delivery_rollouts_plan', { name: 'web', namespace: 'default', image });
    expect(plan).toContain(`image ${image.slice(0, QUOTE_CHARS)}…(`);
    expect(plan).not.toContain(image);
  });

  it('the whole of every argument is bounded, not only the shared ones', () => {
    const huge = 'a'.repeat(200_000);
    for (const [name, args] of [
      ['delivery_rollouts_plan', { name: 'web', image: huge }],
      ['delivery_rollouts_start', { name: 'web', image: 'nginx:1', container: huge }],
      ['ops_operations_get', { operationId: huge }],
      ['audit_events_list', { caller: huge }],
      ['k8s_events_list', { name: huge }],
      ['ops_approvals_list', { cursor: huge }],
    ] as const) {
      expect(tool(name).input.safeParse(args).success, name).toBe(false);
    }
  });

  it('memory does not balloon over the whole run', () => {
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(MAX_HEAP_GROWTH);
  });
});
