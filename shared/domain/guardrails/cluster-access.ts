/**
 * Cluster-access rules: kinds that are not workloads yet hand out node or cluster power to whoever
 * writes them (node paths through volumes, storage and runtime plumbing, admission, RBAC, API
 * delegation, scheduling priority, certificates). Each rule recognises its kinds by API group and
 * kind (any casing) and judges the object as it will be after the write; the safe variants of each
 * kind (an nfs PersistentVolume, a non-preempting PriorityClass, a Role without wildcards) pass.
 */
import { child, dig, isRec, list, type Rec, rec, str } from './object-access.ts';
import type { ClusterAccessRuleId } from './rules.ts';
import type { RawFinding, WriteIntent } from './types.ts';

export type ObjectCheck = (intent: WriteIntent, object: Rec) => RawFinding[];

/** `rbac.authorization.k8s.io` for `rbac.authorization.k8s.io/v1`, `` for `v1`; undefined when unknown. */
function groupOf(intent: WriteIntent, object: Rec): string | undefined {
  const apiVersion = intent.apiVersion ?? str(object.apiVersion);
  if (apiVersion === undefined) return undefined;
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Whether the write is one of `kinds` (any casing) in `group` (when the group is known at all). */
function isKind(intent: WriteIntent, object: Rec, group: string, kinds: readonly string[]): boolean {
  const kind = intent.kind.toLowerCase();
  if (!kinds.some((k) => k.toLowerCase() === kind)) return false;
  const g = groupOf(intent, object);
  return g === undefined || g === group;
}

const nameOf = (intent: WriteIntent, object: Rec) =>
  `${intent.kind} ${intent.name ?? str(dig(object, ['metadata', 'name'])) ?? '(unnamed)'}`;

const ADMIN_FIX = 'ask a cluster administrator to make this change';
const ruleFix = (id: ClusterAccessRuleId) =>
  `, or set rules["${id}"] to mode: audit or enabled: false in the guardrail policy if agents may do this`;

/** `cluster-access/node-volume`: PersistentVolumes that expose a node's filesystem or run a node driver. */
const nodeVolume: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, '', ['PersistentVolume'])) return [];
  const target = nameOf(intent, object);
  const spec = rec(object.spec);
  const out: RawFinding[] = [];
  const fix = `use storage that does not live on one node (a PersistentVolumeClaim with a CSI StorageClass, or nfs/csi in the PersistentVolume); ${ADMIN_FIX}${ruleFix('cluster-access/node-volume')}`;
  if (spec?.hostPath !== undefined) {
    const path = str(dig(spec, ['hostPath', 'path'])) ?? '?';
    out.push({
      ruleId: 'cluster-access/node-volume',
      path: 'spec.hostPath',
      message: `${target} mounts the node directory ${path} (spec.hostPath): any pod whose claim binds it reads and writes that node's filesystem`,
      fix,
    });
  }
  if (spec?.local !== undefined) {
    const path = str(dig(spec, ['local', 'path'])) ?? '?';
    out.push({
      ruleId: 'cluster-access/node-volume',
      path: 'spec.local',
      message: `${target} is a local volume on the node path ${path} (spec.local): any pod whose claim binds it reads and writes that node's filesystem`,
      fix,
    });
  }
  if (spec?.flexVolume !== undefined) {
    const driver = str(dig(spec, ['flexVolume', 'driver'])) ?? '?';
    out.push({
      ruleId: 'cluster-access/node-volume',
      path: 'spec.flexVolume',
      message: `${target} runs the FlexVolume driver ${driver} as root on the node with options from the manifest (spec.flexVolume)`,
      fix,
    });
  }
  return out;
};

/** Provisioners that carve volumes out of a node's own disk (local-path, hostpath and the like). */
const NODE_LOCAL_PROVISIONER = /(^|[./-])(host-?path|local(-path|-volume)?)([./-]|$)/i;
const DEFAULT_CLASS_ANNOTATIONS = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
];

