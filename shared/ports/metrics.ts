/** A source of metric values for rollout gates (Prometheus today). */
export interface MetricsSource {
  /** Where queries go, for plans and messages; undefined when none is configured. */
  readonly endpoint: string | undefined;
  /** One number from a query; throws MetricQueryError when there is no single value. */
  query(promql: string): Promise<number>;
}

export class MetricQueryError extends Error {
  override name = 'MetricQueryError';
}
