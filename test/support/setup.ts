/**
 * Runs before every test file (vitest setupFiles).
 *
 * One seed for every property-based test, so `npm test` is the same run on every machine and a
 * failure in CI reproduces locally. Explore beyond it with `FUZZ_SEED=<n> npm test` (or
 * `FUZZ_SEED=random`); a failing property prints its seed and path.
 *
 * And no child process outlives its test file: a test that times out never reaches its own
 * `finally`, so whatever host or CLI run it started is killed here, after the file's own hooks.
 */
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { killStrayChildren } from './local-host.ts';

const chosen = process.env.FUZZ_SEED;
const seed = chosen === 'random' ? Date.now() ^ (Math.random() * 0x100000000) : Number(chosen ?? 20261207);
if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${chosen}`);
fc.configureGlobal({ seed });

afterAll(() => {
  killStrayChildren();
});
