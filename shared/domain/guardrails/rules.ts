import { editDistance } from '../did-you-mean.ts';

/**
 * The catalogue of guardrail rules: stable ids, the level each belongs to and a one-line summary.
 * Ids never change meaning; a policy file names them to set a mode, disable or exempt them.
 */

export type RuleLevel = 'scope' | 'cluster-access' | 'baseline' | 'restricted' | 'best-practice';

export interface RuleDescription {
  id: RuleId;
  level: RuleLevel;
  summary: string;
}

const CATALOGUE = [
  {
    id: 'scope/read-only',
    level: 'scope',
    summary: 'The policy (or the cluster override) makes the cluster read-only.',
  },
  {
    id: 'scope/protected-namespace',
    level: 'scope',
    summary:
      'Protected namespaces (default kube-system, kube-public, kube-node-lease) and their Namespace objects are read-only.',
  },
  {
    id: 'scope/namespace-not-allowed',
    level: 'scope',
    summary: 'The namespace must match namespaces.allow (when set) and must not match namespaces.deny; deny wins.',
  },
  {
    id: 'scope/cluster-scoped',
    level: 'scope',
    summary:
      'Cluster-scoped kinds (not Namespaces) in clusterScoped.deny are refused (default: RBAC cluster roles and bindings, admission webhooks and policies); while namespaces.allow confines writes, so is every kind not in clusterScoped.allow. Scope comes from API discovery: a metadata.namespace on a cluster-scoped object is ignored when judging and stripped before the write.',
  },
  {
    id: 'scope/delete-count',
    level: 'scope',
    summary: 'One delete may remove at most maxDeleteCount objects (default 20).',
  },
  {
    id: 'cluster-access/node-volume',
    level: 'cluster-access',
    summary:
      'PersistentVolumes must not use spec.hostPath, spec.local or spec.flexVolume (node filesystem or node driver).',
  },
  {
    id: 'cluster-access/storage-class',
    level: 'cluster-access',
    summary:
      'StorageClasses must not use a node-local provisioner (hostpath, local-path, ...) nor set the is-default-class annotation.',
  },
  {
    id: 'cluster-access/runtime-class',
    level: 'cluster-access',
    summary:
      'RuntimeClasses must use a sandboxing handler (runsc, kata*) and must not tolerate or select control-plane nodes (scheduling).',
  },
  {
    id: 'cluster-access/csi-driver',
    level: 'cluster-access',
    summary: 'CSIDrivers must not receive pod tokens (spec.tokenRequests) nor allow inline Ephemeral volumes.',
  },
  {
    id: 'cluster-access/admission',
    level: 'cluster-access',
    summary:
      'Admission webhooks (Validating/MutatingWebhookConfiguration) and admission policies and bindings are refused: they see or change every matching write.',
  },
  {
    id: 'cluster-access/rbac-role',
    level: 'cluster-access',
    summary:
      'Roles and ClusterRoles must not grant escalate, bind, impersonate or approve, wildcards ("*") in verbs, apiGroups or resources, every nonResourceURL, nodes/proxy or CSR approval, nor aggregate into or from other roles.',
  },
  {
    id: 'cluster-access/rbac-binding',
    level: 'cluster-access',
    summary:
      'RoleBindings and ClusterRoleBindings must not bind cluster-admin (nor admin/edit cluster-wide), nor grant to system:anonymous, system:unauthenticated, system:authenticated or system:serviceaccounts.',
  },
  {
    id: 'cluster-access/api-service',
    level: 'cluster-access',
    summary: 'APIServices must not hand an API group to a service (spec.service) nor skip TLS verification.',
  },
  {
    id: 'cluster-access/priority-class',
    level: 'cluster-access',
    summary: 'PriorityClasses must set preemptionPolicy: Never, stay below value 1000000 and not be globalDefault.',
  },
  {
    id: 'cluster-access/crd',
    level: 'cluster-access',
    summary: 'CustomResourceDefinitions must not use a conversion webhook (spec.conversion.strategy Webhook).',
  },
  {
    id: 'cluster-access/node',
    level: 'cluster-access',
    summary: 'Node objects are not written by agents (labels, taints and schedulability move workloads).',
  },
  {
    id: 'cluster-access/csr',
    level: 'cluster-access',
    summary:
      "CertificateSigningRequests must not ask the cluster's own signers (kubernetes.io/kube-apiserver-client, ...) nor carry an Approved condition.",
  },
  {
    id: 'pss-baseline/host-namespaces',
    level: 'baseline',
    summary: 'hostNetwork, hostPID and hostIPC must be unset or false.',
  },
  { id: 'pss-baseline/privileged', level: 'baseline', summary: 'Containers must not run privileged.' },
  {
    id: 'pss-baseline/capabilities',
    level: 'baseline',
    summary: 'capabilities.add may only hold the baseline set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, ...).',
  },
  { id: 'pss-baseline/host-path', level: 'baseline', summary: 'hostPath volumes are forbidden.' },
  {
    id: 'pss-baseline/host-ports',
    level: 'baseline',
    summary: 'Containers must not bind host ports (hostPort unset or 0).',
  },
  {
    id: 'pss-baseline/host-probes',
    level: 'baseline',
    summary:
      'Probes and lifecycle hooks must not target another host (httpGet.host / tcpSocket.host unset; PSS v1.34+).',
  },
  {
    id: 'pss-baseline/apparmor',
    level: 'baseline',
    summary: 'AppArmor profiles (field or legacy annotation) must be RuntimeDefault or Localhost.',
  },
  {
    id: 'pss-baseline/selinux',
    level: 'baseline',
    summary: 'seLinuxOptions.type must be a container type; seLinuxOptions.user and .role must be unset.',
  },
  { id: 'pss-baseline/proc-mount', level: 'baseline', summary: 'procMount must be unset or Default.' },
  { id: 'pss-baseline/seccomp', level: 'baseline', summary: 'seccompProfile.type must not be Unconfined.' },
  { id: 'pss-baseline/sysctls', level: 'baseline', summary: 'Only the safe, namespaced sysctls may be set.' },
  {
    id: 'pss-baseline/windows-host-process',
    level: 'baseline',
    summary: 'windowsOptions.hostProcess must be unset or false.',
  },
  {
    id: 'pss-restricted/volume-types',
    level: 'restricted',
    summary:
      'Volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret.',
  },
  {
    id: 'pss-restricted/privilege-escalation',
    level: 'restricted',
    summary: 'Every container sets allowPrivilegeEscalation: false (Linux pods).',
  },
  {
    id: 'pss-restricted/run-as-non-root',
    level: 'restricted',
    summary: 'runAsNonRoot: true at pod level or in every container, and never false.',
  },
  { id: 'pss-restricted/run-as-user', level: 'restricted', summary: 'runAsUser must not be 0.' },
  {
    id: 'pss-restricted/seccomp',
    level: 'restricted',
    summary: 'seccompProfile.type RuntimeDefault or Localhost, at pod level or in every container (Linux pods).',
  },
  {
    id: 'pss-restricted/capabilities',
    level: 'restricted',
    summary: 'Every container drops ALL capabilities and adds back at most NET_BIND_SERVICE (Linux pods).',
  },
  {
    id: 'resources/requests-limits',
    level: 'best-practice',
    summary: 'Every container has cpu and memory requests and a memory limit (no CPU limit required).',
  },
  {
    id: 'images/pinned',
    level: 'best-practice',
    summary: 'Images carry a version tag other than latest, or a digest.',
  },
] as const satisfies readonly { id: string; level: RuleLevel; summary: string }[];

