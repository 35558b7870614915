/**
 * The `drift:` section of the policy file: which differences are not drift. Two kinds of rule:
 * - controller-owned fields (on by default): a field that a controller meant to change it owns now
 *   (an HPA or KEDA on spec.replicas, a VPA on container resources, cert-manager's cainjector on a
 *   caBundle) is expected to differ from the manifest;
 * - ignoreDifferences, as Argo CD writes them: per object (group, kind, name, namespace, clusters),
 *   JSON pointers, jq path expressions and field managers whose differences are ignored.
 */
import * as z from 'zod';
import { globToRegExp } from '../guardrails/glob.ts';
import { type JqStep, jqMatches, type PathSeg, parseJqPath, parseJsonPointer, pointerMatches } from './paths.ts';

export interface DriftIgnoreRule {
  /** API group (`apps`; empty for the core group); any when absent. */
  group?: string;
  /** Kind, case-insensitive; any when absent. */
  kind?: string;
  /** Name glob; any when absent. */
  name?: string;
  /** Namespace glob; any when absent. */
  namespace?: string;
  /** Cluster globs; any when absent. */
  clusters?: string[];
  jsonPointers?: string[];
  jqPathExpressions?: string[];
  /** Differences in fields these managers own now are ignored (globs). */
  managedFieldsManagers?: string[];
  reason?: string;
}

export interface DriftPolicy {
  /** The built-in controller-owned fields (CONTROLLER_FIELDS) are not drift; default true. */
  controllerFields: boolean;
  ignoreDifferences: DriftIgnoreRule[];
  /** EKS and GKE cluster baselines (shared/domain/drift/cloud.ts); absent: the defaults. */
  cloud?: DriftCloudPolicy;
}

export interface DriftCloudPolicy {
  /** An EKS node group's desiredSize is a cluster autoscaler's to move (within min/max): not drift. Default false. */
  ignoreDesiredSize: boolean;
}

export function defaultDriftPolicy(): DriftPolicy {
  return { controllerFields: true, ignoreDifferences: [] };
}

/** A field a controller is meant to change: not drift while one of `managers` owns it. */
export interface ControllerField {
  id: string;
  /** Manager globs. */
  managers: string[];
  /** Only writes through this subresource (`scale`) count. */
  subresource?: string;
  /** jq paths of the fields. */
  paths: string[];
  why: string;
}

const RESOURCES = [
  '.spec.containers[].resources',
  '.spec.initContainers[].resources',
  '.spec.template.spec.containers[].resources',
  '.spec.template.spec.initContainers[].resources',
];

/**
 * The controllers whose changes an operator expects. The HPA controller runs in
 * kube-controller-manager and writes replicas through the scale subresource (its field manager is
 * `kube-controller-manager` with subresource `scale`); a `kubectl scale` by a person is drift.
 */
export const CONTROLLER_FIELDS: readonly ControllerField[] = [
  {
    id: 'hpa',
    managers: ['kube-controller-manager'],
    subresource: 'scale',
    paths: ['.spec.replicas'],
    why: 'a HorizontalPodAutoscaler scales it',
  },
  {
    id: 'autoscaler',
    managers: ['horizontal-pod-autoscaler', 'keda-operator', 'keda', 'cluster-proportional-autoscaler'],
    paths: ['.spec.replicas'],
    why: 'an autoscaler scales it',
  },
  {
    id: 'vpa',
    managers: ['vpa-*', 'vertical-pod-autoscaler*'],
    paths: RESOURCES,
    why: 'a VerticalPodAutoscaler sets container resources',
  },
  {
    id: 'ca-injector',
    managers: ['cert-manager-cainjector', 'cainjector', 'cert-manager'],
    paths: ['.webhooks[].clientConfig.caBundle', '.spec.conversion.webhook.clientConfig.caBundle', '.spec.caBundle'],
    why: "cert-manager's cainjector injects the CA bundle",
  },
];

const GlobText = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9*?._:/@-]+$/, 'must be a name or glob (letters, digits, ".", "-", "_", ":", "/", "*", "?")');

