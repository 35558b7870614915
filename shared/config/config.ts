import * as z from 'zod';
import { instancePrices, PriceConfigError, parseInstancePrices } from '../domain/cost/prices.ts';
import { closestName } from '../domain/did-you-mean.ts';
import { type Role, RoleSchema } from '../domain/identity.ts';
import { nextRun, parseSchedule, type Schedule, ScheduleError } from '../domain/schedule.ts';
import { quoted } from '../domain/text.ts';

export { type Role, RoleSchema };

/**
 * Tool groups, in the order tools/list shows them (then by name). A tool belongs to one (its
 * `group`); TOOLSETS picks which are served.
 */
export const TOOLSET_NAMES = ['core', 'k8s', 'delivery', 'ops', 'drift', 'alerts', 'cost', 'aws', 'gcp'] as const;
export type Toolset = (typeof TOOLSET_NAMES)[number];
/**
 * What TOOLSETS unset serves. drift and alerts are named to be served: an operator's tools/list is
 * held under 24 KB (test/unit/tools-registry.test.ts), and the default set alone is near it.
 */
export const DEFAULT_TOOLSETS: readonly Toolset[] = ['core', 'k8s', 'delivery', 'ops'];
const isToolset = (name: string): name is Toolset => (TOOLSET_NAMES as readonly string[]).includes(name);

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));

/**
 * The name of a resource in the host's cloud (a workflow, a secret): any non-empty identifier here;
 * each host checks the form its cloud uses (functions/lib/host.ts for AWS ARNs). 2048 is the longest
 * ARN AWS allows, and more than a GCP resource name needs.
 */
