/**
 * Write guardrails: pure rules that judge a Kubernetes write before it is dry-run and applied.
 * Scope rules (read-only clusters, protected and allowed namespaces, cluster-scoped kinds, delete
 * size; scope as API discovery reports it), cluster-access rules (RBAC, admission, storage, runtime,
 * API delegation, priority, certificates, nodes), the Pod Security
 * Standards (baseline, and restricted when the policy asks) and two best-practice rules, each with a
 * stable id, a mode (enforce or audit) and namespace exemptions set in a YAML policy.
 */
export { pinnedImages, requestsLimits, unpinnedReason } from './best-practice.ts';
export { HIGH_PRIORITY_VALUE } from './cluster-access.ts';
export { evaluateWrite, ruleMode } from './evaluate.ts';
export { formatVerdict } from './format.ts';
export { firstMatch, globToRegExp } from './glob.ts';
export {
  ALLOWED_SELINUX_TYPES,
  BASELINE_CAPABILITIES,
  RESTRICTED_VOLUME_TYPES,
  SAFE_SYSCTLS,
} from './pod-security.ts';
export { type ContainerRef, locatePodSpec, type PodContext } from './pod-spec.ts';
export {
  type ClusterOverride,
  type ClusterScopedFilter,
  DEFAULT_CLUSTER_SCOPED_DENY,
  DEFAULT_MAX_DELETE_COUNT,
  DEFAULT_PROTECTED_NAMESPACES,
  defaultPolicy,
  type EffectiveSettings,
  type Exemption,
  type NamespaceFilter,
  type PodSecurityLevel,
  type Policy,
  PolicyError,
  PolicySchema,
  parsePolicy,
  type RuleMode,
  type RuleSetting,
  settingsFor,
} from './policy.ts';
export {
  type ClusterAccessRuleId,
  describeRules,
  isRuleId,
  type ObjectRuleId,
  RULE_IDS,
  type RuleDescription,
  type RuleId,
  type RuleLevel,
  type ScopeRuleId,
} from './rules.ts';
export type { Finding, Verdict, WriteIntent, WriteVerb } from './types.ts';
