import type { MetricsSource } from '../ports/metrics.ts';
import { MetricQueryError } from '../ports/metrics.ts';

/** Prometheus' HTTP API (`/api/v1/query`): an instant query that must return exactly one sample. */
export class PrometheusSource implements MetricsSource {
  readonly endpoint: string | undefined;
  private readonly timeoutMs: number;

  constructor(endpoint: string | undefined, timeoutMs = 5000) {
    this.endpoint = endpoint?.replace(/\/$/, '');
    this.timeoutMs = timeoutMs;
  }

  async query(promql: string): Promise<number> {
    if (!this.endpoint) throw new MetricQueryError('no Prometheus is configured (PROMETHEUS_URL)');
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      const res = await fetch(`${this.endpoint}/api/v1/query?query=${encodeURIComponent(promql)}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = (await res.json()) as typeof body;
      if (!res.ok || body.status !== 'success')
        throw new MetricQueryError(`Prometheus answered ${res.status}: ${body.error ?? 'error'}`);
    } catch (err) {
      if (err instanceof MetricQueryError) throw err;
      throw new MetricQueryError(`Prometheus unreachable at ${this.endpoint}: ${(err as Error).message}`);
    }
    const r = body.data?.result;
    const sample =
      body.data?.resultType === 'scalar'
        ? r
        : Array.isArray(r) && r.length === 1
          ? (r[0] as { value?: unknown }).value
          : undefined;
    if (!Array.isArray(r) && body.data?.resultType !== 'scalar') throw new MetricQueryError('unexpected result type');
    if (Array.isArray(r) && r.length !== 1)
      throw new MetricQueryError(`the query returned ${r.length} series; it must return exactly one`);
    const value = Number((sample as [number, string] | undefined)?.[1]);
    if (!Number.isFinite(value)) throw new MetricQueryError('the query returned no number');
    return value;
  }
}
