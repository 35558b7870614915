/**
 * What a node costs per hour, by its instance type (the `node.kubernetes.io/instance-type` label),
 * and how that price divides between CPU and memory (issue 14, cost per workload).
 *
 * The embedded table holds on-demand list prices in USD per hour, Linux, no discounts (no Savings
 * Plans, committed use, spot or sustained use), one region per cloud:
 * - AWS, us-east-1: the EC2 On-Demand pricing page (aws.amazon.com/ec2/pricing/on-demand/);
 * - GCP, us-central1: the Compute Engine VM instance pricing page (cloud.google.com/compute/vm-instance-pricing).
 * They are the providers' published list prices as of 2025, written down on 2026-12-08 from those
 * pages as the author knew them (not fetched by code): prices change and differ by region, so check
 * them against the current lists. `COST_INSTANCE_PRICES` (JSON of instance type → USD per hour)
 * overrides any of them and adds types; see parseInstancePrices.
 */

export const PRICE_TABLE_SOURCE =
  'on-demand list prices, USD/hour, Linux: AWS us-east-1 (EC2 On-Demand pricing) and GCP us-central1 ' +
  '(Compute Engine VM pricing), as of 2025, recorded 2026-12-08; COST_INSTANCE_PRICES overrides';

const AWS_US_EAST_1: Record<string, number> = {
  // General purpose
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm7i.large': 0.1008,
  'm7i.xlarge': 0.2016,
  'm7i.2xlarge': 0.4032,
  'm7i.4xlarge': 0.8064,
  'm6g.large': 0.077,
  'm6g.xlarge': 0.154,
  'm6g.2xlarge': 0.308,
  'm6g.4xlarge': 0.616,
  // Compute optimized
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c7i.large': 0.08925,
  'c7i.xlarge': 0.1785,
  'c7i.2xlarge': 0.357,
  'c7i.4xlarge': 0.714,
  'c6g.large': 0.068,
  'c6g.xlarge': 0.136,
  'c6g.2xlarge': 0.272,
  'c6g.4xlarge': 0.544,
  // Memory optimized
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r5.4xlarge': 1.008,
  'r6i.large': 0.126,
  'r6i.xlarge': 0.252,
  'r6i.2xlarge': 0.504,
  'r6i.4xlarge': 1.008,
  'r6g.large': 0.1008,
  'r6g.xlarge': 0.2016,
  'r6g.2xlarge': 0.4032,
  'r6g.4xlarge': 0.8064,
  // Burstable (no 4xlarge exists; unlimited-mode CPU credits are billed apart and not counted)
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
};

const GCP_US_CENTRAL1: Record<string, number> = {
  'e2-medium': 0.033503,
  'e2-standard-2': 0.067006,
  'e2-standard-4': 0.134012,
  'e2-standard-8': 0.268024,
  'e2-standard-16': 0.536048,
  'n2-standard-2': 0.097118,
  'n2-standard-4': 0.194236,
  'n2-standard-8': 0.388472,
  'n2-standard-16': 0.776944,
  'n2d-standard-2': 0.084492,
  'n2d-standard-4': 0.168984,
  'n2d-standard-8': 0.337968,
  'n2d-standard-16': 0.675936,
  'c3-standard-4': 0.201608,
  'c3-standard-8': 0.403216,
  'c3-standard-22': 1.108844,
  'c3-standard-44': 2.217688,
  't2d-standard-1': 0.042236,
  't2d-standard-2': 0.084472,
  't2d-standard-4': 0.168944,
  't2d-standard-8': 0.337888,
};

/** The embedded list prices: instance type → USD per hour. */
export const DEFAULT_INSTANCE_PRICES: Readonly<Record<string, number>> = Object.freeze({
  ...AWS_US_EAST_1,
  ...GCP_US_CENTRAL1,
});

/**
 * The rates whose ratio divides a node's price between CPU and memory. OpenCost's defaults
 * (its `default.json` custom pricing: CPU 0.031611 per vCPU-hour, RAM 0.004237 per GiB-hour) are
 * used only as a ratio: a node's CPU share of its price is cores×cpu / (cores×cpu + GiB×ram).
 */
export interface ResourceRates {
  cpuPerCoreHour: number;
  ramPerGiBHour: number;
}

export const DEFAULT_RESOURCE_RATES: Readonly<ResourceRates> = Object.freeze({
  cpuPerCoreHour: 0.031611,
  ramPerGiBHour: 0.004237,
});

