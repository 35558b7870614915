import { type FirestoreEmulator, startFirestoreEmulator } from '../../local/firestore-emulator.ts';

/*
 * The Firestore emulator in tests: the starter lives in local/firestore-emulator.ts (npm run
 * start:gcp uses it too); this file shares one emulator per test worker.
 */
export { type FirestoreEmulator, startFirestoreEmulator };

let shared: Promise<FirestoreEmulator> | undefined;

/**
 * One emulator per test worker (vitest runs files of a worker in one module graph), started on first
 * use and stopped when the worker exits. Files sharing it use their own collections.
 */
export function sharedFirestoreEmulator(): Promise<FirestoreEmulator> {
  if (!shared) {
    // Stopping is left to the worker's exit: one file must not stop the emulator of the next.
    shared = startFirestoreEmulator().then((emulator) => ({ ...emulator, stop: async () => {} }));
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}
