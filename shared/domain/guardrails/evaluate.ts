import { BEST_PRACTICE_CHECKS } from './best-practice.ts';
import { CLUSTER_ACCESS_CHECKS } from './cluster-access.ts';
import { firstMatch } from './glob.ts';
import { isRec } from './object-access.ts';
import { POD_SECURITY_CHECKS, type PodCheck } from './pod-security.ts';
import { locatePodSpec } from './pod-spec.ts';
import { type EffectiveSettings, type Policy, type RuleMode, settingsFor } from './policy.ts';
import {
  type ClusterAccessRuleId,
  type ObjectRuleId,
  RULE_IDS,
  type RuleId,
  ruleLevel,
  type ScopeRuleId,
} from './rules.ts';
import { SCOPE_CHECKS, targetNamespaces } from './scope.ts';
import type { Finding, RawFinding, Verdict, WriteIntent } from './types.ts';

const OBJECT_CHECKS: Record<ObjectRuleId, PodCheck> = { ...POD_SECURITY_CHECKS, ...BEST_PRACTICE_CHECKS };

const isScopeRule = (id: RuleId): id is ScopeRuleId => ruleLevel(id) === 'scope';
const isClusterAccessRule = (id: RuleId): id is ClusterAccessRuleId => ruleLevel(id) === 'cluster-access';

/**
 * The mode a rule runs in for this write, or undefined when it does not run: switched off with
 * `enabled: false`, or a restricted rule while the cluster's level is baseline (unless the rule is
 * switched on by itself with `enabled: true`).
 */
export function ruleMode(id: RuleId, policy: Policy, settings: EffectiveSettings): RuleMode | undefined {
  const setting = policy.rules[id];
  if (setting?.enabled === false) return undefined;
  if (ruleLevel(id) === 'restricted' && settings.podSecurity !== 'restricted' && setting?.enabled !== true) {
    return undefined;
  }
  return setting?.mode ?? settings.mode;
}

/**
 * Whether an exemption switches the rule off for this write: only for a namespaced object, and only
 * when every namespace the write touches is exempt. Cluster-scoped objects are never exempt, whatever
 * `metadata.namespace` they carry.
 */
function isExempt(id: RuleId, intent: WriteIntent, namespaces: readonly string[], policy: Policy): boolean {
  if (!intent.namespaced || namespaces.length === 0) return false;
  return policy.exemptions.some(
    (e) =>
      e.rules.includes(id) &&
      namespaces.every((ns) => firstMatch(ns, e.namespaces) !== undefined) &&
      (e.clusters === undefined || firstMatch(intent.cluster, e.clusters) !== undefined),
  );
}

/**
 * Judges one write against the policy. Pure: it reads only the intent and the policy.
 *
 * Scope rules run for every verb and judge the scope discovery gave (`intent.namespaced`), never the
 * object's own `metadata.namespace` for a cluster-scoped kind. Cluster-access rules run on any object
 * (RBAC, storage, admission, ...), pod rules (pod security, best practice) on objects that carry a
 * pod template; both on the object as it will be after the write, for every verb but delete. When an
 * enforced scope rule already refuses the write, object rules are skipped: no change to the object
 * could make the write pass, so listing them would only mislead.
 */
export function evaluateWrite(intent: WriteIntent, policy: Policy): Verdict {
  const settings = settingsFor(policy, intent.cluster);
  const namespaces = intent.namespaced ? targetNamespaces(intent).map((t) => t.namespace) : [];
  const findings: Finding[] = [];
  const add = (id: RuleId, mode: RuleMode, raw: RawFinding[]) => {
    for (const f of raw) findings.push({ ruleId: id, mode, path: f.path, message: f.message, fix: f.fix });
  };

  for (const id of RULE_IDS) {
    if (!isScopeRule(id)) continue;
    const mode = ruleMode(id, policy, settings);
    if (mode) add(id, mode, SCOPE_CHECKS[id](intent, settings));
  }
  const refusedByScope = findings.some((f) => f.mode === 'enforce');
  const object = intent.verb !== 'delete' && !refusedByScope && isRec(intent.object) ? intent.object : undefined;
  if (!object) return { allowed: !refusedByScope, findings };

  for (const id of RULE_IDS) {
    if (!isClusterAccessRule(id)) continue;
    const mode = ruleMode(id, policy, settings);
    if (!mode || isExempt(id, intent, namespaces, policy)) continue;
    add(id, mode, CLUSTER_ACCESS_CHECKS[id](intent, object));
  }

  const pod = locatePodSpec(intent.kind, intent.apiVersion, object);
  if (pod) {
    for (const id of RULE_IDS) {
      if (isScopeRule(id) || isClusterAccessRule(id)) continue;
      const mode = ruleMode(id, policy, settings);
      if (!mode || isExempt(id, intent, namespaces, policy)) continue;
      add(id, mode, OBJECT_CHECKS[id](pod));
    }
  }
  return { allowed: !findings.some((f) => f.mode === 'enforce'), findings };
}