/** `cluster-access/storage-class`: node-local provisioners, and taking over as the default class. */
const storageClass: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'storage.k8s.io', ['StorageClass'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const provisioner = str(object.provisioner);
  if (provisioner && NODE_LOCAL_PROVISIONER.test(provisioner)) {
    out.push({
      ruleId: 'cluster-access/storage-class',
      path: 'provisioner',
      message: `${target} uses the node-local provisioner ${provisioner} (provisioner): every claim of the class, in any namespace, gets a directory on a node's own disk`,
      fix: `use a provisioner backed by network or cloud storage (a CSI driver such as ebs.csi.aws.com or pd.csi.storage.gke.io); ${ADMIN_FIX}${ruleFix('cluster-access/storage-class')}`,
    });
  }
  const annotations = rec(dig(object, ['metadata', 'annotations']));
  for (const key of DEFAULT_CLASS_ANNOTATIONS) {
    if (String(annotations?.[key]).toLowerCase() !== 'true') continue;
    out.push({
      ruleId: 'cluster-access/storage-class',
      path: child('metadata.annotations', key),
      message: `${target} makes itself the cluster's default StorageClass (metadata.annotations["${key}"]): every claim without storageClassName, in every namespace, gets its volumes`,
      fix: `remove the annotation and name the class in the claims that need it (spec.storageClassName)${ruleFix('cluster-access/storage-class')}`,
    });
  }
  return out;
};

/** Runtime handlers that sandbox a pod from the node (gVisor, Kata Containers). */
const SANDBOX_HANDLER = /^(runsc|gvisor|kata)([-_][a-z0-9_-]*)?$/i;
const CONTROL_PLANE_KEYS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

/** `cluster-access/runtime-class`: unsandboxed handlers and scheduling onto control-plane nodes. */
const runtimeClass: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'node.k8s.io', ['RuntimeClass'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const handler = str(object.handler);
  if (!handler || !SANDBOX_HANDLER.test(handler)) {
    out.push({
      ruleId: 'cluster-access/runtime-class',
      path: 'handler',
      message: `${target} selects the node runtime handler ${handler ?? '(none)'} (handler): pods naming the class run under whatever that handler is configured to do on the node, not in a sandbox`,
      fix: `use a sandboxing handler (runsc for gVisor, kata or kata-* for Kata Containers); ${ADMIN_FIX}${ruleFix('cluster-access/runtime-class')}`,
    });
  }
  list(dig(object, ['scheduling', 'tolerations'])).forEach((t, i) => {
    const key = str(rec(t)?.key);
    const everything = key === undefined || key === '';
    if (!everything && !CONTROL_PLANE_KEYS.includes(key)) return;
    out.push({
      ruleId: 'cluster-access/runtime-class',
      path: `scheduling.tolerations[${i}]`,
      message: `${target} gives every pod of the class a toleration of ${everything ? 'every taint' : key} (scheduling.tolerations[${i}]), so they may run on control-plane nodes`,
      fix: `remove the toleration; pods that must tolerate taints state it themselves${ruleFix('cluster-access/runtime-class')}`,
    });
  });
  const selector = rec(dig(object, ['scheduling', 'nodeSelector']));
  for (const key of Object.keys(selector ?? {})) {
    if (!CONTROL_PLANE_KEYS.includes(key)) continue;
    out.push({
      ruleId: 'cluster-access/runtime-class',
      path: child('scheduling.nodeSelector', key),
      message: `${target} sends every pod of the class to control-plane nodes (scheduling.nodeSelector["${key}"])`,
      fix: `remove the control-plane node selector${ruleFix('cluster-access/runtime-class')}`,
    });
  }
  return out;
};

