import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../shared/tools/index.ts';
import { deploymentYaml, type Harness, startHarness } from '../support/k8s-harness.ts';

// Strict inputs (issue 9, item 7): every tool refuses arguments it does not declare with a -32602
// that names the closest valid one, on both protocol eras, before anything reaches the cluster.

type Era = 'modern' | 'legacy';
const ERAS: Era[] = ['modern', 'legacy'];
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

interface Reply {
  status: number;
  body: { result?: Record<string, unknown>; error?: { code: number; message: string } };
}

let h: Harness;
let nextId = 1;

async function rpc(era: Era, method: string, params?: unknown): Promise<Reply> {
  const name = (params as { name?: unknown } | undefined)?.name;
  const modernParams =
    params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))
      ? params
      : {
          ...(params as object | undefined),
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'strict-inputs-test', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        };
  const headers: Record<string, string> =
    era === 'modern'
      ? {
          'mcp-protocol-version': MODERN,
          'mcp-method': method,
          ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
        }
      : { 'mcp-protocol-version': LEGACY };
  const res = await fetch(h.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: nextId++,
      method,
      ...(params === undefined && era === 'legacy' ? {} : { params: era === 'modern' ? modernParams : params }),
    }),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

const call = (era: Era, name: string, args: unknown) => rpc(era, 'tools/call', { name, arguments: args });

/** Spellings an agent plausibly sends for `key`, none of them a valid key of the same tool. */
function misspellings(key: string, valid: readonly string[]): string[] {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const out = new Set([
    key.toLowerCase(),
    key.toUpperCase(),
    key.charAt(0).toUpperCase() + key.slice(1),
    snake,
    snake.replaceAll('_', '-'),
    key.length > 1 ? key.charAt(1) + key.charAt(0) + key.slice(2) : `${key}x`,
    key.length > 4 ? key.slice(0, -1) : `${key}s`,
    `${key}s`,
  ]);
  return [...out].filter((m) => !valid.includes(m));
}

const writesTo = (since: number) => h.kube.requests.slice(since);

beforeAll(async () => {
  // Every toolset, so every tool's schema is checked (drift and alerts are not served by default).
  h = await startHarness({ TOOLSETS: [...new Set(allTools.map((t) => t.group))].join(',') });
  await h.ok('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.27', { replicas: 2 }) });
  await h.ok('k8s_resources_apply', {
    manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { mode: a }\n',
  });
});
afterAll(async () => {
  await h?.close();
});

describe('tools/list declares strict inputs', () => {
  for (const era of ERAS) {
    it(`${era}: every object in every inputSchema has additionalProperties: false`, async () => {
      const reply = await rpc(era, 'tools/list', era === 'modern' ? {} : undefined);
      const tools = reply.body.result?.tools as Array<{ name: string; inputSchema: unknown }>;
      expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());
      let objects = 0;
      const walk = (node: unknown, where: string): void => {
        if (Array.isArray(node)) {
          node.forEach((n, i) => {
            walk(n, `${where}[${i}]`);
          });
          return;
        }
        if (!node || typeof node !== 'object') return;
        const o = node as Record<string, unknown>;
        if (o.type === 'object' && o.properties) {
          objects++;
          expect(o.additionalProperties, where).toBe(false);
        }
        for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
      };
      for (const t of tools) walk(t.inputSchema, t.name);
      expect(objects).toBeGreaterThanOrEqual(allTools.length);
    });
  }
});