const resourceName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(2048, 'must be at most 2048 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'must not contain spaces or control characters');

const DEFAULT_SCOPE_ROLES: Record<string, Role> = {
  'cloudops:read': 'viewer',
  'cloudops:write': 'operator',
  'cloudops:approve': 'approver',
  'cloudops:admin': 'admin',
};

/**
 * Every setting of the server, from environment variables. Parsed once at each host's edge;
 * a missing or bad setting fails at start with its name.
 */
export /** A schedule setting (DRIFT_CHECK_SCHEDULE, COST_CHECK_SCHEDULE, ...): empty or unset is none. */
function scheduleSetting() {
  return z
    .string()
    .optional()
    .transform((s, ctx): Schedule | undefined => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        const schedule = parseSchedule(s);
        if (nextRun(schedule, Date.now()) === undefined) {
          ctx.addIssue({ code: 'custom', message: 'never runs from now on (its days or years never come)' });
          return z.NEVER;
        }
        return schedule;
      } catch (err) {
        if (!(err instanceof ScheduleError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
    });
}

/** A duration setting like `30s`, `5m`, `6h`, within [minMs, maxMs]. */
function duration(fallback: string, minMs: number, maxMs: number) {
  return z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const m = /^\s*(\d{1,7})(s|m|h)\s*$/.exec(raw);
      const ms = m ? Number(m[1]) * ({ s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'] as number) : NaN;
      if (!(ms >= minMs && ms <= maxMs)) {
        ctx.addIssue({
          code: 'custom',
          message: `a duration like 30s, 5m or 6h, from ${minMs / 1000}s to ${maxMs / 3_600_000}h`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

const EnvSchema = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    /** Public URL(s) of the MCP endpoint, comma separated. The first is the OAuth resource identifier. */
    PUBLIC_URL: csv.optional(),
    /** Extra browser origins (hostnames) allowed to call the endpoint, comma separated. */
    ALLOWED_ORIGINS: csv.default([]),
    /** `none` (loopback only) or `required`. Defaults to `none` locally; every cloud host forces `required`. */
    AUTH: z.enum(['none', 'required']).default('none'),
    OAUTH_ISSUER: z.url().optional(),
    OAUTH_JWKS_URL: z.url().optional(),
    /** Token audience; defaults to the resource URL (first PUBLIC_URL). */
    OAUTH_AUDIENCE: z.string().optional(),
    /** JSON object mapping a scope (or a value of OAUTH_ROLES_CLAIM) to a role. */
    OAUTH_SCOPE_ROLES: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return DEFAULT_SCOPE_ROLES;
        try {
          return z.record(z.string(), RoleSchema).parse(JSON.parse(s));
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object of scope -> role' });
          return z.NEVER;
        }
      }),
    /** Optional JWT claim holding role names or group names mapped by OAUTH_SCOPE_ROLES (e.g. `groups`). */
    OAUTH_ROLES_CLAIM: z.string().optional(),
    STORE: z.enum(['embedded', 'dynamodb', 'memory', 'firestore']).default('embedded'),
    /** The Google Cloud project of the Firestore database (STORE=firestore); default GOOGLE_CLOUD_PROJECT. */
    FIRESTORE_PROJECT: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id (6-30 lower-case letters, digits, -)')
      .optional(),
    /** The Firestore database id (STORE=firestore). */
    FIRESTORE_DATABASE: z
      .string()
      .regex(
        /^(\(default\)|[a-z][a-z0-9-]{2,62})$/,
        'must be (default) or a database id (4-63 lower-case letters, digits, -)',
      )
      .default('(default)'),
    /** The root collection every item lives under (STORE=firestore); the TTL policy is on its items. */
    FIRESTORE_COLLECTION: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be 1-100 letters, digits, _ or -, starting with a letter')
      .default('cloudops'),
    /** The Firestore emulator (host:port) in tests and `npm run start:gcp`; Google's client reads it too. */
    FIRESTORE_EMULATOR_HOST: z
      .string()
      .regex(/^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/, 'must be a loopback host:port like 127.0.0.1:8681')
      .optional(),
    GOOGLE_CLOUD_PROJECT: z.string().optional(),
    /** DynamoDB's own rule for table names. */
    DYNAMODB_TABLE: z
      .string()
      .min(3, 'must be 3 to 255 characters')
      .max(255, 'must be 3 to 255 characters')
      .regex(/^[a-zA-Z0-9_.-]+$/, 'may contain only letters, digits, _ . and -')
      .default('cloudops-mcp'),
    DYNAMODB_ENDPOINT: z.url().optional(),
    AWS_REGION: z.string().default('us-east-1'),
    DATA_DIR: z.string().default('.data'),
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    /** Local host: on SIGTERM/SIGINT, how long in-flight requests may take to finish before they are cut. */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Kubeconfig path(s), colon separated; default ~/.kube/config, or the in-cluster service account. */
    KUBECONFIG: z.string().optional(),
    /** Only these kubeconfig contexts become clusters (comma separated; default all). */
    K8S_CONTEXTS: csv.default([]),
    K8S_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    K8S_DISCOVERY_TTL_MS: z.coerce.number().int().min(0).default(60_000),
    /**
     * `true`: every request to a cluster impersonates the MCP caller (Impersonate-User: the caller's
     * subject; Impersonate-Group: `cloudops:<role>` per role), so the cluster's RBAC decides.
     */
    K8S_IMPERSONATE: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false'),
    /** EKS discovery: IAM role ARNs to assume, one per account, comma separated (at most 50). */
    AWS_ACCOUNTS: csv
      .pipe(
        z
          .array(
            z
              .string()
              .max(2048)
              .regex(
                /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
                'each entry must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)',
              ),
          )
          .max(50, 'at most 50 role ARNs'),
      )
      .default([]),
    /** EKS discovery: regions to list clusters in, comma separated (default: AWS_REGION). */
    AWS_REGIONS: csv
      .pipe(
        z
          .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'each entry must be an AWS region such as eu-west-1'))
          .max(40, 'at most 40 regions'),
      )
      .default([]),
    /** GKE discovery: GCP project ids, comma separated (at most 50). */
    GCP_PROJECTS: csv
      .pipe(
        z
          .array(
            z
              .string()
              .regex(
                /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
                'each entry must be a GCP project id (6 to 30 lowercase letters, digits and hyphens)',
              ),
          )
          .max(50, 'at most 50 projects'),
      )
      .default([]),
    /** How long a discovered list of EKS/GKE clusters is reused before the clouds are asked again. */
    CLUSTER_DISCOVERY_TTL: z
      .string()
      .default('5m')
      .transform((raw, ctx) => {
        const m = /^\s*(\d{1,7})(s|m|h)\s*$/.exec(raw);
        const ms = m ? Number(m[1]) * ({ s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'] as number) : NaN;
        if (!(ms >= 10_000 && ms <= 86_400_000)) {
          ctx.addIssue({ code: 'custom', message: 'must be a duration from 10s to 24h, such as 30s, 5m or 1h' });
          return z.NEVER;
        }
        return ms;
      }),
    /** Upper bound on the text of one tool result. */
    OUTPUT_BUDGET_BYTES: z.coerce.number().int().min(4096).max(1_000_000).default(50_000),
    /** Guardrail policy (YAML); default: the built-in policy (PSS baseline, enforce). */
    POLICY_FILE: z.string().optional(),
    /**
     * Test only: `1` registers the fixture tools the MCP conformance suite expects (greet, slow_compute,
     * failing_job, test_*). The server refuses to start with it unless it listens on loopback only.
     */
    MCP_CONFORMANCE_FIXTURES: z.enum(['0', '1']).default('0'),
    /** Toolsets to serve, comma separated (core, k8s, delivery, ops, drift, alerts, aws, gcp); unset or empty: DEFAULT_TOOLSETS. */
    TOOLSETS: csv.optional(),
    /** Prometheus for rollout metric gates (http://prometheus:9090). */
    PROMETHEUS_URL: z.url().optional(),
    /** Local engine only: every Wait state of the workflows lasts this long instead (tests, demos). */
    LOCAL_WORKFLOW_WAIT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
    /**
     * The rollout workflow, in the host's workflow engine (AWS: the Step Functions state machine ARN,
     * set by the CDK app on the mcp function).
     */
    ROLLOUT_WORKFLOW: resourceName.optional(),
    /**
     * A secret whose value is a kubeconfig (YAML), read once per start through the host's secret store
     * (AWS: a Secrets Manager secret ARN; local: env:NAME or file:PATH).
     */
    KUBECONFIG_SECRET: resourceName.optional(),
    /**
     * Local host: run the drift check (and deliver queued alerts) on this schedule: `rate(5 minutes)`,
     * EventBridge's `cron(0/5 * * * ? *)` or five-field cron `*\/5 * * * *`, in UTC. Unset: no timer.
     * On AWS the CDK context `driftCheckSchedule` makes an EventBridge Scheduler schedule instead.
     */
    DRIFT_CHECK_SCHEDULE: scheduleSetting(),
    /**
     * Cost (issue 14). `true`: read AWS Cost Explorer for the credentials' account (the payer account
     * sees its organization's spend; each request page costs $0.01, results are cached in the Store).
     */
    COST_AWS: z.enum(['true', 'false']).optional(),
    /** The cost-allocation tag (AWS) or label (GCP billing export) spend is grouped by, besides service. */
    COST_TAG_KEY: z.string().min(1).max(128).optional(),
    /** The GCP Cloud Billing standard export table: `project.dataset.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX`. */
    GCP_BILLING_TABLE: z.string().min(1).max(1024).optional(),
    /** JSON of instance type → USD per hour, over the embedded on-demand list prices. */
    COST_INSTANCE_PRICES: z.string().max(65_536).optional(),
    /** How long a cloud spend answer is reused before the provider is asked (and paid) again. */
    COST_CACHE_TTL: duration('6h', 60_000, 7 * 86_400_000),
    /** How long usage samples are kept (days). */
    USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(90).default(14),
    /** Local host: the cost check (budgets, anomalies; alerts) on this schedule (syntax as DRIFT_CHECK_SCHEDULE). */
    COST_CHECK_SCHEDULE: scheduleSetting(),
    /** Local host: a metrics.k8s.io usage sample of every cluster on this schedule (e.g. rate(5 minutes)). */
    USAGE_SAMPLE_SCHEDULE: scheduleSetting(),
    /** A secret whose value is the Slack app's signing secret (same forms as KUBECONFIG_SECRET). */
    SLACK_SIGNING_SECRET: resourceName.optional(),
    /**
     * JSON object: Slack user id -> the approver's identity on this server ({"U0123ABCD": {"subject": "<token sub
     * or apikey:<id>>", "name": "Alice"}}). Only these Slack users may approve; the subject keeps the
     * "never your own change" rule across channels.
     */
    SLACK_APPROVERS: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return {};
        try {
          return z
            .record(
              z.string().regex(/^[UW][A-Z0-9]+$/),
              z.object({ subject: z.string().min(1), name: z.string().min(1) }),
            )
            .parse(JSON.parse(s));
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: 'must be a JSON object of Slack user id -> {"subject": "...", "name": "..."}',
          });
          return z.NEVER;
        }
      }),
  })
  .superRefine((env, ctx) => {
    if (env.STORE === 'firestore' && !env.FIRESTORE_PROJECT && !env.GOOGLE_CLOUD_PROJECT) {
      ctx.addIssue({
        code: 'custom',
        path: ['FIRESTORE_PROJECT'],
        message: 'required with STORE=firestore (or GOOGLE_CLOUD_PROJECT)',
      });
    }
    if (env.OAUTH_ISSUER && !env.OAUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['OAUTH_JWKS_URL'], message: 'required when OAUTH_ISSUER is set' });
    }
    // The JWKS decides which tokens are genuine: fetched over plain HTTP, anyone on the path could
    // hand the server their own keys. Loopback (tests, a local issuer) is the only exception.
    if (env.OAUTH_JWKS_URL) {
      const u = new URL(env.OAUTH_JWKS_URL);
      if (u.protocol !== 'https:' && !isLoopbackHost(u.hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['OAUTH_JWKS_URL'],
          message: 'must be an https URL (plain http is accepted only for a loopback issuer)',
        });
      }
    }
    // The fixture tools exist for the conformance suite only: never on a host others can reach.
    if (env.MCP_CONFORMANCE_FIXTURES === '1' && !isLoopbackHost(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCP_CONFORMANCE_FIXTURES'],
        message: 'serves test fixtures; allowed only when HOST is a loopback address',
      });
    }
    const unknown = (env.TOOLSETS ?? []).filter((name) => !isToolset(name));
    if (unknown.length) {
      const named = unknown.slice(0, 3).map((name) => {
        const near = closestName(name, TOOLSET_NAMES);
        return `${JSON.stringify(quoted(name, 64))}${near ? ` (did you mean ${near}?)` : ''}`;
      });
      const more = unknown.length > named.length ? ` and ${unknown.length - named.length} more` : '';
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLSETS'],
        message: `unknown toolset ${named.join(', ')}${more}; known: ${TOOLSET_NAMES.join(', ')}`,
      });
    }
    if (env.OAUTH_ISSUER && !env.PUBLIC_URL?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: 'required when OAUTH_ISSUER is set (it is the token audience)',
      });
    }
  });