/** `cluster-access/csi-driver`: pod tokens handed to a driver, and inline (ephemeral) volumes. */
const csiDriver: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'storage.k8s.io', ['CSIDriver'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const tokens = list(dig(object, ['spec', 'tokenRequests']));
  if (tokens.length > 0) {
    const audiences = tokens.map((t) => str(rec(t)?.audience) || '(the API server)').join(', ');
    out.push({
      ruleId: 'cluster-access/csi-driver',
      path: 'spec.tokenRequests',
      message: `${target} has the kubelet hand the driver a service-account token of every pod that mounts it, for ${audiences} (spec.tokenRequests)`,
      fix: `remove spec.tokenRequests; ${ADMIN_FIX}${ruleFix('cluster-access/csi-driver')}`,
    });
  }
  list(dig(object, ['spec', 'volumeLifecycleModes'])).forEach((mode, i) => {
    if (mode !== 'Ephemeral') return;
    out.push({
      ruleId: 'cluster-access/csi-driver',
      path: `spec.volumeLifecycleModes[${i}]`,
      message: `${target} lets any pod mount the driver inline (spec.volumeLifecycleModes[${i}]: Ephemeral), with volume attributes straight from the pod and no PersistentVolume for the guardrails to judge`,
      fix: `keep volumeLifecycleModes to [Persistent]${ruleFix('cluster-access/csi-driver')}`,
    });
  });
  return out;
};

const WEBHOOK_KINDS = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];
const ADMISSION_POLICY_KINDS = [
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
];

/** `cluster-access/admission`: webhooks and admission policies see or change what every caller writes. */
const admission: ObjectCheck = (intent, object) => {
  const target = nameOf(intent, object);
  const fix = `${ADMIN_FIX}; to let agents manage admission, add ${intent.kind} to clusterScoped.allow${ruleFix('cluster-access/admission')}`;
  if (isKind(intent, object, 'admissionregistration.k8s.io', WEBHOOK_KINDS)) {
    const mutating = intent.kind.toLowerCase().startsWith('mutating');
    return list(object.webhooks).map((w, i) => {
      const cc = rec(rec(w)?.clientConfig);
      const svc = rec(cc?.service);
      const where = str(cc?.url) ?? (svc ? `service ${str(svc.namespace) ?? '?'}/${str(svc.name) ?? '?'}` : '?');
      return {
        ruleId: 'cluster-access/admission' as const,
        path: `webhooks[${i}].clientConfig`,
        message: `${target} sends every matching request, with the full object (Secrets included), to ${where} (webhooks[${i}].clientConfig)${mutating ? ', which may change it after the guardrails judged it' : ', which may refuse it'}`,
        fix,
      };
    });
  }
  if (isKind(intent, object, 'admissionregistration.k8s.io', ADMISSION_POLICY_KINDS)) {
    return [
      {
        ruleId: 'cluster-access/admission',
        path: 'spec',
        message: `${target} changes what the API server admits for every caller it matches (spec)`,
        fix,
      },
    ];
  }
  return [];
};

/** Verbs that let a role holder grant or assume more than they have. */
const ESCALATING_VERBS = new Set(['escalate', 'bind', 'impersonate', 'approve']);
/** Resources whose use amounts to node or cluster control. */
const PRIVILEGED_RESOURCES = new Set(['nodes/proxy', 'certificatesigningrequests/approval']);
const AGGREGATE_LABEL = /^rbac\.authorization\.k8s\.io\/aggregate-to-(admin|edit|view|cluster-admin)$/;

