/**
 * The `cloud:` section of the policy file and the pure judgement of a cloud instance write (EC2 and
 * Compute Engine start/stop): read-only, which AWS accounts and GCP projects may be written, tags
 * (GCP labels) that refuse a write or make it wait for a human approval, and how many instances one
 * call may touch. Tag keys match exactly; values by glob (glob.ts), case-sensitive as AWS tags are
 * (GCP labels are lowercase, so the same defaults serve both).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../k8s/object-guards.ts';
import { firstMatch } from './glob.ts';

export interface CloudScopeFilter {
  /** Globs; empty means every one is allowed. */
  allow: string[];
  /** Globs; a match refuses the write even when allow also matches. */
  deny: string[];
}

export interface CloudPolicy {
  /** Refuse every cloud write. */
  readOnly: boolean;
  /** AWS account ids (globs over 12 digits). */
  accounts: CloudScopeFilter;
  /** GCP project ids (globs). */
  projects: CloudScopeFilter;
  /** Tag (label) key -> value globs: a write to a matching instance is refused. */
  deniedTags: Record<string, string[]>;
  /** Tag (label) key -> value globs: a write to a matching instance waits for an approval. */
  protectedTags: Record<string, string[]>;
  maxInstancesPerCall: number;
  /** How long a request for approval of a cloud write stays open (and an approval stays usable). */
  approvalTtlSeconds: number;
}

export const DEFAULT_PROTECTED_TAGS: Readonly<Record<string, readonly string[]>> = {
  env: ['prod'],
  environment: ['production'],
};
export const DEFAULT_MAX_INSTANCES_PER_CALL = 20;
/** The tools take at most this many instances: a policy cannot raise it. */
export const MAX_INSTANCES_PER_CALL_LIMIT = 50;
export const MAX_CLOUD_APPROVAL_TTL_SECONDS = 86_400;

const protectedDefault = () =>
  Object.fromEntries(Object.entries(DEFAULT_PROTECTED_TAGS).map(([k, v]) => [k, [...v]])) as Record<string, string[]>;

export function defaultCloudPolicy(): CloudPolicy {
  return {
    readOnly: false,
    accounts: { allow: [], deny: [] },
    projects: { allow: [], deny: [] },
    deniedTags: {},
    protectedTags: protectedDefault(),
    maxInstancesPerCall: DEFAULT_MAX_INSTANCES_PER_CALL,
    approvalTtlSeconds: 3600,
  };
}

const AccountGlob = z.string().regex(/^[0-9*?]{1,12}$/, 'must be a 12-digit AWS account id or a glob over one');
const ProjectGlob = z
  .string()
  .regex(/^[a-z0-9*?][a-z0-9*?.:-]{0,99}$/, 'must be a GCP project id or a glob over one (lowercase)');
const filter = (glob: z.ZodString) =>
  z
    .object({
      allow: z
        .array(glob)
        .max(200)
        .default(() => []),
      deny: z
        .array(glob)
        .max(200)
        .default(() => []),
    })
    .strict()
    .default(() => ({ allow: [], deny: [] }));
/** AWS allows 128 characters in a tag key and 256 in a value; GCP 63 in each. */
const TagKey = z.string().min(1).max(128);
const TagRules = z.record(TagKey, z.array(z.string().max(256)).min(1, 'name at least one value glob').max(50));

/** The `cloud:` schema. Strict: an unknown key is an error with a did-you-mean (parsePolicy). */
export const CloudPolicySchema = z
  .object({
    readOnly: z.boolean().default(false),
    accounts: filter(AccountGlob),
    projects: filter(ProjectGlob),
    deniedTags: TagRules.default(() => ({})),
    protectedTags: TagRules.default(protectedDefault),
    maxInstancesPerCall: z
      .number()
      .int()
      .min(1)
      .max(MAX_INSTANCES_PER_CALL_LIMIT, {
        message: `must be at most ${MAX_INSTANCES_PER_CALL_LIMIT} (what the tools take in one call)`,
      })
      .default(DEFAULT_MAX_INSTANCES_PER_CALL),
    approvalTtlSeconds: z.number().int().min(60).max(MAX_CLOUD_APPROVAL_TTL_SECONDS).default(3600),
  })
  .strict();

