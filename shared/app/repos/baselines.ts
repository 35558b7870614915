import * as z from 'zod';
import { baselineOf } from '../../domain/k8s/index.ts';
import type { KubeObject } from '../../domain/k8s/model.ts';
import type { Clock } from '../../ports/clock.ts';
import { ItemTooLargeError, type Store } from '../../ports/store.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/** What was last applied to an object through this server: the drift checker compares live objects with it. */
export interface BaselineRecord {
  cluster: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** The applied manifest, normalized; Secret values replaced by their SHA-256 digests. */
  object: Record<string, unknown>;
  /** SHA-256 of the canonical JSON of `object`. */
  hash: string;
  /**
   * Set when the normalized object was too large for one Store item: `object` is then empty and only
   * `hash` records what was applied (its size in bytes is kept here).
   */
  objectOmittedBytes?: number;
  appliedAt: string;
  appliedBy: string;
  requestId: string;
}

export const BaselineRecordSchema: z.ZodType<BaselineRecord> = z.looseObject({
  cluster: z.string(),
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  object: z.record(z.string(), z.unknown()),
  hash: z.string(),
  objectOmittedBytes: z.number().optional(),
  appliedAt: z.string(),
  appliedBy: z.string(),
  requestId: z.string(),
});

const group = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : 'core');

export function baselineKey(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group(apiVersion)}.${kind}/${namespace || '_'}/${name}`;
}

/** Baselines keyed by cluster / kind / namespace / name, one partition per cluster. */
export class Baselines {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  async record(input: {
    cluster: string;
    manifest: KubeObject;
    appliedBy: string;
    requestId: string;
  }): Promise<BaselineRecord> {
    const m = input.manifest;
    const apiVersion = m.apiVersion ?? 'v1';
    const kind = m.kind ?? 'Unknown';
    const name = m.metadata?.name ?? '';
    const namespace = m.metadata?.namespace ?? '';
    const { object, hash } = baselineOf(m);
    const rec: BaselineRecord = {
      cluster: input.cluster,
      apiVersion,
      kind,
      namespace,
      name,
      object,
      hash,
      appliedAt: new Date(this.clock.now()).toISOString(),
      appliedBy: input.appliedBy,
      requestId: input.requestId,
    };
    const key = { pk: `baseline#${input.cluster}`, sk: baselineKey(apiVersion, kind, namespace, name) };
    try {
      await this.store.put({ ...key, data: { ...rec } });
      return rec;
    } catch (err) {
      if (!(err instanceof ItemTooLargeError)) throw err;
      // An object near the API server's own limits (1.5 MB) does not fit one Store item: keep its hash.
      const slim: BaselineRecord = {
        ...rec,
        object: {},
        objectOmittedBytes: Buffer.byteLength(JSON.stringify(object)),
      };
      await this.store.put({ ...key, data: { ...slim } });
      return slim;
    }
  }

  async get(
    cluster: string,
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<BaselineRecord | undefined> {
    const item = await this.store.get(`baseline#${cluster}`, baselineKey(apiVersion, kind, namespace, name));
    return item ? decodeRecord(BaselineRecordSchema, item.pk, item.sk, item.data) : undefined;
  }

  /**
   * One page of a cluster's baselines. A corrupt record is left out and counted in `corrupt`, so a
   * drift check still covers every other object (get on its key fails with CorruptRecordError).
   * `corruptKeys` names them (their sort keys, `<group>.<kind>/<namespace>/<name>`), so the check
   * reports each as an object it could not compare.
   */
  async list(
    cluster: string,
    opts: { after?: string; limit: number },
  ): Promise<{ items: BaselineRecord[]; next?: string; corrupt?: number; corruptKeys?: string[] }> {
    const page = await this.store.query({
      pk: `baseline#${cluster}`,
      limit: opts.limit,
      ...(opts.after ? { after: opts.after } : {}),
    });
    const items: BaselineRecord[] = [];
    const corruptKeys: string[] = [];
    for (const i of page.items) {
      try {
        items.push(decodeRecord(BaselineRecordSchema, i.pk, i.sk, i.data));
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        corruptKeys.push(i.sk);
      }
    }
    return {
      items,
      ...(page.lastKey ? { next: page.lastKey } : {}),
      ...(corruptKeys.length ? { corrupt: corruptKeys.length, corruptKeys } : {}),
    };
  }
}