/** `cluster-access/rbac-role`: roles that grant escalation, impersonation, wildcards or node proxy. */
const rbacRole: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'rbac.authorization.k8s.io', ['Role', 'ClusterRole'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const fix = (what: string) =>
    `${what}; grant the named verbs on the named resources the holder needs${ruleFix('cluster-access/rbac-role')}`;
  list(object.rules).forEach((r, i) => {
    const rule = rec(r);
    const field = (name: string) => list(rule?.[name]).filter((v): v is string => typeof v === 'string');
    field('verbs').forEach((verb, j) => {
      const path = `rules[${i}].verbs[${j}]`;
      if (verb === '*') {
        out.push({
          ruleId: 'cluster-access/rbac-role',
          path,
          message: `${target} grants every verb ("*") at ${path}, escalate, bind and impersonate included`,
          fix: fix('list the verbs instead of "*"'),
        });
      } else if (ESCALATING_VERBS.has(verb.toLowerCase())) {
        out.push({
          ruleId: 'cluster-access/rbac-role',
          path,
          message: `${target} grants "${verb}" at ${path}: its holder can ${verb === 'impersonate' ? 'act as other users, groups or service accounts' : verb === 'approve' ? 'approve certificate requests' : 'grant permissions it does not hold'}`,
          fix: fix(`remove "${verb}"`),
        });
      }
    });
    for (const name of ['apiGroups', 'resources', 'nonResourceURLs']) {
      field(name).forEach((value, j) => {
        const path = `rules[${i}].${name}[${j}]`;
        // A path glob under one non-resource URL (`/healthz/*`) stays narrow; `*` and `/*` cover them all.
        const wildcard = name === 'nonResourceURLs' ? value === '*' || value === '/*' : value.includes('*');
        if (wildcard) {
          out.push({
            ruleId: 'cluster-access/rbac-role',
            path,
            message: `${target} grants a wildcard ("${value}") at ${path}, covering kinds and subresources added later too`,
            fix: fix(`name the ${name} instead of "${value}"`),
          });
        } else if (name === 'resources' && PRIVILEGED_RESOURCES.has(value.toLowerCase())) {
          out.push({
            ruleId: 'cluster-access/rbac-role',
            path,
            message: `${target} grants ${value} at ${path}: ${value.startsWith('nodes') ? 'the kubelet API of every node, exec in any pod included' : 'approving certificate requests, which can mint cluster credentials'}`,
            fix: fix(`remove ${value}`),
          });
        }
      });
    }
  });
  for (const key of Object.keys(rec(dig(object, ['metadata', 'labels'])) ?? {})) {
    if (!AGGREGATE_LABEL.test(key)) continue;
    out.push({
      ruleId: 'cluster-access/rbac-role',
      path: child('metadata.labels', key),
      message: `${target} adds its rules to a built-in role through the label ${key} (metadata.labels), widening it for every binding of that role`,
      fix: fix('remove the aggregation label and bind this role where it is needed'),
    });
  }
  if (isRec(object.aggregationRule)) {
    out.push({
      ruleId: 'cluster-access/rbac-role',
      path: 'aggregationRule',
      message: `${target} copies the rules of every ClusterRole its selectors match (aggregationRule), which can include cluster-admin's`,
      fix: fix('list the rules instead of aggregating them'),
    });
  }
  return out;
};

/** Roles whose binding amounts to cluster control: any binding for cluster-admin; cluster-wide for admin and edit. */
const CLUSTER_ADMIN_ROLES = new Set(['cluster-admin']);
const CLUSTER_WIDE_ADMIN_ROLES = new Set(['admin', 'edit']);
/** Subjects that stand for everyone, or every service account. */
const EVERYONE = new Set([
  'system:anonymous',
  'system:unauthenticated',
  'system:authenticated',
  'system:serviceaccounts',
]);

