// pods/log: deterministic container logs derived from the pod's container statuses.
//
// A running container logs one line per second since it started, with an incrementing counter.
// A crash-looping container (image containing `crashloop`) logs a short startup and a fatal error
// per run. Lines from the pod annotation `fake.kube/log-lines` (a JSON array of strings) are appended
// verbatim, so tests can plant secret-looking output.
import { asArray, asNumber, asRecord, asString, getIn, isRecord, parseTimestamp } from './json.ts';
import { imageBehaviour } from './pod-lifecycle.ts';
import { badRequest } from './status.ts';
import type { KubeObject } from './types.ts';

export const LOG_LINES_ANNOTATION = 'fake.kube/log-lines';
const MAX_GENERATED_LINES = 10_000;

interface LogLine {
  at: number;
  text: string;
}

interface Run {
  startedAt: number;
  endedAt: number;
  index: number;
}

function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

function annotationLines(pod: KubeObject): string[] {
  const raw = pod.metadata.annotations?.[LOG_LINES_ANNOTATION];
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : [];
  } catch {
    return [];
  }
}

function runLines(pod: KubeObject, container: string, image: string, run: Run): LogLine[] {
  const lines: LogLine[] = [];
  if (imageBehaviour(image) === 'crashloop') {
    lines.push({
      at: run.startedAt,
      text: `level=info container=${container} msg="starting" attempt=${run.index + 1} image=${image}`,
    });
    lines.push({
      at: run.startedAt,
      text: `level=info container=${container} msg="connecting to database" host=db:5432`,
    });
    lines.push({
      at: run.endedAt,
      text: `level=fatal container=${container} msg="could not connect to database: connection refused" exit_code=1`,
    });
  } else {
    lines.push({ at: run.startedAt, text: `level=info container=${container} msg="starting" image=${image}` });
    const seconds = Math.floor((run.endedAt - run.startedAt) / 1000);
    for (let i = Math.max(1, seconds - MAX_GENERATED_LINES + 1); i <= seconds; i++) {
      lines.push({
        at: run.startedAt + i * 1000,
        text: `level=info container=${container} msg="heartbeat" count=${i}`,
      });
    }
  }
  const end = lines[lines.length - 1]?.at ?? run.startedAt;
  for (const text of annotationLines(pod)) lines.push({ at: end, text });
  return lines;
}

function pickContainer(pod: KubeObject, requested: string | null): string {
  const name = pod.metadata.name ?? '';
  const containers = asArray(getIn(pod, ['spec', 'containers'])).map((c) => asString(getIn(c, ['name'])) ?? '');
  const inits = asArray(getIn(pod, ['spec', 'initContainers'])).map((c) => asString(getIn(c, ['name'])) ?? '');
  if (!requested) {
    if (containers.length === 1 && containers[0]) return containers[0];
    const suffix = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
    throw badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${suffix}`,
    );
  }
  if (!containers.includes(requested) && !inits.includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

function imageOf(pod: KubeObject, container: string): string {
  for (const c of [
    ...asArray(getIn(pod, ['spec', 'containers'])),
    ...asArray(getIn(pod, ['spec', 'initContainers'])),
  ]) {
    if (getIn(c, ['name']) === container) return asString(getIn(c, ['image'])) ?? '';
  }
  return '';
}

/** The container run whose logs a request reads, or a 400 like the kubelet's. */
function selectRun(pod: KubeObject, container: string, previous: boolean, now: number): Run {
  const podName = pod.metadata.name ?? '';
  const statuses = asArray(getIn(pod, ['status', 'containerStatuses'])).concat(
    asArray(getIn(pod, ['status', 'initContainerStatuses'])),
  );
  const status = statuses.find((s) => isRecord(s) && s.name === container);
  const restarts = asNumber(getIn(status, ['restartCount'])) ?? 0;
  const running = asRecord(getIn(status, ['state', 'running']));
  const waiting = asRecord(getIn(status, ['state', 'waiting']));
  const terminated = asRecord(getIn(status, ['state', 'terminated']));
  const last = asRecord(getIn(status, ['lastState', 'terminated']));
  const lastRun = (): Run | undefined => {
    const startedAt = parseTimestamp(last?.startedAt);
    const endedAt = parseTimestamp(last?.finishedAt);
    if (startedAt === undefined || endedAt === undefined) return undefined;
    return { startedAt, endedAt, index: Math.max(0, restarts - 1) };
  };
  if (previous) {
    const run = lastRun();
    if (!run) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return run;
  }
  if (running) {
    const startedAt = parseTimestamp(running.startedAt) ?? now;
    return { startedAt, endedAt: now, index: restarts };
  }
  if (terminated) {
    const startedAt = parseTimestamp(terminated.startedAt) ?? now;
    return { startedAt, endedAt: parseTimestamp(terminated.finishedAt) ?? now, index: restarts };
  }
  const crashed = waiting?.reason === 'CrashLoopBackOff' ? lastRun() : undefined;
  if (crashed) return crashed;
  const reason = asString(waiting?.reason) ?? 'ContainerCreating';
  const why =
    reason === 'ImagePullBackOff'
      ? 'trying and failing to pull image'
      : reason === 'ErrImagePull'
        ? "image can't be pulled"
        : reason;
  throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${why}`);
}

/** The text body of GET pods/<name>/log for the given query. */
export function podLog(pod: KubeObject, query: URLSearchParams, now: number = Date.now()): string {
  const container = pickContainer(pod, query.get('container'));
  const run = selectRun(pod, container, query.get('previous') === 'true', now);
  let lines = runLines(pod, container, imageOf(pod, container), run);
  const sinceSeconds = Number(query.get('sinceSeconds') ?? Number.NaN);
  if (Number.isFinite(sinceSeconds) && sinceSeconds > 0) {
    lines = lines.filter((l) => l.at >= now - sinceSeconds * 1000);
  }
  const sinceTime = parseTimestamp(query.get('sinceTime'));
  if (sinceTime !== undefined) lines = lines.filter((l) => l.at >= sinceTime);
  const tail = Number(query.get('tailLines') ?? Number.NaN);
  if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
  const withTimestamps = query.get('timestamps') === 'true';
  let body = lines.map((l) => (withTimestamps ? `${rfc3339Nano(l.at)} ${l.text}\n` : `${l.text}\n`)).join('');
  const limitBytes = Number(query.get('limitBytes') ?? Number.NaN);
  if (Number.isInteger(limitBytes) && limitBytes > 0) body = Buffer.from(body).subarray(0, limitBytes).toString('utf8');
  return body;
}
