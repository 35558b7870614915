// events.k8s.io/v1 Events are served from the same storage as core v1 Events, converted field by field.
import type { JsonRecord } from './json.ts';
import type { KubeObject } from './types.ts';

/** [events.k8s.io/v1 field, core v1 field] */
const FIELD_MAP: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: JsonRecord, from: number, to: number): JsonRecord {
  const out: JsonRecord = { ...obj };
  for (const pair of FIELD_MAP) {
    const src = pair[from] as string;
    const dst = pair[to] as string;
    if (src in out) {
      out[dst] = out[src];
      delete out[src];
    }
  }
  return out;
}

export function eventToV1(core: KubeObject): KubeObject {
  return rename(core, 1, 0) as KubeObject;
}

export function eventFromV1(v1: KubeObject): KubeObject {
  return rename(v1, 0, 1) as KubeObject;
}

/** Field selector names of events.k8s.io/v1 mapped to the stored core field names. */
export function eventFieldToCore(field: string): string {
  for (const [v1, core] of FIELD_MAP) {
    if (field === v1) return core;
    if (field.startsWith(`${v1}.`)) return `${core}${field.slice(v1.length)}`;
  }
  return field;
}
