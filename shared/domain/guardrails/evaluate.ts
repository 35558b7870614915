import { BEST_PRACTICE_CHECKS } from './best-practice.ts';
import { firstMatch } from './glob.ts';
import { dig, str } from './object-access.ts';
import { POD_SECURITY_CHECKS, type PodCheck } from './pod-security.ts';
import { locatePodSpec } from './pod-spec.ts';
import { type EffectiveSettings, type Policy, type RuleMode, settingsFor } from './policy.ts';
import { type ObjectRuleId, RULE_IDS, type RuleId, ruleLevel, type ScopeRuleId } from './rules.ts';
import { SCOPE_CHECKS } from './scope.ts';
import type { Finding, RawFinding, Verdict, WriteIntent } from './types.ts';

const OBJECT_CHECKS: Record<ObjectRuleId, PodCheck> = { ...POD_SECURITY_CHECKS, ...BEST_PRACTICE_CHECKS };

const isScopeRule = (id: RuleId): id is ScopeRuleId => ruleLevel(id) === 'scope';

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

function isExempt(id: RuleId, intent: WriteIntent, namespace: string | undefined, policy: Policy): boolean {
  if (namespace === undefined) return false;
  return policy.exemptions.some(
    (e) =>
      e.rules.includes(id) &&
      firstMatch(namespace, e.namespaces) !== undefined &&
      (e.clusters === undefined || firstMatch(intent.cluster, e.clusters) !== undefined),
  );
}

/**
 * Judges one write against the policy. Pure: it reads only the intent and the policy.
 *
 * Scope rules run for every verb. Object rules (pod security, best practice) run on the object as
 * it will be after the write, for every verb but delete, when the kind carries a pod template.
 * When an enforced scope rule already refuses the write, object rules are skipped: no change to
 * the object could make the write pass, so listing them would only mislead.
 */
export function evaluateWrite(intent: WriteIntent, policy: Policy): Verdict {
  const settings = settingsFor(policy, intent.cluster);
  const namespace = intent.namespace ?? str(dig(intent.object, ['metadata', 'namespace']));
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

  const pod =
    intent.verb !== 'delete' && intent.object && !refusedByScope
      ? locatePodSpec(intent.kind, intent.apiVersion, intent.object)
      : undefined;
  if (pod) {
    for (const id of RULE_IDS) {
      if (isScopeRule(id)) continue;
      const mode = ruleMode(id, policy, settings);
      if (!mode || isExempt(id, intent, namespace, policy)) continue;
      add(id, mode, OBJECT_CHECKS[id](pod));
    }
  }
  return { allowed: !findings.some((f) => f.mode === 'enforce'), findings };
}