describe('every tool refuses every misspelled argument with a did-you-mean', () => {
  for (const tool of allTools) {
    it(tool.name, async () => {
      const keys = Object.keys(tool.input.shape);
      for (const key of keys) {
        for (const [i, wrong] of misspellings(key, keys).entries()) {
          // Both eras for the first spelling of each key, the modern one for the rest: one rule, two wires.
          for (const era of i === 0 ? ERAS : (['modern'] as Era[])) {
            const before = h.kube.requests.length;
            const reply = await call(era, tool.name, { [wrong]: true });
            const where = `${tool.name} ${era} ${wrong}`;
            expect(reply.body.error?.code, where).toBe(-32602);
            expect(reply.body.error?.message, where).toContain(
              `unknown argument \`${wrong}\` (did you mean \`${key}\`?)`,
            );
            expect(reply.body.result, where).toBeUndefined();
            expect(writesTo(before), where).toEqual([]);
          }
        }
      }
      if (keys.length === 0) {
        const reply = await call('modern', tool.name, { dryRun: true });
        expect(reply.body.error?.code).toBe(-32602);
        expect(reply.body.error?.message).toContain('valid arguments: none');
      }
    });
  }

  it('nested objects too: a misspelled gate is refused, naming its path and the closest key', async () => {
    for (const era of ERAS) {
      const reply = await call(era, 'delivery_rollouts_plan', {
        name: 'web',
        image: 'nginx:1.28',
        gates: { maxRestart: 1, metrics: [{ name: 'err', query: 'q', op: '<', thresold: 1 }] },
      });
      expect(reply.body.error?.code).toBe(-32602);
      expect(reply.body.error?.message).toContain('gates: unknown argument `maxRestart` (did you mean `maxRestarts`?)');
      expect(reply.body.error?.message).toMatch(
        /gates\.metrics\.0: unknown argument `thresold` \(did you mean `threshold`\?\)/,
      );
    }
  });

  it('a key close to nothing lists the valid names', async () => {
    const reply = await call('modern', 'k8s_resources_delete', { kind: 'ConfigMap', name: 'settings', zzzzzz: 1 });
    expect(reply.body.error?.code).toBe(-32602);
    expect(reply.body.error?.message).toContain(
      'unknown argument `zzzzzz`; valid arguments: `cluster`, `kind`, `apiVersion`, `namespace`, `name`, `labelSelector`, `maxCount`, `dryRun`',
    );
  });
});

describe('a misspelled or mistyped safety flag never runs the unsafe version', () => {
  const DRY_RUN_MISTAKES: Array<Record<string, unknown>> = [
    { dryrun: true },
    { dry_run: true },
    { DryRun: true },
    { 'dry-run': true },
    { DRYRUN: true },
    { dryRn: true },
    { dyrRun: true },
    { dryRuns: true },
    { dryRun: 'true' },
    { dryRun: 1 },
    { dryRun: 'yes' },
    { dryRun: null },
    { dryRun: [true] },
    { dryRun: true, force: 'yes' },
  ];
  const configMap =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { mode: changed }\n';
  const cases: Array<[string, Record<string, unknown>]> = [
    ['k8s_resources_delete', { kind: 'ConfigMap', name: 'settings' }],
    ['k8s_resources_apply', { manifest: configMap }],
    ['k8s_resources_patch', { kind: 'ConfigMap', name: 'settings', patch: '{"data":{"mode":"patched"}}' }],
    ['k8s_workloads_scale', { name: 'web', replicas: 0 }],
    ['k8s_rollouts_restart', { name: 'web' }],
    ['k8s_rollouts_undo', { name: 'web' }],
  ];
  for (const [tool, base] of cases) {
    it(`${tool}: nothing reaches the cluster, and the answer is -32602 naming dryRun`, async () => {
      const cm = () => JSON.stringify(h.kube.store.get('configmaps', 'default', 'settings'));
      const web = () =>
        JSON.stringify((h.kube.store.get('deployments.apps', 'default', 'web') as { spec?: unknown }).spec);
      const [cmBefore, webBefore] = [cm(), web()];
      for (const era of ERAS) {
        for (const mistake of DRY_RUN_MISTAKES) {
          const before = h.kube.requests.length;
          const reply = await call(era, tool, { ...base, ...mistake });
          const where = `${tool} ${era} ${JSON.stringify(mistake)}`;
          expect(reply.body.error?.code, where).toBe(-32602);
          expect(reply.body.error?.message, where).toMatch(/`dryRun`|`force`/);
          expect(writesTo(before), where).toEqual([]);
        }
      }
      expect(cm()).toBe(cmBefore);
      expect(web()).toBe(webBefore);
    });
  }

  it('the correctly spelled flag still works: a dry run writes nothing, and is not refused', async () => {
    const r = await h.call('k8s_resources_delete', { kind: 'ConfigMap', name: 'settings', dryRun: true });
    expect(r.isError, r.text).toBe(false);
    expect(h.kube.store.get('configmaps', 'default', 'settings')).toBeDefined();
  });

  it('every refused call leaves one audit record with the reason', async () => {
    await call('modern', 'k8s_resources_delete', { kind: 'ConfigMap', name: 'settings', dryrun: true });
    const audit = await h.ok<{ events: Array<{ tool: string; outcome: string; error?: string }> }>(
      'audit_events_list',
      {
        tool: 'k8s_resources_delete',
        limit: 1,
      },
    );
    expect(audit.events[0]).toMatchObject({ tool: 'k8s_resources_delete', outcome: 'error' });
    expect(audit.events[0]?.error).toContain('did you mean `dryRun`');
  });
});

