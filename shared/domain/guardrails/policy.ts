import YAML from 'yaml';
import * as z from 'zod';
import { type CostPolicy, CostPolicySchema, defaultCostPolicy } from '../cost/policy.ts';
import { closestName } from '../did-you-mean.ts';
import { type DriftPolicy, DriftPolicySchema, defaultDriftPolicy } from '../drift/policy.ts';
import { ROLLOUT_LIMITS } from '../rollout-plan.ts';
import { type CloudPolicy, CloudPolicySchema, defaultCloudPolicy } from './cloud.ts';
import { formatPath } from './object-access.ts';
import { closestRuleId, isRuleId, RULE_IDS, type RuleId, ruleLevel } from './rules.ts';

export type RuleMode = 'enforce' | 'audit';
export type PodSecurityLevel = 'baseline' | 'restricted';

/** Per-rule settings. `enabled: true` also switches on a restricted rule when podSecurity is baseline. */
export interface RuleSetting {
  mode?: RuleMode;
  enabled?: boolean;
}

export interface NamespaceFilter {
  /** Globs; empty means every namespace is allowed. */
  allow: string[];
  /** Globs; a match refuses the write even when allow also matches. */
  deny: string[];
}

/** Which cluster-scoped kinds (everything but Namespaces, which the namespace rules cover) agents may write. */
export interface ClusterScopedFilter {
  /** Kinds always allowed, even while namespaces.allow confines writes (e.g. CustomResourceDefinition). */
  allow: string[];
  /** Kinds always refused unless also in allow. */
  deny: string[];
}

/** Switches named rules off for objects in matching namespaces (and, when given, matching clusters). */
export interface Exemption {
  rules: RuleId[];
  namespaces: string[];
  clusters?: string[];
  reason: string;
}

/** Settings one cluster overrides; each given field replaces the top-level value. */
export interface ClusterOverride {
  readOnly?: boolean;
  protectedNamespaces?: string[];
  namespaces?: Partial<NamespaceFilter>;
  podSecurity?: PodSecurityLevel;
  maxDeleteCount?: number;
  mode?: RuleMode;
}

/** A parsed guardrail policy with every default filled in. */
export interface Policy {
  /** Mode of every rule that does not set its own. */
  mode: RuleMode;
  /** `restricted` adds the pss-restricted/* rules to the baseline ones. */
  podSecurity: PodSecurityLevel;
  readOnly: boolean;
  /** Names or globs of namespaces that are read-only. */
  protectedNamespaces: string[];
  namespaces: NamespaceFilter;
  clusterScoped: ClusterScopedFilter;
  maxDeleteCount: number;
  rules: Partial<Record<RuleId, RuleSetting>>;
  exemptions: Exemption[];
  clusters: Record<string, ClusterOverride>;
  approvals: ApprovalPolicy;
  /** What the drift check does not count as drift (absent in policies built before it: the defaults apply). */
  drift?: DriftPolicy;
  /** Cloud instance writes (absent in policies built before it: the defaults apply). */
  cloud?: CloudPolicy;
  /** Budgets, anomaly and right-sizing settings of the cost check (absent in policies built before it: the defaults apply). */
  cost?: CostPolicy;
}

/** Which long operations wait for a human approver (never the requester) before changing anything. */
export interface ApprovalPolicy {
  /** Rollouts into a namespace matching one of these globs need approval (default `prod*`). */
  rolloutNamespaces: string[];
  /** Rollouts on these clusters (globs) always need approval. */
  rolloutClusters: string[];
  /** How long a request for approval stays open. */
  ttlSeconds: number;
}

/** The settings that apply to one cluster after its override is merged over the top level. */
export interface EffectiveSettings {
  mode: RuleMode;
  podSecurity: PodSecurityLevel;
  readOnly: boolean;
  protectedNamespaces: string[];
  namespaces: NamespaceFilter;
  clusterScoped: ClusterScopedFilter;
  maxDeleteCount: number;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
  /** One line per problem, each starting with the field path. */
  readonly issues: string[];