export type CloudProvider = 'aws' | 'gcp';
export type PowerAction = 'start' | 'stop';

/** One start or stop as the policy judges it; `instances` (with their tags) once they have been read. */
export interface CloudWriteIntent {
  provider: CloudProvider;
  action: PowerAction;
  /** AWS account id or GCP project id. */
  owner: string;
  /** AWS region or GCP zone. */
  location: string;
  ids: readonly string[];
  instances?: ReadonlyArray<{ id: string; tags: Readonly<Record<string, string>> }>;
}

export type CloudRuleId =
  | 'cloud/read-only'
  | 'cloud/account-not-allowed'
  | 'cloud/project-not-allowed'
  | 'cloud/max-instances'
  | 'cloud/denied-tag';

export interface CloudFinding {
  ruleId: CloudRuleId;
  /** The instance the finding is about; absent when it is about the call as a whole. */
  instance?: string;
  message: string;
  fix: string;
}

export interface ProtectedMatch {
  instance: string;
  tag: string;
  value: string;
}

export interface CloudVerdict {
  allowed: boolean;
  findings: CloudFinding[];
  /** Instances a protectedTags rule matches: the write needs an approval. */
  protectedBy: ProtectedMatch[];
}

/** The first tag of `tags` whose key is in `rules` and whose value matches one of its globs. */
function matchTag(
  tags: Readonly<Record<string, string>>,
  rules: Readonly<Record<string, readonly string[]>>,
): { tag: string; value: string; glob: string } | undefined {
  for (const [tag, globs] of Object.entries(rules)) {
    if (!Object.hasOwn(tags, tag)) continue;
    const value = tags[tag] as string;
    const glob = firstMatch(value, globs);
    if (glob !== undefined) return { tag, value, glob };
  }
  return undefined;
}

/**
 * Judges a cloud instance write against the `cloud:` policy. Refusing findings: read-only, an account
 * or project outside allow (or inside deny), more instances than maxInstancesPerCall, an instance
 * carrying a denied tag. Protected instances are not refused: they are listed in `protectedBy`.
 */
export function evaluateCloudWrite(intent: CloudWriteIntent, policy: CloudPolicy): CloudVerdict {
  const findings: CloudFinding[] = [];
  if (policy.readOnly) {
    findings.push({
      ruleId: 'cloud/read-only',
      message: 'the policy makes every cloud write read-only',
      fix: 'ask an admin to set cloud.readOnly: false in the policy file, or make the change outside this server',
    });
  }
  const aws = intent.provider === 'aws';
  const f = aws ? policy.accounts : policy.projects;
  const what = aws ? 'account' : 'project';
  const denied = firstMatch(intent.owner, f.deny);
  if (denied !== undefined || (f.allow.length > 0 && firstMatch(intent.owner, f.allow) === undefined)) {
    findings.push({
      ruleId: aws ? 'cloud/account-not-allowed' : 'cloud/project-not-allowed',
      message:
        denied !== undefined
          ? `${what} ${intent.owner} matches cloud.${what}s.deny (${denied})`
          : `${what} ${intent.owner} is not in cloud.${what}s.allow (${f.allow.join(', ')})`,
      fix: `write only to allowed ${what}s, or ask an admin to change cloud.${what}s in the policy file`,
    });
  }
  if (intent.ids.length > policy.maxInstancesPerCall) {
    findings.push({
      ruleId: 'cloud/max-instances',
      message: `${intent.ids.length} instances in one call; the policy allows at most ${policy.maxInstancesPerCall}`,
      fix: `split the call into batches of at most ${policy.maxInstancesPerCall} (cloud.maxInstancesPerCall)`,
    });
  }
  const protectedBy: ProtectedMatch[] = [];
  for (const i of intent.instances ?? []) {
    const d = matchTag(i.tags, policy.deniedTags);
    if (d) {
      findings.push({
        ruleId: 'cloud/denied-tag',
        instance: i.id,
        message: `${i.id} is tagged ${d.tag}=${d.value}, which cloud.deniedTags refuses (${d.tag}: ${d.glob})`,
        fix: `leave ${i.id} out of the call; instances tagged so are changed outside this server`,
      });
    }
    const p = matchTag(i.tags, policy.protectedTags);
    if (p) protectedBy.push({ instance: i.id, tag: p.tag, value: p.value });
  }
  return { allowed: findings.length === 0, findings, protectedBy };
}