/** `cluster-access/rbac-binding`: bindings of cluster-admin, cluster-wide admin/edit, or to everyone. */
const rbacBinding: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'rbac.authorization.k8s.io', ['RoleBinding', 'ClusterRoleBinding'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const clusterWide = intent.kind.toLowerCase() === 'clusterrolebinding';
  const roleKind = str(dig(object, ['roleRef', 'kind']));
  const role = str(dig(object, ['roleRef', 'name']));
  if (
    role &&
    roleKind === 'ClusterRole' &&
    (CLUSTER_ADMIN_ROLES.has(role) || (clusterWide && CLUSTER_WIDE_ADMIN_ROLES.has(role)))
  ) {
    out.push({
      ruleId: 'cluster-access/rbac-binding',
      path: 'roleRef.name',
      message: `${target} binds ${role} (roleRef.name)${clusterWide ? ' in every namespace' : ''}: its subjects can then change anything${role === 'cluster-admin' ? ', RBAC included' : ', Secrets and workloads of kube-system included'}`,
      fix: `bind a role that grants only what the subjects need, in the namespace they need it${ruleFix('cluster-access/rbac-binding')}`,
    });
  }
  list(object.subjects).forEach((s, i) => {
    const name = str(rec(s)?.name);
    if (!name || !EVERYONE.has(name)) return;
    out.push({
      ruleId: 'cluster-access/rbac-binding',
      path: `subjects[${i}].name`,
      message: `${target} grants its role to ${name} (subjects[${i}].name), which stands for ${name === 'system:serviceaccounts' ? 'every service account' : 'every caller'}`,
      fix: `name the users, groups or service accounts that need the role${ruleFix('cluster-access/rbac-binding')}`,
    });
  });
  return out;
};

/** `cluster-access/api-service`: handing an API group to a service, or skipping its TLS check. */
const apiService: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'apiregistration.k8s.io', ['APIService'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const svc = rec(dig(object, ['spec', 'service']));
  if (svc) {
    const group = `${str(dig(object, ['spec', 'group'])) ?? '?'}/${str(dig(object, ['spec', 'version'])) ?? '?'}`;
    out.push({
      ruleId: 'cluster-access/api-service',
      path: 'spec.service',
      message: `${target} hands every request for ${group} to service ${str(svc.namespace) ?? '?'}/${str(svc.name) ?? '?'} (spec.service), which then answers for the API server and sees each caller's identity`,
      fix: `${ADMIN_FIX}${ruleFix('cluster-access/api-service')}`,
    });
  }
  if (dig(object, ['spec', 'insecureSkipTLSVerify']) === true) {
    out.push({
      ruleId: 'cluster-access/api-service',
      path: 'spec.insecureSkipTLSVerify',
      message: `${target} turns off TLS verification of its backend (spec.insecureSkipTLSVerify), so anyone on the path can answer in its place`,
      fix: `remove insecureSkipTLSVerify and set spec.caBundle${ruleFix('cluster-access/api-service')}`,
    });
  }
  return out;
};

/** At or above this, a PriorityClass outranks nearly every workload (system classes start at 2e9). */
export const HIGH_PRIORITY_VALUE = 1_000_000;

/** `cluster-access/priority-class`: preemption, very high values, and taking over as the default. */
const priorityClass: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'scheduling.k8s.io', ['PriorityClass'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const policy = str(object.preemptionPolicy);
  if (policy !== 'Never') {
    out.push({
      ruleId: 'cluster-access/priority-class',
      path: 'preemptionPolicy',
      message: `${target} lets its pods evict lower-priority pods of every namespace to get scheduled (preemptionPolicy ${policy ?? 'unset, which means PreemptLowerPriority'})`,
      fix: `set preemptionPolicy: Never${ruleFix('cluster-access/priority-class')}`,
    });
  }
  const value = object.value;
  if (typeof value === 'number' && value >= HIGH_PRIORITY_VALUE) {
    out.push({
      ruleId: 'cluster-access/priority-class',
      path: 'value',
      message: `${target} has priority ${value} (value), at or above ${HIGH_PRIORITY_VALUE}: its pods are scheduled before, and evicted after, nearly every workload`,
      fix: `use a value below ${HIGH_PRIORITY_VALUE}${ruleFix('cluster-access/priority-class')}`,
    });
  }
  if (object.globalDefault === true) {
    out.push({
      ruleId: 'cluster-access/priority-class',
      path: 'globalDefault',
      message: `${target} becomes the priority of every pod without priorityClassName, in every namespace (globalDefault)`,
      fix: `remove globalDefault and name the class in the pods that need it${ruleFix('cluster-access/priority-class')}`,
    });
  }
  return out;
};

