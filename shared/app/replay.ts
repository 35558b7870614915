import type { Clock } from '../ports/clock.ts';
import { ConditionFailedError, type Store } from '../ports/store.ts';

/**
 * Remembers a request of a channel (`channel`, e.g. slack-request; `key`, e.g. its signature's
 * digest) for `ttlSeconds`: true the first time, false for a replay within that time. A conditional put, so two copies racing each other
 * cannot both be accepted.
 */
export async function firstSighting(
  parts: { store: Store; clock: Clock },
  channel: string,
  key: string,
  ttlSeconds: number,
): Promise<boolean> {
  const now = parts.clock.now();
  try {
    await parts.store.put(
      {
        pk: `${channel}#${key}`,
        sk: 'seen',
        data: { at: new Date(now).toISOString() },
        expiresAt: Math.floor(now / 1000) + ttlSeconds,
      },
      { ifAbsent: true },
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}