export interface OAuthSettings {
  issuer: string;
  jwksUrl: string;
  audience: string;
  scopeRoles: Record<string, Role>;
  rolesClaim?: string;
}

export interface Config {
  host: string;
  port: number;
  /** Public endpoint URLs; empty locally until the server knows its bound port. */
  publicUrls: URL[];
  allowedOrigins: string[];
  authRequired: boolean;
  oauth?: OAuthSettings;
  store:
    | { kind: 'embedded'; dataDir: string; table: string }
    | { kind: 'dynamodb'; table: string; endpoint?: string; region: string }
    | { kind: 'firestore'; project: string; database: string; collection: string; emulatorHost?: string }
    | { kind: 'memory' };
  auditRetentionDays: number;
  maxBodyBytes: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  shutdownGraceMs: number;
  kube: {
    kubeconfig?: string;
    contexts: string[];
    timeoutMs: number;
    discoveryTtlMs: number;
    /** K8S_IMPERSONATE: requests to clusters run as the MCP caller. */
    impersonate?: boolean;
  };
  /** Where EKS and GKE clusters are discovered (empty lists: no such source). */
  clusterDiscovery?: { awsAccounts: string[]; awsRegions: string[]; gcpProjects: string[]; ttlMs: number };
  outputBudgetBytes: number;
  policyFile?: string;
  /** The toolsets to serve (TOOLSETS, without repeats); absent: DEFAULT_TOOLSETS. */
  toolsets?: readonly Toolset[];
  /** Serve the MCP conformance suite's fixture tools (loopback only; see MCP_CONFORMANCE_FIXTURES). */
  conformanceFixtures: boolean;
  localWorkflowWaitMs?: number;
  prometheusUrl?: string;
  /** The rollout workflow's name in the host's engine (ROLLOUT_WORKFLOW); the host checks its form. */
  rolloutWorkflow?: string;
  /** The secret holding a kubeconfig (KUBECONFIG_SECRET), as the host's secret store names it. */
  kubeconfigSecret?: string;
  /** When the local host runs the drift check (DRIFT_CHECK_SCHEDULE); absent: never on a timer. */
  driftCheckSchedule?: Schedule;
  /** Cost settings (issue 14). */
  cost: {
    /** COST_AWS: read AWS Cost Explorer. */
    aws: boolean;
    tagKey?: string;
    gcpBillingTable?: string;
    /** The embedded list prices with COST_INSTANCE_PRICES over them (USD per hour by instance type). */
    instancePrices: Readonly<Record<string, number>>;
    cacheTtlMs: number;
    usageRetentionDays: number;
  };
  /** When the local host runs the cost check (COST_CHECK_SCHEDULE). */
  costCheckSchedule?: Schedule;
  /** When the local host takes usage samples (USAGE_SAMPLE_SCHEDULE). */
  usageSampleSchedule?: Schedule;
  slack?: { signingSecret?: string; approvers: Record<string, { subject: string; name: string }> };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses settings from an environment map. Throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const publicUrls = (e.PUBLIC_URL ?? []).map((u) => {
    try {
      return new URL(u);
    } catch {
      throw new ConfigError(`Invalid configuration:\n  PUBLIC_URL: not a URL: ${u}`);
    }
  });
  const oauth: OAuthSettings | undefined =
    e.OAUTH_ISSUER && e.OAUTH_JWKS_URL
      ? {
          issuer: e.OAUTH_ISSUER,
          jwksUrl: e.OAUTH_JWKS_URL,
          audience: e.OAUTH_AUDIENCE ?? String(publicUrls[0]),
          scopeRoles: e.OAUTH_SCOPE_ROLES,
          ...(e.OAUTH_ROLES_CLAIM ? { rolesClaim: e.OAUTH_ROLES_CLAIM } : {}),
        }
      : undefined;
  const store: Config['store'] =
    e.STORE === 'dynamodb'
      ? {
          kind: 'dynamodb',
          table: e.DYNAMODB_TABLE,
          region: e.AWS_REGION,
          ...(e.DYNAMODB_ENDPOINT ? { endpoint: e.DYNAMODB_ENDPOINT } : {}),
        }
      : e.STORE === 'firestore'
        ? {
            kind: 'firestore',
            project: e.FIRESTORE_PROJECT ?? (e.GOOGLE_CLOUD_PROJECT as string),
            database: e.FIRESTORE_DATABASE,
            collection: e.FIRESTORE_COLLECTION,
            ...(e.FIRESTORE_EMULATOR_HOST ? { emulatorHost: e.FIRESTORE_EMULATOR_HOST } : {}),
          }
        : e.STORE === 'memory'
          ? { kind: 'memory' }
          : { kind: 'embedded', dataDir: e.DATA_DIR, table: e.DYNAMODB_TABLE };
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrls,
    allowedOrigins: e.ALLOWED_ORIGINS,
    // OAuth configured implies auth is required.
    authRequired: e.AUTH === 'required' || oauth !== undefined,
    ...(oauth ? { oauth } : {}),
    store,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    kube: {
      ...(e.KUBECONFIG ? { kubeconfig: e.KUBECONFIG } : {}),
      contexts: e.K8S_CONTEXTS,
      timeoutMs: e.K8S_TIMEOUT_MS,
      discoveryTtlMs: e.K8S_DISCOVERY_TTL_MS,
      ...(e.K8S_IMPERSONATE === 'true' ? { impersonate: true } : {}),
    },
    clusterDiscovery: {
      awsAccounts: [...new Set(e.AWS_ACCOUNTS)],
      // Regions only: discovery in the host's own account (no role to assume) with AWS_ACCOUNTS unset.
      awsRegions: [...new Set(e.AWS_REGIONS)],
      gcpProjects: [...new Set(e.GCP_PROJECTS)],
      ttlMs: e.CLUSTER_DISCOVERY_TTL,
    },
    outputBudgetBytes: e.OUTPUT_BUDGET_BYTES,
    ...(e.POLICY_FILE ? { policyFile: e.POLICY_FILE } : {}),
    ...(e.TOOLSETS?.length ? { toolsets: [...new Set(e.TOOLSETS.filter(isToolset))] } : {}),
    conformanceFixtures: e.MCP_CONFORMANCE_FIXTURES === '1',
    ...(e.LOCAL_WORKFLOW_WAIT_MS ? { localWorkflowWaitMs: e.LOCAL_WORKFLOW_WAIT_MS } : {}),
    ...(e.PROMETHEUS_URL ? { prometheusUrl: e.PROMETHEUS_URL } : {}),
    ...(e.ROLLOUT_WORKFLOW ? { rolloutWorkflow: e.ROLLOUT_WORKFLOW } : {}),
    ...(e.KUBECONFIG_SECRET ? { kubeconfigSecret: e.KUBECONFIG_SECRET } : {}),
    ...(e.DRIFT_CHECK_SCHEDULE ? { driftCheckSchedule: e.DRIFT_CHECK_SCHEDULE } : {}),
    cost: {
      aws: e.COST_AWS === 'true',
      ...(e.COST_TAG_KEY ? { tagKey: e.COST_TAG_KEY } : {}),
      ...(e.GCP_BILLING_TABLE ? { gcpBillingTable: e.GCP_BILLING_TABLE } : {}),
      instancePrices: costPrices(e.COST_INSTANCE_PRICES),
      cacheTtlMs: e.COST_CACHE_TTL,
      usageRetentionDays: e.USAGE_RETENTION_DAYS,
    },
    ...(e.COST_CHECK_SCHEDULE ? { costCheckSchedule: e.COST_CHECK_SCHEDULE } : {}),
    ...(e.USAGE_SAMPLE_SCHEDULE ? { usageSampleSchedule: e.USAGE_SAMPLE_SCHEDULE } : {}),
    ...(e.SLACK_SIGNING_SECRET || Object.keys(e.SLACK_APPROVERS).length
      ? {
          slack: {
            ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
            approvers: e.SLACK_APPROVERS,
          },
        }
      : {}),
  };
}

/** COST_INSTANCE_PRICES over the embedded list prices; a bad entry fails the start by name. */
function costPrices(text: string | undefined): Readonly<Record<string, number>> {
  try {
    return instancePrices(parseInstancePrices(text));
  } catch (err) {
    if (err instanceof PriceConfigError)
      throw new ConfigError(`Invalid configuration:\n  COST_INSTANCE_PRICES: ${err.message}`);
    throw err;
  }
}

/** A wildcard listen address (every interface): it names no host a client could use. */
export function isWildcardHost(host: string): boolean {
  const h = host.trim().replace(/^\[|\]$/g, '');
  return h === '' || h === '0.0.0.0' || h === '::' || h === '::0' || /^0*:(0*:)*0*$/.test(h);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
