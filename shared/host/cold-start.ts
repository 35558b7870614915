/**
 * Memoizes an async cold-start build (config, secrets, clients). A failed build is forgotten, so the
 * next invocation tries again: a passing Secrets Manager or Secret Manager hiccup does not poison
 * the instance. Every host (Lambda, Cloud Functions, the local lazy adapters) uses this one.
 */
export function perColdStart<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
