/**
 * How a local server stops (`npm start`, `npm run start:gcp`): the first SIGINT or SIGTERM runs
 * `close` (requests in flight finish, children stop) and exits 0, or 1 when closing fails; a second
 * signal exits at once with `again`.
 */
export function stopOnSignals(close: () => Promise<void>, again: string): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: ${again}`);
      process.exit(1);
    }
    stopping = true;
    try {
      await close();
    } catch (err) {
      console.error(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
