// ?watch=true: a chunked stream of newline-delimited watch events, as the API server sends them.
import type { ServerResponse } from 'node:http';
import type { ObjectService } from './object-service.ts';
import { matchesPredicate, type Predicate } from './selectors.ts';
import { badRequest } from './status.ts';
import type { StoreEvent } from './store.ts';
import type { KubeObject, KubeStatus, ResourceType } from './types.ts';

export interface WatchParams {
  rt: ResourceType;
  namespace: string | undefined;
  predicate: Predicate;
  resourceVersion: string | null;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
}

const BOOKMARK_INTERVAL_MS = 1000;

/** Parses the watch start point before any bytes are written, so a bad value is still a plain 400. */
export function parseWatchRv(value: string | null): number | undefined {
  if (value === null || value === '' || value === '0') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid resource version: ${value}`);
  return n;
}

/** Streams events until the client goes away, the timeout passes or `stop` is called. Returns stop. */
export function serveWatch(res: ServerResponse, service: ObjectService, params: WatchParams): () => void {
  const { rt, namespace, predicate } = params;
  const startRv = parseWatchRv(params.resourceVersion);
  const store = service.store;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Send the headers now: a watch with nothing to report yet must still answer.
  res.flushHeaders();

  const inScope = (obj: KubeObject): boolean =>
    (!rt.namespaced || namespace === undefined || obj.metadata.namespace === namespace) &&
    matchesPredicate(predicate, obj);
  const write = (type: string, object: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const send = (e: StoreEvent): void => {
    if (e.storage !== rt.storage) return;
    if (e.type === 'MODIFIED') {
      const was = e.previous !== undefined && inScope(e.previous);
      const is = inScope(e.object);
      // Objects moving into or out of the selection appear as ADDED / DELETED, like the watch cache does.
      if (was && is) write('MODIFIED', service.present(rt, e.object));
      else if (is) write('ADDED', service.present(rt, e.object));
      else if (was) write('DELETED', service.present(rt, e.object));
      return;
    }
    if (inScope(e.object)) write(e.type, service.present(rt, e.object));
  };

  let stopped = false;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let unsubscribe = (): void => {};
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    clearTimeout(timeoutTimer);
    clearInterval(bookmarkTimer);
    if (!res.writableEnded) res.end();
  };

  if (startRv === undefined) {
    const scan = rt.namespaced && namespace !== undefined ? { namespace } : {};
    for (const [, obj] of store.scan(rt.storage, scan)) {
      if (matchesPredicate(predicate, obj)) write('ADDED', service.present(rt, obj));
    }
  } else {
    const backlog = store.eventsSince(startRv);
    if (!backlog) {
      const status: KubeStatus = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${startRv} (${store.oldestWatchableRv() + 1})`,
        reason: 'Expired',
        code: 410,
      };
      write('ERROR', status);
      stop();
      return stop;
    }
    for (const e of backlog) send(e);
  }
  unsubscribe = store.subscribe(send);

  if (params.timeoutSeconds !== undefined && params.timeoutSeconds > 0) {
    timeoutTimer = setTimeout(stop, params.timeoutSeconds * 1000);
  }
  if (params.allowBookmarks) {
    bookmarkTimer = setInterval(() => {
      write('BOOKMARK', {
        kind: rt.kind,
        apiVersion: rt.apiVersion,
        metadata: { resourceVersion: String(store.resourceVersion()) },
      });
    }, BOOKMARK_INTERVAL_MS);
    bookmarkTimer.unref();
  }
  res.on('close', stop);
  return stop;
}