/** Compact text of a refusal: the outcome, then one line per finding. */
export function formatCloudVerdict(v: CloudVerdict): string {
  if (v.allowed) return 'allowed by the cloud policy';
  const lines = v.findings.map(
    (f) => `${f.ruleId}${f.instance ? ` (${f.instance})` : ''}: ${f.message}. Fix: ${f.fix}`,
  );
  return [`refused by the cloud policy (${v.findings.length}); nothing was changed`, ...lines].join('\n');
}

/**
 * The hash an approval of a cloud write is bound to: provider, scope, action and the sorted ids, so
 * an approval of one change cannot be used for another.
 */
export function cloudChangeHash(c: {
  provider: CloudProvider;
  scope: string;
  action: PowerAction;
  ids: readonly string[];
}): string {
  const canonical = canonicalJson({ provider: c.provider, scope: c.scope, action: c.action, ids: [...c.ids].sort() });
  return createHash('sha256').update(canonical).digest('hex');
}

/** What a start or stop does to an instance in a state: change it, nothing (already there or on its way), or refuse. */
export type PowerStep = { kind: 'act' } | { kind: 'skip' } | { kind: 'refuse'; why: string };

/*
 * By the providers' documented lifecycles. EC2: StartInstances on a stopping, shutting-down or
 * terminated instance fails with IncorrectInstanceState, as does StopInstances on a shutting-down or
 * terminated one. Compute: a TERMINATED (or STOPPED) instance is stopped, a SUSPENDED one is resumed
 * with instances.resume, not started; transitional states are waited out.
 */
const STATES: Record<CloudProvider, Record<PowerAction, { act: string[]; skip: string[] }>> = {
  aws: {
    start: { act: ['stopped'], skip: ['running', 'pending'] },
    stop: { act: ['running', 'pending'], skip: ['stopped', 'stopping'] },
  },
  gcp: {
    start: { act: ['TERMINATED', 'STOPPED'], skip: ['RUNNING', 'PROVISIONING', 'STAGING'] },
    stop: { act: ['RUNNING', 'PROVISIONING', 'STAGING'], skip: ['TERMINATED', 'STOPPED', 'STOPPING'] },
  },
};

/** The state an instance ends in after the action (for "already ..." wording). */
export const TARGET_STATE: Record<CloudProvider, Record<PowerAction, string>> = {
  aws: { start: 'running', stop: 'stopped' },
  gcp: { start: 'RUNNING', stop: 'TERMINATED' },
};

export function powerStep(provider: CloudProvider, action: PowerAction, state: string): PowerStep {
  const s = STATES[provider][action];
  if (s.act.includes(state)) return { kind: 'act' };
  if (s.skip.includes(state)) return { kind: 'skip' };
  if (state === 'terminated' || state === 'shutting-down')
    return { kind: 'refuse', why: `it is ${state}; a terminated instance cannot be started or stopped` };
  if (state === 'SUSPENDED' && action === 'start')
    return { kind: 'refuse', why: 'it is SUSPENDED; resume it (instances.resume) instead of starting it' };
  return { kind: 'refuse', why: `it is ${state}; wait until it settles (read it again), then retry` };
}