/** `cluster-access/crd`: a conversion webhook sees and rewrites every object of the resource. */
const crd: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'apiextensions.k8s.io', ['CustomResourceDefinition'])) return [];
  if (str(dig(object, ['spec', 'conversion', 'strategy'])) !== 'Webhook') return [];
  return [
    {
      ruleId: 'cluster-access/crd',
      path: 'spec.conversion.strategy',
      message: `${nameOf(intent, object)} sends every read and write of its objects through a conversion webhook (spec.conversion.strategy Webhook), which sees and may rewrite them`,
      fix: `use spec.conversion.strategy None (one stored version), or ${ADMIN_FIX}${ruleFix('cluster-access/crd')}`,
    },
  ];
};

/** `cluster-access/node`: Node objects belong to the kubelet and the cloud controller. */
const node: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, '', ['Node'])) return [];
  return [
    {
      ruleId: 'cluster-access/node',
      path: 'kind',
      message: `${nameOf(intent, object)} is a node: changing its labels, taints or schedulability moves workloads onto or off it (control-plane nodes included)`,
      fix: `${ADMIN_FIX} (cordon, drain, label or taint nodes)${ruleFix('cluster-access/node')}`,
    },
  ];
};

/** Signers of the cluster's own CA, whose certificates the API server and kubelets trust. */
const CLUSTER_SIGNERS = new Set([
  'kubernetes.io/kube-apiserver-client',
  'kubernetes.io/kube-apiserver-client-kubelet',
  'kubernetes.io/kubelet-serving',
  'kubernetes.io/legacy-unknown',
]);

/** `cluster-access/csr`: requests to the cluster's CA, and approvals. */
const csr: ObjectCheck = (intent, object) => {
  if (!isKind(intent, object, 'certificates.k8s.io', ['CertificateSigningRequest'])) return [];
  const target = nameOf(intent, object);
  const out: RawFinding[] = [];
  const signer = str(dig(object, ['spec', 'signerName']));
  if (signer && CLUSTER_SIGNERS.has(signer)) {
    out.push({
      ruleId: 'cluster-access/csr',
      path: 'spec.signerName',
      message: `${target} asks the cluster's CA (${signer}, spec.signerName) for a certificate the API server or kubelets trust; once approved it authenticates as whatever user and groups it names`,
      fix: `use your own signer (e.g. example.com/my-signer), or ${ADMIN_FIX}${ruleFix('cluster-access/csr')}`,
    });
  }
  list(dig(object, ['status', 'conditions'])).forEach((c, i) => {
    if (str(rec(c)?.type) !== 'Approved') return;
    out.push({
      ruleId: 'cluster-access/csr',
      path: `status.conditions[${i}]`,
      message: `${target} is being approved (status.conditions[${i}] Approved): approval issues a certificate`,
      fix: `${ADMIN_FIX}: approving certificate requests is theirs${ruleFix('cluster-access/csr')}`,
    });
  });
  return out;
};

export const CLUSTER_ACCESS_CHECKS: Record<ClusterAccessRuleId, ObjectCheck> = {
  'cluster-access/node-volume': nodeVolume,
  'cluster-access/storage-class': storageClass,
  'cluster-access/runtime-class': runtimeClass,
  'cluster-access/csi-driver': csiDriver,
  'cluster-access/admission': admission,
  'cluster-access/rbac-role': rbacRole,
  'cluster-access/rbac-binding': rbacBinding,
  'cluster-access/api-service': apiService,
  'cluster-access/priority-class': priorityClass,
  'cluster-access/crd': crd,
  'cluster-access/node': node,
  'cluster-access/csr': csr,
};
