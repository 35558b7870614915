// What the in-process controllers share: the object service, the event recorder and timing.
import type { EventRecorder } from './events.ts';
import { clone } from './json.ts';
import type { ObjectService, WriteContext } from './object-service.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface ControllerContext {
  service: ObjectService;
  events: EventRecorder;
  readyDelayMs: number;
  nodeName: string;
}

export function writeAs(manager: string): WriteContext {
  return { origin: 'controller', manager, dryRun: false };
}

export const CONTROLLER_MANAGER = writeAs('kube-controller-manager');

export function typeOf(ctx: ControllerContext, storage: string): ResourceType {
  const rt = ctx.service.registry.forStorage(storage);
  if (!rt) throw new Error(`fake-kube: no served type for storage ${storage}`);
  return rt;
}

/** Replaces the status of `current`; a no-op (no new resourceVersion) when nothing changed. */
export function writeStatus(
  ctx: ControllerContext,
  rt: ResourceType,
  current: KubeObject,
  status: unknown,
  as: WriteContext = CONTROLLER_MANAGER,
): KubeObject {
  return ctx.service.update(rt, current, { ...clone(current), status }, as, { subresource: 'status' });
}

/**
 * SetCondition as the controllers implement it: no change when status and reason are unchanged;
 * otherwise the condition moves to the end, keeping lastTransitionTime if only the reason changed.
 */
export function setCondition(
  conditions: Record<string, unknown>[],
  next: Record<string, unknown>,
): Record<string, unknown>[] {
  const existing = conditions.find((c) => c.type === next.type);
  if (existing && existing.status === next.status && existing.reason === next.reason) return conditions;
  const merged = { ...next };
  if (existing && existing.status === next.status && existing.lastTransitionTime !== undefined) {
    merged.lastTransitionTime = existing.lastTransitionTime;
  }
  return [...conditions.filter((c) => c.type !== next.type), merged];
}