/** The `cloud:` section's documentation (docs/guardrails.md, generated with the rule table). */
export function cloudPolicyDoc(): string[] {
  const d = defaultCloudPolicy();
  return [
    '## Cloud writes (`cloud:`)',
    '',
    '`aws_ec2_instances_start`, `aws_ec2_instances_stop`, `gcp_compute_instances_start` and',
    '`gcp_compute_instances_stop` resolve the account and region (project and zone) against the configured',
    'ones, read every instance named, and judge the call against the `cloud:` section before anything changes:',
    '',
    '| key | default | what it does |',
    '|---|---|---|',
    '| `readOnly` | `false` | Refuse every cloud write (`cloud/read-only`). |',
    '| `accounts` | `{ allow: [], deny: [] }` | AWS account id globs; an empty allow allows all, deny wins (`cloud/account-not-allowed`). |',
    '| `projects` | `{ allow: [], deny: [] }` | GCP project id globs, as `accounts` (`cloud/project-not-allowed`). |',
    '| `deniedTags` | `{}` | Tag (label) key -> value globs: a write to a matching instance is refused (`cloud/denied-tag`). |',
    `| \`protectedTags\` | \`${Object.entries(d.protectedTags)
      .map(([k, v]) => `${k}: [${v.join(', ')}]`)
      .join(', ')}\` | Tag (label) key -> value globs: a write to a matching instance needs an approval. |`,
    `| \`maxInstancesPerCall\` | \`${d.maxInstancesPerCall}\` | At most this many instances per call, 1..${MAX_INSTANCES_PER_CALL_LIMIT} (\`cloud/max-instances\`). |`,
    `| \`approvalTtlSeconds\` | \`${d.approvalTtlSeconds}\` | How long a request for approval stays open, 60..${MAX_CLOUD_APPROVAL_TTL_SECONDS}. |`,
    '',
    'Tag keys match exactly and values by glob (`*`, `?`), case-sensitively: AWS tags keep their case, so an',
    'instance tagged `Env=Prod` is protected only when the policy says `Env: [Prod]`; GCP labels are lowercase,',
    'so the defaults serve both. Setting `protectedTags` replaces the default (`{}` protects nothing). An',
    'unknown key is refused with a did-you-mean.',
    '',
    '```yaml',
    'cloud:',
    "  accounts: { allow: ['1234567890*'], deny: ['999999999999'] }",
    "  projects: { deny: ['billing-*'] }",
    '  deniedTags: { role: [bastion, nat] }',
    "  protectedTags: { env: [prod, 'prod-*'], environment: [production] }",
    '  maxInstancesPerCall: 10',
    '  approvalTtlSeconds: 1800',
    '```',
    '',
    'Instances already in the target state (or on their way to it) are reported, not changed; a terminated',
    'or otherwise unsuitable one refuses the call before anything changes. `dryRun: true` changes nothing and',
    'shows the current states, what would change, the verdict and whether an approval would be needed; on AWS',
    "it also sends the request with EC2's own DryRun, which checks the server's permission. Compute has no",
    'dry run, so a GCP preview says so.',
    '',
    'A write to a protected instance asks for an approval instead of acting: the call answers with an',
    '`approvalId` (`cloud-<uuid>`) and the change hash (SHA-256 of provider, scope, action and the sorted',
    'ids), and changes nothing. Another person with the approver role decides it with `ops_approvals_decide`',
    '(`operationId` = the approvalId; the requester cannot approve their own). The requester then repeats the',
    'same call with `approvalId`: the approval must be approved, unexpired, theirs, and for exactly this',
    'change (other ids, action or scope give another hash and are refused). It is used up before the write',
    '(a compare-and-set, so two calls with one approval make at most one change) and cannot be used again.',
    '',
  ];
}