export type RuleId = (typeof CATALOGUE)[number]['id'];
/** Rules checked from the intent alone (cluster, namespace, verb, count). */
export type ScopeRuleId = Extract<RuleId, `scope/${string}`>;
/** Rules checked against any object that gives node or cluster access (not only pod templates). */
export type ClusterAccessRuleId = Extract<RuleId, `cluster-access/${string}`>;
/** Rules checked against the pod template of the object as it will be after the write. */
export type ObjectRuleId = Exclude<RuleId, ScopeRuleId | ClusterAccessRuleId>;

export const RULE_IDS: readonly RuleId[] = CATALOGUE.map((r) => r.id);

const LEVELS: ReadonlyMap<string, RuleLevel> = new Map(CATALOGUE.map((r) => [r.id, r.level]));

export function isRuleId(id: string): id is RuleId {
  return LEVELS.has(id);
}

export function ruleLevel(id: RuleId): RuleLevel {
  return LEVELS.get(id) as RuleLevel;
}

/** Every rule with its level and summary, in evaluation order (for docs and tool descriptions). */
export function describeRules(): RuleDescription[] {
  return CATALOGUE.map((r) => ({ id: r.id, level: r.level, summary: r.summary }));
}

/** The known rule id closest to a misspelt one, when it is close enough to be a likely typo. */
export function closestRuleId(id: string): RuleId | undefined {
  let best: RuleId | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of RULE_IDS) {
    const d = editDistance(id, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(id.length / 4)) ? best : undefined;
}
