import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { ConditionFailedError, type Store } from '../../ports/store.ts';
import { decodeRecord } from './codec.ts';

/*
 * Keys every instance of the server must share. The gateway seals the state of a multi-round-trip
 * request (requestState) with an HMAC key; a client's next round may reach any gateway instance, so
 * the key cannot be one instance's random bytes. It is made once, by whichever instance comes first
 * (a conditional put), and read by the others. Whoever may read the table could forge a state, but
 * such a caller can already write operations and approvals directly: the key protects what clients
 * send back, not the table.
 */

const PK = 'server';
const SK = 'request-state-key#v1';
const KEY_BYTES = 32;

const KeyRecordSchema = z.object({
  key: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .refine((k) => Buffer.from(k, 'base64').length === KEY_BYTES, `must be ${KEY_BYTES} bytes`),
  createdAt: z.string(),
});

/** The request-state key of this deployment: read, or created on first use. */
export async function sharedRequestStateKey(store: Store, now: () => number = Date.now): Promise<Uint8Array> {
  const read = async () => {
    const item = await store.get(PK, SK);
    return item ? decodeRecord(KeyRecordSchema, PK, SK, item.data) : undefined;
  };
  let rec = await read();
  if (!rec) {
    const fresh = { key: randomBytes(KEY_BYTES).toString('base64'), createdAt: new Date(now()).toISOString() };
    try {
      await store.put({ pk: PK, sk: SK, data: fresh }, { ifAbsent: true });
      rec = fresh;
    } catch (err) {
      // Another instance made it first: use theirs.
      if (!(err instanceof ConditionFailedError)) throw err;
      rec = await read();
      if (!rec) throw err;
    }
  }
  return new Uint8Array(Buffer.from(rec.key, 'base64'));
}