describe('invalid params are -32602 (Invalid params), never -32603', () => {
  const cases: Array<[string, string, unknown]> = [
    ['wrong type', 'tools/call', { name: 'k8s_resources_list', arguments: { kind: 7 } }],
    ['wrong type (limit)', 'tools/call', { name: 'audit_events_list', arguments: { limit: 'many' } }],
    ['missing required', 'tools/call', { name: 'k8s_resources_get', arguments: {} }],
    ['out of range', 'tools/call', { name: 'k8s_workloads_scale', arguments: { name: 'web', replicas: -1 } }],
    ['bad enum', 'tools/call', { name: 'k8s_events_list', arguments: { type: 'Error' } }],
    ['unknown argument', 'tools/call', { name: 'server_info', arguments: { verbose: true } }],
    ['arguments a string', 'tools/call', { name: 'server_info', arguments: 'all' }],
    ['arguments an array', 'tools/call', { name: 'server_info', arguments: [1] }],
    ['arguments null', 'tools/call', { name: 'server_info', arguments: null }],
    ['no tool name', 'tools/call', { arguments: {} }],
    ['tool name a number', 'tools/call', { name: 5, arguments: {} }],
    ['params a string', 'tools/call', 'server_info'],
    ['params an array', 'tools/call', ['server_info']],
    ['params a number', 'tools/list', 5],
    ['params null', 'tools/list', null],
    ['tools/list cursor a number', 'tools/list', { cursor: 5 }],
    ['tools/list cursor an object', 'tools/list', { cursor: { after: 'x' } }],
  ];
  for (const era of ERAS) {
    for (const [what, method, params] of cases) {
      it(`${era}: ${what}`, async () => {
        const reply = await rpc(era, method, params);
        expect(reply.body.error?.code, JSON.stringify(reply.body)).toBe(-32602);
        expect(reply.status).toBeLessThan(500);
        // Says what was wrong, without a dump of validator internals.
        expect(reply.body.error?.message).toMatch(/^Invalid (params|arguments)/);
        expect(reply.body.error?.message).not.toMatch(/"code":|\[\s*\{/);
      });
    }
  }

  it('initialize on the 2026-07-28 wire stays a removed method (404, -32601), whatever its params', async () => {
    for (const params of [{}, { protocolVersion: 5 }, { capabilities: 'none' }]) {
      const reply = await rpc('modern', 'initialize', params);
      expect(reply.status, JSON.stringify(reply.body)).toBe(404);
      expect(reply.body.error?.code).toBe(-32601);
    }
    // On the 2025 lane initialize is served, so wrong params are the caller's mistake.
    const legacy = await rpc('legacy', 'initialize', { protocolVersion: 5 });
    expect(legacy.body.error?.code).toBe(-32602);
  });

  it('valid calls are untouched on both eras (defaults still apply)', async () => {
    for (const era of ERAS) {
      const list = await call(era, 'k8s_events_list', {});
      expect(list.body.error, JSON.stringify(list.body)).toBeUndefined();
      const tools = await rpc(era, 'tools/list', era === 'modern' ? {} : undefined);
      expect(tools.body.error).toBeUndefined();
    }
  });
});