  constructor(issues: string[], options?: { cause?: unknown }) {
    super(`Invalid guardrail policy:\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}

export const DEFAULT_PROTECTED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];
export const DEFAULT_MAX_DELETE_COUNT = 20;
/**
 * Cluster-wide privilege: whoever writes these can grant themselves anything (RBAC) or see and change
 * every object the API server admits (admission webhooks and policies).
 */
export const DEFAULT_CLUSTER_SCOPED_DENY: readonly string[] = [
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
];

export function defaultPolicy(): Policy {
  return {
    mode: 'enforce',
    podSecurity: 'baseline',
    readOnly: false,
    protectedNamespaces: [...DEFAULT_PROTECTED_NAMESPACES],
    namespaces: { allow: [], deny: [] },
    clusterScoped: { allow: [], deny: [...DEFAULT_CLUSTER_SCOPED_DENY] },
    maxDeleteCount: DEFAULT_MAX_DELETE_COUNT,
    rules: {},
    exemptions: [],
    clusters: {},
    approvals: { rolloutNamespaces: ['prod*'], rolloutClusters: [], ttlSeconds: 3600 },
    drift: defaultDriftPolicy(),
    cloud: defaultCloudPolicy(),
    cost: defaultCostPolicy(),
  };
}

const Mode = z.enum(['enforce', 'audit']);
const Level = z.enum(['baseline', 'restricted']);
/** A namespace name, or a glob over names (`team-*`). Lowercase, as Kubernetes names are. */
const NameGlob = z
  .string()
  .regex(/^[a-z0-9*?][a-z0-9*?.-]{0,252}$/, 'must be a lowercase name or glob (letters, digits, "-", "." , "*", "?")');
const Globs = z.array(NameGlob);
/** A Kubernetes kind as written in manifests (`ClusterRoleBinding`); matched case-insensitively. */
const Kinds = z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,62}$/, 'must be a kind, e.g. ClusterRoleBinding'));
const Count = z.number().int().min(0);

const unknownRuleMessage = (id: string) => {
  const guess = closestRuleId(id);
  return `unknown rule id ${JSON.stringify(id)}${guess ? `; did you mean ${guess}?` : `; known ids: ${RULE_IDS.join(', ')}`}`;
};

const RuleIdSchema = z.enum(RULE_IDS as [RuleId, ...RuleId[]], {
  error: (issue) => unknownRuleMessage(String(issue.input)),
});

const RuleSettingSchema = z.object({ mode: Mode.optional(), enabled: z.boolean().optional() }).strict();

const RulesSchema = z
  .record(z.string(), RuleSettingSchema)
  .superRefine((rules, ctx) => {
    for (const id of Object.keys(rules)) {
      if (!isRuleId(id)) ctx.addIssue({ code: 'custom', path: [id], message: unknownRuleMessage(id) });
    }
  })
  .transform((rules) => rules as Partial<Record<RuleId, RuleSetting>>);

const ExemptionSchema = z
  .object({
    rules: z
      .array(RuleIdSchema)
      .min(1, 'name at least one rule')
      .superRefine((ids, ctx) => {
        ids.forEach((id, i) => {
          if (ruleLevel(id) === 'scope') {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `${id} cannot be exempted per namespace; change readOnly, protectedNamespaces, namespaces, clusterScoped or maxDeleteCount instead`,
            });
          }
        });
      }),
    namespaces: Globs.min(1, 'name at least one namespace or glob'),
    clusters: Globs.min(1).optional(),
    reason: z
      .string({ error: 'required: say why these workloads are exempt' })
      .trim()
      .min(1, 'required: say why these workloads are exempt'),
  })
  .strict();

const ClusterSchema = z
  .object({
    readOnly: z.boolean().optional(),
    protectedNamespaces: Globs.optional(),
    namespaces: z.object({ allow: Globs.optional(), deny: Globs.optional() }).strict().optional(),
    podSecurity: Level.optional(),
    maxDeleteCount: Count.optional(),
    mode: Mode.optional(),
  })
  .strict();

/**
 * The policy file schema. Every object is strict: an unknown key is an error, so a typo cannot
 * silently leave a guardrail off.
 */
export const PolicySchema = z
  .object({
    mode: Mode.default('enforce'),
    podSecurity: Level.default('baseline'),
    readOnly: z.boolean().default(false),
    protectedNamespaces: Globs.default(() => [...DEFAULT_PROTECTED_NAMESPACES]),
    namespaces: z
      .object({ allow: Globs.default(() => []), deny: Globs.default(() => []) })
      .strict()
      .default(() => ({ allow: [], deny: [] })),
    clusterScoped: z
      .object({ allow: Kinds.default(() => []), deny: Kinds.default(() => [...DEFAULT_CLUSTER_SCOPED_DENY]) })
      .strict()
      .default(() => ({ allow: [], deny: [...DEFAULT_CLUSTER_SCOPED_DENY] })),
    maxDeleteCount: Count.default(DEFAULT_MAX_DELETE_COUNT),
    rules: RulesSchema.default(() => ({})),
    exemptions: z.array(ExemptionSchema).default(() => []),
    clusters: z.record(z.string().min(1), ClusterSchema).default(() => ({})),
    approvals: z
      .object({
        rolloutNamespaces: Globs.default(() => ['prod*']),
        rolloutClusters: z.array(z.string().min(1)).default(() => []),
        ttlSeconds: z
          .number()
          .int()
          .min(60)
          .max(ROLLOUT_LIMITS.maxApprovalTtlSeconds, {
            message: `must be at most ${ROLLOUT_LIMITS.maxApprovalTtlSeconds} (12 h): a rollout waiting for approval must end well before its workflow's ${ROLLOUT_LIMITS.executionTimeoutSeconds / 3600} h execution timeout`,
          })
          .default(3600),
      })
      .strict()
      .default(() => ({ rolloutNamespaces: ['prod*'], rolloutClusters: [], ttlSeconds: 3600 })),
    drift: DriftPolicySchema.default(() => defaultDriftPolicy()),
    cloud: CloudPolicySchema.default(() => defaultCloudPolicy()),
    cost: CostPolicySchema.default(() => defaultCostPolicy()),
  })
  .strict();

