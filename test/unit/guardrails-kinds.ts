/**
 * Fixtures for the scope and cluster-access guardrail tests: kinds with the scope discovery gives
 * them (as a real API server's `/api` and `/apis` answer), and for each cluster-access rule objects
 * that must be refused next to their safe twins.
 */
import type { ClusterAccessRuleId } from '../../shared/domain/guardrails/index.ts';

export interface KindInfo {
  kind: string;
  apiVersion: string;
}

/** Cluster-scoped kinds other than Namespace (`namespaced: false` in discovery). */
export const CLUSTER_SCOPED_KINDS: readonly KindInfo[] = [
  { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1' },
  { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1' },
  { kind: 'MutatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1' },
  { kind: 'ValidatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1' },
  { kind: 'ValidatingAdmissionPolicy', apiVersion: 'admissionregistration.k8s.io/v1' },
  { kind: 'ValidatingAdmissionPolicyBinding', apiVersion: 'admissionregistration.k8s.io/v1' },
  { kind: 'PersistentVolume', apiVersion: 'v1' },
  { kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1' },
  { kind: 'CSIDriver', apiVersion: 'storage.k8s.io/v1' },
  { kind: 'RuntimeClass', apiVersion: 'node.k8s.io/v1' },
  { kind: 'PriorityClass', apiVersion: 'scheduling.k8s.io/v1' },
  { kind: 'APIService', apiVersion: 'apiregistration.k8s.io/v1' },
  { kind: 'CustomResourceDefinition', apiVersion: 'apiextensions.k8s.io/v1' },
  { kind: 'Node', apiVersion: 'v1' },
  { kind: 'CertificateSigningRequest', apiVersion: 'certificates.k8s.io/v1' },
  { kind: 'IngressClass', apiVersion: 'networking.k8s.io/v1' },
  // A custom resource of a cluster-scoped CRD: scope comes from discovery, not from a known list.
  { kind: 'ClusterWidget', apiVersion: 'example.com/v1' },
];

/** Namespaced kinds (`namespaced: true`). */
export const NAMESPACED_KINDS: readonly KindInfo[] = [
  { kind: 'ConfigMap', apiVersion: 'v1' },
  { kind: 'Service', apiVersion: 'v1' },
  { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1' },
  { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1' },
  { kind: 'PersistentVolumeClaim', apiVersion: 'v1' },
  { kind: 'Widget', apiVersion: 'example.com/v1' },
];

export interface DangerCase {
  rule: ClusterAccessRuleId;
  /** What makes it dangerous, for the test name. */
  what: string;
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  /** Field path each finding must name. */
  path: string;
  /** The object as written. */
  object: Record<string, unknown>;
}

const meta = (extra: Record<string, unknown> = {}) => ({ name: 'x', ...extra });

const pv = (source: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: meta(),
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...source },
});
const sc = (provisioner: string, annotations?: Record<string, string>) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: meta(annotations ? { annotations } : {}),
  provisioner,
});
const runtime = (handler: string, scheduling?: Record<string, unknown>) => ({
  apiVersion: 'node.k8s.io/v1',
  kind: 'RuntimeClass',
  metadata: meta(),
  handler,
  ...(scheduling ? { scheduling } : {}),
});
const csiDriver = (spec: Record<string, unknown>) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  metadata: meta(),
  spec,
});
const role = (kind: 'Role' | 'ClusterRole', rules: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: meta(),
  rules,
  ...extra,
});
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', roleName: string, subjects: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: meta(),
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects,
});
const sa = { kind: 'ServiceAccount', name: 'ci', namespace: 'default' };
const apiService = (spec: Record<string, unknown>) => ({
  apiVersion: 'apiregistration.k8s.io/v1',
  kind: 'APIService',
  metadata: { name: 'v1beta1.metrics.k8s.io' },
  spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, ...spec },
});
const priority = (fields: Record<string, unknown>) => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: meta(),
  ...fields,
});
const crd = (conversion?: Record<string, unknown>) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { plural: 'widgets', kind: 'Widget' },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true }],
    ...(conversion ? { conversion } : {}),
  },
});
const csr = (signerName: string, conditions?: unknown[]) => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: meta(),
  spec: { request: 'LS0tLS1CRUdJTi...', signerName, usages: ['client auth'] },
  ...(conditions ? { status: { conditions } } : {}),
});
const webhook = (kind: string, url: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind,
  metadata: meta(),
  webhooks: [{ name: 'w.example.com', clientConfig: { url }, rules: [], sideEffects: 'None' }],
});

