// The scheduler and kubelet, reduced to a timed state machine per pod.
// Image names choose the behaviour: `crashloop`, `imagepull` (or tag `does-not-exist`), `slowstart`.
import { createHash } from 'node:crypto';
import { type ControllerContext, setCondition, typeOf, writeAs, writeStatus } from './controller-context.ts';
import { podQosClass } from './defaults.ts';
import { asArray, asRecord, asString, getIn, isRecord, timestamp } from './json.ts';
import type { KubeObject } from './types.ts';

export type ImageBehaviour = 'normal' | 'crashloop' | 'imagepull' | 'slowstart';

export function imageBehaviour(image: string): ImageBehaviour {
  if (image.includes('crashloop')) return 'crashloop';
  if (image.includes('imagepull') || image.endsWith(':does-not-exist')) return 'imagepull';
  if (image.includes('slowstart')) return 'slowstart';
  return 'normal';
}

/** `nginx:1.25` -> `docker.io/library/nginx:1.25`, as the container runtime reports images. */
export function normalizeImage(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  let name = image;
  if (slash < 0) name = `docker.io/library/${image}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${image}`;
  const last = name.split('/').pop() ?? '';
  if (!last.includes(':') && !last.includes('@')) name += ':latest';
  return name;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface ContainerRun {
  name: string;
  image: string;
  pullPolicy: string;
  behaviour: ImageBehaviour;
  started: boolean;
  running: boolean;
  ready: boolean;
  restartCount: number;
  runStartedAt?: number;
  lastTerminated?: { startedAt: number; finishedAt: number };
  waiting?: { reason: string; message?: string };
  nextAt: number;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  createdAt: number;
  scheduled: boolean;
  startTime?: string;
  podIP?: string;
  containers: ContainerRun[];
}

const KUBELET = writeAs('kubelet');
const SCHEDULER = writeAs('kube-scheduler');

export class PodLifecycle {
  private readonly ctx: ControllerContext;
  private readonly pods = new Map<string, PodRun>();
  private ipCounter = 0;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  track(key: string, pod: KubeObject, now: number): void {
    const containers = asArray(getIn(pod, ['spec', 'containers'])).filter(isRecord);
    this.pods.set(key, {
      uid: pod.metadata.uid ?? '',
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      createdAt: now,
      scheduled: false,
      containers: containers.map((c) => {
        const image = asString(c.image) ?? '';
        return {
          name: asString(c.name) ?? '',
          image,
          pullPolicy: asString(c.imagePullPolicy) ?? 'IfNotPresent',
          behaviour: imageBehaviour(image),
          started: false,
          running: false,
          ready: false,
          restartCount: 0,
          nextAt: 0,
        };
      }),
    });
  }

  forget(key: string): void {
    this.pods.delete(key);
  }

  tick(now: number): void {
    for (const [key, run] of [...this.pods]) {
      try {
        this.advancePod(key, run, now);
      } catch (err) {
        console.error(`fake-kube: pod lifecycle for ${key} failed`, err);
      }
    }
  }

  private advancePod(key: string, run: PodRun, now: number): void {
    const podRt = typeOf(this.ctx, 'pods');
    let pod = this.ctx.service.store.get('pods', key);
    if (!pod || pod.metadata.uid !== run.uid) {
      this.pods.delete(key);
      return;
    }
    if (pod.metadata.deletionTimestamp) return;
    if (!run.scheduled) pod = this.schedule(pod, run, now);
    for (const c of run.containers) this.advanceContainer(pod, run, c, now);
    writeStatus(this.ctx, podRt, pod, this.podStatus(pod, run), KUBELET);
  }

  private schedule(pod: KubeObject, run: PodRun, now: number): KubeObject {
    const podRt = typeOf(this.ctx, 'pods');
    let bound = pod;
    if (!getIn(pod, ['spec', 'nodeName'])) bound = this.ctx.service.bindPod(podRt, pod, this.ctx.nodeName, SCHEDULER);
    const node = asString(getIn(bound, ['spec', 'nodeName'])) ?? this.ctx.nodeName;
    this.ctx.events.record(
      bound,
      podRt,
      'Normal',
      'Scheduled',
      `Successfully assigned ${run.namespace}/${run.name} to ${node}`,
      {
        component: 'default-scheduler',
      },
    );
    run.scheduled = true;
    run.startTime = timestamp(now);
    this.ipCounter++;
    run.podIP = `10.244.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter % 250) + 2}`;
    for (const c of run.containers) {
      if (c.pullPolicy === 'Always' || c.behaviour === 'imagepull') {
        this.kubeletEvent(bound, c, 'Normal', 'Pulling', `Pulling image "${c.image}"`);
      }
    }
    return bound;
  }

  private kubeletEvent(
    pod: KubeObject,
    c: ContainerRun,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    this.ctx.events.record(
      pod,
      typeOf(this.ctx, 'pods'),
      type,
      reason,
      message,
      { component: 'kubelet', host: this.ctx.nodeName },
      `spec.containers{${c.name}}`,
    );
  }

  private start(pod: KubeObject, c: ContainerRun, now: number, ready: boolean): void {
    if (!c.started) {
      const seconds = (this.ctx.readyDelayMs / 1000).toFixed(3);
      if (c.pullPolicy === 'Always') {
        const size = 10_000_000 + (Number.parseInt(sha(c.image).slice(0, 6), 16) % 90_000_000);
        this.kubeletEvent(
          pod,
          c,
          'Normal',
          'Pulled',
          `Successfully pulled image "${c.image}" in ${seconds}s (${seconds}s including waiting). Image size: ${size} bytes.`,
        );
      } else {
        this.kubeletEvent(pod, c, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`);
      }
    }
    this.kubeletEvent(pod, c, 'Normal', 'Created', `Created container: ${c.name}`);
    this.kubeletEvent(pod, c, 'Normal', 'Started', `Started container ${c.name}`);
    c.started = true;
    c.running = true;
    c.ready = ready;
    c.runStartedAt = now;
    delete c.waiting;
  }

  private crash(pod: KubeObject, run: PodRun, c: ContainerRun, now: number): void {
    c.lastTerminated = { startedAt: c.runStartedAt ?? now, finishedAt: now };
    c.running = false;
    c.ready = false;
    c.restartCount++;
    const backoff = Math.min(10 * 2 ** (c.restartCount - 1), 300);
    const podRef = `${run.name}_${run.namespace}(${run.uid})`;
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${backoff >= 60 ? `${Math.floor(backoff / 60)}m${backoff % 60}s` : `${backoff}s`} restarting failed container=${c.name} pod=${podRef}`,
    };
    c.runStartedAt = now;
    this.kubeletEvent(pod, c, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podRef}`);
  }

  private pullFailed(pod: KubeObject, c: ContainerRun): void {
    const ref = normalizeImage(c.image);
    const detail = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
    c.waiting = { reason: 'ErrImagePull', message: detail };
    this.kubeletEvent(pod, c, 'Warning', 'Failed', `Failed to pull image "${c.image}": ${detail}`);
    this.kubeletEvent(pod, c, 'Warning', 'Failed', 'Error: ErrImagePull');
  }

  private pullBackOff(pod: KubeObject, c: ContainerRun): void {
    c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` };
    this.kubeletEvent(pod, c, 'Normal', 'BackOff', `Back-off pulling image "${c.image}"`);
    this.kubeletEvent(pod, c, 'Warning', 'Failed', 'Error: ImagePullBackOff');
  }

  private advanceContainer(pod: KubeObject, run: PodRun, c: ContainerRun, now: number): void {
    const delay = this.ctx.readyDelayMs;
    const startDue = now >= run.createdAt + delay;
    switch (c.behaviour) {
      case 'normal':
        if (!c.started && startDue) this.start(pod, c, now, true);
        break;
      case 'slowstart':
        if (!c.started && startDue) this.start(pod, c, now, false);
        if (c.started && !c.ready && now >= run.createdAt + 5 * delay) c.ready = true;
        break;
      case 'crashloop':
        if (!c.started && startDue) {
          this.start(pod, c, now, false);
          this.crash(pod, run, c, now);
          c.nextAt = now + delay;
        } else if (c.started && now >= c.nextAt) {
          this.crash(pod, run, c, now);
          c.nextAt = now + delay;
        }
        break;
      case 'imagepull':
        if (!c.waiting && startDue) {
          this.pullFailed(pod, c);
          c.nextAt = now + delay;
        } else if (c.waiting && now >= c.nextAt) {
          if (c.waiting.reason === 'ErrImagePull') this.pullBackOff(pod, c);
          else this.pullFailed(pod, c);
          c.nextAt = now + delay;
        }
        break;
    }
  }

  private containerStatus(run: PodRun, c: ContainerRun): Record<string, unknown> {
    const runId = sha(`${run.uid}/${c.name}/${c.restartCount}`);
    let state: Record<string, unknown>;
    if (c.running) state = { running: { startedAt: timestamp(c.runStartedAt) } };
    else if (c.waiting) state = { waiting: { ...c.waiting } };
    else state = { waiting: { reason: 'ContainerCreating' } };
    const lastState: Record<string, unknown> = {};
    if (c.lastTerminated) {
      lastState.terminated = {
        exitCode: 1,
        reason: 'Error',
        startedAt: timestamp(c.lastTerminated.startedAt),
        finishedAt: timestamp(c.lastTerminated.finishedAt),
        containerID: `containerd://${sha(`${run.uid}/${c.name}/${c.restartCount - 1}`)}`,
      };
    }
    const image = normalizeImage(c.image);
    const status: Record<string, unknown> = {
      name: c.name,
      state,
      lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image,
      imageID: c.started ? `${image.replace(/[:@].*$/, '')}@sha256:${sha(image)}` : '',
    };
    if (c.started) status.containerID = `containerd://${runId}`;
    status.started = c.running;
    return status;
  }

  private podStatus(pod: KubeObject, run: PodRun): Record<string, unknown> {
    const previous = asRecord(pod.status) ?? {};
    const now = timestamp();
    const unready = run.containers.filter((c) => !c.ready).map((c) => c.name);
    const ready = unready.length === 0;
    const notReady = {
      reason: 'ContainersNotReady',
      message: `containers with unready status: [${unready.join(' ')}]`,
    };
    let conditions = asArray(previous.conditions).filter(isRecord);
    const cond = (type: string, ok: boolean, extra: Record<string, unknown> = {}) => {
      conditions = setCondition(conditions, {
        type,
        status: ok ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: now,
        ...extra,
      });
    };
    cond('PodReadyToStartContainers', run.scheduled);
    cond('Initialized', true);
    cond('Ready', ready, ready ? {} : notReady);
    cond('ContainersReady', ready, ready ? {} : notReady);
    cond('PodScheduled', true);
    const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
    conditions.sort((a, b) => order.indexOf(String(a.type)) - order.indexOf(String(b.type)));
    const status: Record<string, unknown> = {
      phase: run.containers.some((c) => c.started) ? 'Running' : 'Pending',
      conditions,
      hostIP: NODE_IP,
      hostIPs: [{ ip: NODE_IP }],
    };
    if (run.podIP) {
      status.podIP = run.podIP;
      status.podIPs = [{ ip: run.podIP }];
    }
    if (run.startTime) status.startTime = run.startTime;
    status.containerStatuses = run.containers.map((c) => this.containerStatus(run, c));
    status.qosClass = podQosClass(pod.spec);
    return status;
  }
}

export const NODE_IP = '172.18.0.2';