/**
 * Parses a guardrail policy from YAML and fills in defaults. An empty document is the default
 * policy. Throws PolicyError naming each bad field path (or the YAML syntax error).
 *
 * Example:
 * ```yaml
 * mode: enforce
 * podSecurity: restricted
 * readOnly: false
 * protectedNamespaces: [kube-system, kube-public, kube-node-lease, istio-system]
 * namespaces: { allow: ['team-*', default], deny: ['team-secret'] }
 * clusterScoped: { allow: [CustomResourceDefinition] }
 * maxDeleteCount: 10
 * rules:
 *   images/pinned: { mode: audit }
 *   resources/requests-limits: { enabled: false }
 * exemptions:
 *   - rules: [pss-baseline/host-path]
 *     namespaces: [monitoring]
 *     reason: node-exporter reads /proc and /sys
 * clusters:
 *   prod: { readOnly: true }
 * approvals:
 *   rolloutNamespaces: ['prod*', payments]
 *   ttlSeconds: 3600
 * cloud:
 *   accounts: { allow: ['123456789012'] }
 *   protectedTags: { env: [prod], environment: [production] }
 * ```
 */
export function parsePolicy(yamlText: string): Policy {
  const doc = YAML.parseDocument(yamlText);
  if (doc.errors.length > 0) {
    throw new PolicyError(
      doc.errors.map((e) => `(yaml): ${e.message.split('\n')[0]}`),
      { cause: doc.errors[0] },
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => {
          const guess = closestName(k, knownKeys(issue.path));
          return `${formatPath([...issue.path, k])}: unknown key${guess ? `; did you mean ${guess}?` : ''}`;
        });
      }
      return [`${formatPath(issue.path) || '(policy)'}: ${issue.message}`];
    });
    throw new PolicyError(issues, { cause: parsed.error });
  }
  return parsed.data;
}

/** The keys the schema allows at a path of the policy (for did-you-mean); none where it is not an object. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = PolicySchema;
  const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
    let cur = t;
    for (let i = 0; i < 10 && cur; i++) {
      if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
      else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
      else break;
    }
    return cur;
  };
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Merges a cluster's override over the top-level settings. */
export function settingsFor(policy: Policy, cluster: string): EffectiveSettings {
  const o = Object.hasOwn(policy.clusters, cluster) ? policy.clusters[cluster] : undefined;
  return {
    mode: o?.mode ?? policy.mode,
    podSecurity: o?.podSecurity ?? policy.podSecurity,
    readOnly: o?.readOnly ?? policy.readOnly,
    protectedNamespaces: o?.protectedNamespaces ?? policy.protectedNamespaces,
    namespaces: {
      allow: o?.namespaces?.allow ?? policy.namespaces.allow,
      deny: o?.namespaces?.deny ?? policy.namespaces.deny,
    },
    clusterScoped: policy.clusterScoped,
    maxDeleteCount: o?.maxDeleteCount ?? policy.maxDeleteCount,
  };
}