export const PRICE_LIMITS = {
  /** Raw COST_INSTANCE_PRICES text. */
  jsonBytes: 64 * 1024,
  entries: 500,
  typeChars: 64,
  /** USD per hour; the largest list prices are a few hundred. */
  maxHourly: 10_000,
} as const;

/** A bad COST_INSTANCE_PRICES or bad resource rates; the message names the entry. */
export class PriceConfigError extends Error {
  override name = 'PriceConfigError';
}

/** Instance type names as the clouds spell them: `m6i.large`, `n2-standard-4`, `e2-custom-4-8192`. */
const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const shown = (s: string) => JSON.stringify(s.length > 70 ? `${s.slice(0, 64)}…` : s);

/**
 * COST_INSTANCE_PRICES parsed: a JSON object of instance type → USD per hour (positive, finite,
 * at most PRICE_LIMITS.maxHourly), at most PRICE_LIMITS.entries entries, type names of at most
 * PRICE_LIMITS.typeChars characters. Undefined or blank text is no overrides. Throws
 * PriceConfigError naming the entry that is wrong.
 */
export function parseInstancePrices(text: string | undefined): Record<string, number> {
  if (text === undefined || text.trim() === '') return {};
  if (Buffer.byteLength(text, 'utf8') > PRICE_LIMITS.jsonBytes)
    throw new PriceConfigError(`COST_INSTANCE_PRICES is longer than ${PRICE_LIMITS.jsonBytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PriceConfigError(
      'COST_INSTANCE_PRICES is not JSON: give an object of instance type to USD per hour, e.g. {"m6i.large": 0.096}',
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new PriceConfigError(
      'COST_INSTANCE_PRICES must be a JSON object of instance type to USD per hour, e.g. {"m6i.large": 0.096}',
    );
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length > PRICE_LIMITS.entries)
    throw new PriceConfigError(
      `COST_INSTANCE_PRICES has ${entries.length} entries; at most ${PRICE_LIMITS.entries} are allowed`,
    );
  const out: Record<string, number> = {};
  for (const [type, price] of entries) {
    if (type.length > PRICE_LIMITS.typeChars)
      throw new PriceConfigError(
        `COST_INSTANCE_PRICES entry ${shown(type)}: an instance type name has at most ${PRICE_LIMITS.typeChars} characters`,
      );
    if (!TYPE_NAME.test(type))
      throw new PriceConfigError(
        `COST_INSTANCE_PRICES entry ${shown(type)}: an instance type name is letters, digits, '.', '_' and '-'`,
      );
    if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0 || price > PRICE_LIMITS.maxHourly)
      throw new PriceConfigError(
        `COST_INSTANCE_PRICES entry ${shown(type)}: the price must be a positive number of USD per hour ` +
          `(at most ${PRICE_LIMITS.maxHourly}), not ${JSON.stringify(price)?.slice(0, 40) ?? String(price)}`,
      );
    out[type] = price;
  }
  return out;
}

/** The embedded table with the overrides applied (an override wins; new types are added). */
export function instancePrices(overrides: Readonly<Record<string, number>> = {}): Readonly<Record<string, number>> {
  return Object.freeze({ ...DEFAULT_INSTANCE_PRICES, ...overrides });
}

/** A node's hourly price, or why there is none (never a guess). */
export type NodePrice = { hourly: number } | { unknown: string };

/** The price of a node by its instance-type label, from `prices` (instancePrices(...)). */
export function nodePrice(instanceType: string | undefined, prices: Readonly<Record<string, number>>): NodePrice {
  if (instanceType === undefined || instanceType === '')
    return { unknown: 'the node has no node.kubernetes.io/instance-type label' };
  const hourly = Object.hasOwn(prices, instanceType) ? prices[instanceType] : undefined;
  if (hourly === undefined)
    return {
      unknown: `no price for instance type ${shown(instanceType)}: add it to COST_INSTANCE_PRICES (USD per hour)`,
    };
  return { hourly };
}

/** Checks resource rates (both positive and finite); throws PriceConfigError naming the bad one. */
export function checkResourceRates(rates: ResourceRates): ResourceRates {
  for (const key of ['cpuPerCoreHour', 'ramPerGiBHour'] as const) {
    const v = rates[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > PRICE_LIMITS.maxHourly)
      throw new PriceConfigError(`resource rate ${key} must be a positive number of USD per hour, not ${String(v)}`);
  }
  return rates;
}