const pathList = (parse: (s: string) => unknown, example: string) =>
  z
    .array(
      z
        .string()
        .max(512)
        .superRefine((s, ctx) => {
          try {
            parse(s);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (e.g. ${example})` });
          }
        }),
    )
    .max(50, 'at most 50 per rule');

export const DriftIgnoreRuleSchema = z
  .object({
    group: z
      .string()
      .max(253)
      .regex(/^[a-z0-9.-]*$/, 'must be an API group such as apps ("" for the core group)')
      .optional(),
    kind: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,62}$/, 'must be a kind, e.g. Deployment')
      .optional(),
    name: GlobText.optional(),
    namespace: GlobText.optional(),
    clusters: z.array(GlobText).min(1).max(50).optional(),
    jsonPointers: pathList(parseJsonPointer, '/spec/replicas').optional(),
    jqPathExpressions: pathList(
      parseJqPath,
      '.spec.template.spec.containers[] | select(.name == "web") | .image',
    ).optional(),
    managedFieldsManagers: z.array(GlobText).max(50).optional(),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine(
    (r) =>
      (r.jsonPointers?.length ?? 0) + (r.jqPathExpressions?.length ?? 0) + (r.managedFieldsManagers?.length ?? 0) > 0,
    {
      message: 'name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers',
    },
  );

export const DriftPolicySchema = z
  .object({
    controllerFields: z.boolean().default(true),
    ignoreDifferences: z
      .array(DriftIgnoreRuleSchema)
      .max(200, 'at most 200 rules')
      .default(() => []),
    cloud: z
      .object({ ignoreDesiredSize: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict();

/** The object a rule is matched against. */
export interface DriftTarget {
  cluster: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** One difference, as the rules see it. */
export interface DriftCandidate {
  path: readonly PathSeg[];
  manager?: { manager: string; subresource?: string };
  /** The value at the first n segments of the path (live, else baseline), for select(). */
  valueAt(n: number): unknown;
}

interface CompiledRule {
  why: string;
  group?: string;
  kind?: string;
  name?: RegExp;
  namespace?: RegExp;
  clusters?: RegExp[];
  pointers: string[][];
  jq: JqStep[][];
  managers: RegExp[];
  /** Controller fields: the manager AND a path must match; ignore rules: either. */
  both: boolean;
  subresource?: string;
}

export type DriftRules = (target: DriftTarget) => ((c: DriftCandidate) => string | undefined) | undefined;

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '');

/**
 * The policy compiled once per check: for an object, a function that says why a difference is not
 * drift (the rule's reason), or undefined when it is drift. Undefined when no rule applies to the object.
 */
export function compileDriftRules(policy: DriftPolicy): DriftRules {
  const rules: CompiledRule[] = [];
  if (policy.controllerFields) {
    for (const c of CONTROLLER_FIELDS) {
      rules.push({
        why: `controller-owned (${c.why})`,
        pointers: [],
        jq: c.paths.map(parseJqPath),
        managers: c.managers.map(globToRegExp),
        both: true,
        ...(c.subresource ? { subresource: c.subresource } : {}),
      });
    }
  }
  for (const r of policy.ignoreDifferences) {
    rules.push({
      why: r.reason ? `ignored: ${r.reason}` : 'ignored by policy',
      ...(r.group !== undefined ? { group: r.group } : {}),
      ...(r.kind ? { kind: r.kind.toLowerCase() } : {}),
      ...(r.name ? { name: globToRegExp(r.name) } : {}),
      ...(r.namespace ? { namespace: globToRegExp(r.namespace) } : {}),
      ...(r.clusters ? { clusters: r.clusters.map(globToRegExp) } : {}),
      pointers: (r.jsonPointers ?? []).map(parseJsonPointer),
      jq: (r.jqPathExpressions ?? []).map(parseJqPath),
      managers: (r.managedFieldsManagers ?? []).map(globToRegExp),
      both: false,
    });
  }
  return (t) => {
    const group = groupOf(t.apiVersion);
    const kind = t.kind.toLowerCase();
    const mine = rules.filter(
      (r) =>
        (r.group === undefined || r.group === group) &&
        (r.kind === undefined || r.kind === kind) &&
        (!r.name || r.name.test(t.name)) &&
        (!r.namespace || r.namespace.test(t.namespace)) &&
        (!r.clusters || r.clusters.some((c) => c.test(t.cluster))),
    );
    if (mine.length === 0) return undefined;
    return (c) => {
      for (const r of mine) {
        const managerHit =
          c.manager !== undefined &&
          (r.subresource === undefined || c.manager.subresource === r.subresource) &&
          r.managers.some((m) => m.test((c.manager as { manager: string }).manager));
        const pathHit =
          r.pointers.some((p) => pointerMatches(p, c.path)) || r.jq.some((j) => jqMatches(j, c.path, c.valueAt));
        if (r.both ? managerHit && pathHit : managerHit || pathHit) return r.why;
      }
      return undefined;
    };
  };
}

/** The `drift:` section's documentation (docs/guardrails.md, generated with the rule table). */
export function driftPolicyDoc(): string[] {
  return [
    '## Drift (`drift:`)',
    '',
    'The drift check compares each baseline (what an apply through this server, or `drift_baselines_adopt`,',
    'recorded) with the live object. Only fields the baseline sets count, so server defaults and fields other',
    'tools add are never drift; quantities compare by value (`100m` = `0.1`, `1Gi` = `1024Mi`), a number equals',
    'its decimal text, Secret values compare as SHA-256 digests, and lists with a merge key (containers, env,',
    'ports, volumes) are matched by it, so a finding reads `spec.template.spec.containers[web].image`. Each',
    "change names the field manager that owns the field now (the object's managedFields).",
    '',
    'Fields a controller is meant to change are not drift while that controller owns them',
    '(`controllerFields: true`, the default):',
    '',
    '| id | managers | fields | why |',
    '|---|---|---|---|',
    ...CONTROLLER_FIELDS.map(
      (c) =>
        `| ${c.id} | ${c.managers.map((m) => `\`${m}\``).join(', ')}${c.subresource ? ` (through /${c.subresource})` : ''} | ${c.paths.map((p) => `\`${p}\``).join(', ')} | ${c.why} |`,
    ),
    '',
    'More differences are ignored with `ignoreDifferences`, as in Argo CD: per object (`group`, `kind`, `name`',
    'and `namespace` globs, `clusters`), `jsonPointers` (RFC 6901), `jqPathExpressions` (a subset: `.key`,',
    '`["key"]`, `[n]`, `[]`, `| select(.path == "value")`; at most 512 characters and 32 steps) and',
    '`managedFieldsManagers` (globs: differences in fields these managers own now). At most 200 rules; an',
    'unknown key is refused with a did-you-mean.',
    '',
    '```yaml',
    'drift:',
    '  controllerFields: true',
    '  ignoreDifferences:',
    '    - group: apps',
    '      kind: Deployment',
    "      namespace: 'team-*'",
    '      jsonPointers: [/spec/template/metadata/annotations]',
    '      jqPathExpressions: [\'.spec.template.spec.containers[] | select(.name == "istio-proxy")\']',
    '      managedFieldsManagers: [argo-rollouts]',
    '      reason: Argo Rollouts manages these',
    '```',
    '',
    'EKS and GKE clusters adopted with `drift_baselines_adopt cloudCluster` are checked too: the control-plane',
    'version, node groups (desired, min and max size, version, instance types) and add-on versions on EKS; the',
    'control-plane and node versions (by minor version: GKE applies patches itself) and per node pool the',
    'version, machine type, autoscaling bounds, nodes per zone at creation and zones on GKE. The EKS platform',
    "version and an autoscaled pool's current size are never drift. With a cluster autoscaler on EKS node",
    'groups, `cloud: { ignoreDesiredSize: true }` leaves desiredSize out (min and max still count).',
    '',
    'Adopted baselines keep what people and their tools set: the fields owned by managers other than the',
    "cluster's controllers (kube-controller-manager, kube-scheduler, kubelet and the managers above) and status",
    'writers, without status, server-set metadata and well-known defaults. Objects a controller owns (a',
    "Deployment's ReplicaSets and Pods) are not adopted.",
    '',
  ];
}
