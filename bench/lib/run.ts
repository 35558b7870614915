/**
 * How the benchmark scripts run: their sample-size setting from the environment, a hard deadline,
 * the server SDK's startup warnings collected instead of printed, and the exit code of main().
 */

/** An integer setting from the environment: `fallback` when unset or blank, otherwise min..max or exit 2. */
export function envInt(name: string, range: { fallback: number; min: number; max: number }): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return range.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    console.error(`${name} must be an integer from ${range.min} to ${range.max}; got "${raw}".`);
    process.exit(2);
  }
  return n;
}

/** Exits the process after `ms` whatever is still running; the timer does not keep the process alive. */
export function hardDeadline(
  ms: number,
  message = `bench: still running after ${ms / 60_000} min; giving up.`,
  exitCode = 1,
): NodeJS.Timeout {
  const timer = setTimeout(() => {
    console.error(message);
    process.exit(exitCode);
  }, ms);
  timer.unref();
  return timer;
}

/** Runs `start` with console.warn redirected to `onWarn` (the SDK prints a startup warning per handler). */
export async function captureWarnings<T>(onWarn: (message: string) => void, start: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    onWarn(args.map(String).join(' '));
  };
  try {
    return await start();
  } finally {
    console.warn = warn;
  }
}

/** Exit 0 when main resolves; print the error and exit 1 when it rejects. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
