/**
 * Prints what tasks/get returns over one rollout (2026-07-28 tasks extension), for docs/tasks.md:
 * a canary that pauses, is promoted, and completes, against the fake API server. Loopback only.
 * Run: node scripts/task-timeline.ts
 */
import { deploymentYaml, startHarness } from '../test/support/k8s-harness.ts';

const MODERN = '2026-07-28';
const EXT = 'io.modelcontextprotocol/tasks';

const h = await startHarness({ LOCAL_WORKFLOW_WAIT_MS: '300' }, { readyDelayMs: 300 });
let id = 1;
async function rpc(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const name =
    typeof params.taskId === 'string' ? params.taskId : typeof params.name === 'string' ? params.name : undefined;
  const res = await fetch(h.server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: id++,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientInfo': { name: 'timeline', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': { extensions: { [EXT]: {} } },
        },
      },
    }),
  });
  return ((await res.json()) as { result: Record<string, unknown> }).result;
}

try {
  await h.ok('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.25.3', { replicas: 4 }) });
  await h.ok('k8s_rollouts_status', { name: 'web', waitSeconds: 20 });
  const t0 = Date.now();
  const created = await rpc('tools/call', {
    name: 'delivery_rollouts_start',
    arguments: { name: 'web', image: 'nginx:1.27.0', strategy: 'canary', steps: [25, 100], pauseAfter: [25] },
  });
  const taskId = created.taskId as string;
  const line = (r: Record<string, unknown>) =>
    `${String(((Date.now() - t0) / 1000).toFixed(1)).padStart(5)} s  ${String(r.status).padEnd(10)} ${String(r.statusMessage ?? '')}`;
  console.log(
    `tools/call -> ${JSON.stringify({ resultType: created.resultType, taskId, status: created.status, pollIntervalMs: created.pollIntervalMs, ttlMs: created.ttlMs })}`,
  );
  let last = '';
  let promoted = false;
  for (let i = 0; i < 400; i++) {
    const r = await rpc('tasks/get', { taskId });
    const l = line(r);
    if (l.slice(8) !== last) {
      console.log(l);
      last = l.slice(8);
    }
    if (!promoted && String(r.statusMessage).startsWith('paused after')) {
      await h.ok('delivery_rollouts_promote', { operationId: taskId });
      console.log(`${line({ status: '(client)', statusMessage: 'delivery_rollouts_promote' })}`);
      promoted = true;
    }
    if (['completed', 'failed', 'cancelled'].includes(String(r.status))) {
      const result = r.result as { structuredContent?: { steps?: unknown } } | undefined;
      console.log(`final result.structuredContent.steps = ${JSON.stringify(result?.structuredContent?.steps)}`);
      break;
    }
    await new Promise((res) => setTimeout(res, 150));
  }
} finally {
  await h.close();
}