const c = (
  rule: ClusterAccessRuleId,
  what: string,
  namespaced: boolean,
  path: string,
  object: Record<string, unknown>,
): DangerCase => ({
  rule,
  what,
  kind: object.kind as string,
  apiVersion: object.apiVersion as string,
  namespaced,
  path,
  object,
});

/** Objects each cluster-access rule must refuse, with the path of the finding. */
export const DANGEROUS_OBJECTS: readonly DangerCase[] = [
  c('cluster-access/node-volume', 'hostPath', false, 'spec.hostPath', pv({ hostPath: { path: '/' } })),
  c(
    'cluster-access/node-volume',
    'local',
    false,
    'spec.local',
    pv({
      local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] },
      },
    }),
  ),
  c('cluster-access/node-volume', 'flexVolume', false, 'spec.flexVolume', pv({ flexVolume: { driver: 'x/y' } })),
  c('cluster-access/storage-class', 'local-path provisioner', false, 'provisioner', sc('rancher.io/local-path')),
  c('cluster-access/storage-class', 'hostpath CSI', false, 'provisioner', sc('hostpath.csi.k8s.io')),
  c('cluster-access/storage-class', 'minikube hostpath', false, 'provisioner', sc('k8s.io/minikube-hostpath')),
  c('cluster-access/storage-class', 'openebs local', false, 'provisioner', sc('openebs.io/local')),
  c(
    'cluster-access/storage-class',
    'default class',
    false,
    'metadata.annotations["storageclass.kubernetes.io/is-default-class"]',
    sc('ebs.csi.aws.com', { 'storageclass.kubernetes.io/is-default-class': 'true' }),
  ),
  c('cluster-access/runtime-class', 'runc handler', false, 'handler', runtime('runc')),
  c(
    'cluster-access/runtime-class',
    'control-plane toleration',
    false,
    'scheduling.tolerations[0]',
    runtime('runsc', {
      tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    }),
  ),
  c(
    'cluster-access/runtime-class',
    'tolerate everything',
    false,
    'scheduling.tolerations[0]',
    runtime('kata-qemu', { tolerations: [{ operator: 'Exists' }] }),
  ),
  c(
    'cluster-access/csi-driver',
    'token requests',
    false,
    'spec.tokenRequests',
    csiDriver({ tokenRequests: [{ audience: '' }], volumeLifecycleModes: ['Persistent'] }),
  ),
  c(
    'cluster-access/csi-driver',
    'inline volumes',
    false,
    'spec.volumeLifecycleModes[1]',
    csiDriver({ volumeLifecycleModes: ['Persistent', 'Ephemeral'] }),
  ),
  c(
    'cluster-access/admission',
    'validating webhook',
    false,
    'webhooks[0].clientConfig',
    webhook('ValidatingWebhookConfiguration', 'https://collector.example.com/'),
  ),
  c(
    'cluster-access/admission',
    'mutating webhook',
    false,
    'webhooks[0].clientConfig',
    webhook('MutatingWebhookConfiguration', 'https://mutator.example.com/'),
  ),
  c('cluster-access/admission', 'admission policy', false, 'spec', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(),
    spec: { validations: [{ expression: 'false' }] },
  }),
  c(
    'cluster-access/rbac-role',
    'escalate',
    true,
    'rules[0].verbs[1]',
    role('Role', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'escalate'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'bind',
    true,
    'rules[0].verbs[0]',
    role('Role', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['bind'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'impersonate',
    false,
    'rules[0].verbs[0]',
    role('ClusterRole', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'wildcard verbs',
    true,
    'rules[0].verbs[0]',
    role('Role', [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'wildcard resources',
    true,
    'rules[0].resources[0]',
    role('Role', [{ apiGroups: [''], resources: ['*'], verbs: ['get'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'wildcard apiGroups',
    true,
    'rules[0].apiGroups[0]',
    role('Role', [{ apiGroups: ['*'], resources: ['deployments'], verbs: ['get'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'every non-resource URL',
    false,
    'rules[0].nonResourceURLs[0]',
    role('ClusterRole', [{ nonResourceURLs: ['/*'], verbs: ['get'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'subresource wildcard',
    true,
    'rules[0].resources[0]',
    role('Role', [{ apiGroups: [''], resources: ['pods/*'], verbs: ['get'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'nodes/proxy',
    false,
    'rules[0].resources[0]',
    role('ClusterRole', [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]),
  ),
  c(
    'cluster-access/rbac-role',
    'aggregate-to-admin',
    false,
    'metadata.labels["rbac.authorization.k8s.io/aggregate-to-admin"]',
    {
      ...role('ClusterRole', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
      metadata: meta({ labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
    },
  ),
  c(
    'cluster-access/rbac-role',
    'aggregationRule',
    false,
    'aggregationRule',
    role('ClusterRole', [], {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }] },
    }),
  ),
  c(
    'cluster-access/rbac-binding',
    'cluster-admin in a namespace',
    true,
    'roleRef.name',
    binding('RoleBinding', 'cluster-admin', [sa]),
  ),
  c(
    'cluster-access/rbac-binding',
    'cluster-admin cluster-wide',
    false,
    'roleRef.name',
    binding('ClusterRoleBinding', 'cluster-admin', [sa]),
  ),
  c(
    'cluster-access/rbac-binding',
    'admin cluster-wide',
    false,
    'roleRef.name',
    binding('ClusterRoleBinding', 'admin', [sa]),
  ),
  c(
    'cluster-access/rbac-binding',
    'to every authenticated caller',
    true,
    'subjects[1].name',
    binding('RoleBinding', 'view', [sa, { kind: 'Group', name: 'system:authenticated' }]),
  ),
  c(
    'cluster-access/rbac-binding',
    'to anonymous',
    true,
    'subjects[0].name',
    binding('RoleBinding', 'view', [{ kind: 'User', name: 'system:anonymous' }]),
  ),
  c(
    'cluster-access/api-service',
    'delegated to a service',
    false,
    'spec.service',
    apiService({ service: { namespace: 'default', name: 'evil' }, caBundle: 'Cg==' }),
  ),
  c('cluster-access/priority-class', 'preemption by default', false, 'preemptionPolicy', priority({ value: 1000 })),
  c(
    'cluster-access/priority-class',
    'explicit preemption',
    false,
    'preemptionPolicy',
    priority({ value: 1000, preemptionPolicy: 'PreemptLowerPriority' }),
  ),
  c(
    'cluster-access/priority-class',
    'high value',
    false,
    'value',
    priority({ value: 1_000_000_000, preemptionPolicy: 'Never' }),
  ),
  c(
    'cluster-access/priority-class',
    'global default',
    false,
    'globalDefault',
    priority({ value: 10, preemptionPolicy: 'Never', globalDefault: true }),
  ),
  c(
    'cluster-access/crd',
    'conversion webhook',
    false,
    'spec.conversion.strategy',
    crd({ strategy: 'Webhook', webhook: { clientConfig: { url: 'https://conv.example.com' } } }),
  ),
  c('cluster-access/node', 'node', false, 'kind', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta({ labels: { 'node-role.kubernetes.io/control-plane': '' } }),
    spec: { taints: [] },
  }),
  c(
    'cluster-access/csr',
    'API server client signer',
    false,
    'spec.signerName',
    csr('kubernetes.io/kube-apiserver-client'),
  ),
  c(
    'cluster-access/csr',
    'approval',
    false,
    'status.conditions[0]',
    csr('example.com/signer', [{ type: 'Approved', status: 'True' }]),
  ),
];

/** The safe twin of each dangerous kind: same kind, nothing that hands out node or cluster access. */
export const SAFE_OBJECTS: readonly Omit<DangerCase, 'rule' | 'path'>[] = [
  pv({ nfs: { server: 'nfs.example.com', path: '/exports/a' } }),
  pv({ csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-1' } }),
  sc('ebs.csi.aws.com'),
  sc('pd.csi.storage.gke.io', { 'storageclass.kubernetes.io/is-default-class': 'false' }),
  sc('kubernetes.io/no-provisioner'),
  runtime('runsc'),
  runtime('kata-fc', { tolerations: [{ key: 'sandbox', operator: 'Exists' }], nodeSelector: { sandbox: 'true' } }),
  csiDriver({ attachRequired: true, volumeLifecycleModes: ['Persistent'] }),
  // A webhook configuration with no webhook intercepts nothing.
  { ...webhook('ValidatingWebhookConfiguration', 'https://x'), webhooks: [] },
  role('Role', [{ apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'patch'] }]),
  role('ClusterRole', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] }]),
  role('ClusterRole', [{ nonResourceURLs: ['/healthz', '/healthz/*'], verbs: ['get'] }]),
  binding('RoleBinding', 'edit', [sa]),
  binding('ClusterRoleBinding', 'view', [sa]),
  apiService({}),
  priority({ value: 1000, preemptionPolicy: 'Never' }),
  priority({ value: 999_999, preemptionPolicy: 'Never', globalDefault: false }),
  crd(),
  crd({ strategy: 'None' }),
  csr('example.com/signer'),
].map((object) => ({
  kind: object.kind as string,
  apiVersion: object.apiVersion as string,
  namespaced: object.kind === 'Role' || object.kind === 'RoleBinding',
  what: `${object.kind} (safe)`,
  object,
}));
