// Unknown fields, as the API server treats them (KEP-2885 server-side field validation, GA in 1.27).
//
// The real server knows every field of a built-in type from its schema. The fake knows the fields of
// the kinds tests write most, at the levels a typo is likely (top level, metadata, workload specs,
// pod specs and containers); deeper levels and other kinds are not checked (README).
// - Create/update (POST/PUT) with `fieldValidation=Strict`: 400 BadRequest
//   `strict decoding error: unknown field "spec.replica"`; with `Warn` (the default): the field is
//   dropped and a `Warning: 299 - "unknown field \"spec.replica\""` header is sent; `Ignore`: dropped.
// - Server-side apply: the applied configuration must fit the schema whatever fieldValidation says:
//   500 `failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.replica:
//   field not declared in schema` (kubernetes/kubernetes#122480, #139253: 500 rather than 400).
import { isRecord, type JsonRecord } from './json.ts';
import { badRequest, failure } from './status.ts';
import type { ResourceType } from './types.ts';

/** Known field names at one level; a nested Shape is checked too, `true` is not looked into. */
type Shape = { [field: string]: Shape | true };

const leaves = (...names: string[]): Shape => Object.fromEntries(names.map((n) => [n, true]));

const META = leaves(
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
);

const CONTAINER = leaves(
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
);

const POD_SPEC: Shape = {
  ...leaves(
    'volumes',
    'ephemeralContainers',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'dnsPolicy',
    'nodeSelector',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'nodeName',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'shareProcessNamespace',
    'securityContext',
    'imagePullSecrets',
    'hostname',
    'subdomain',
    'affinity',
    'schedulerName',
    'tolerations',
    'hostAliases',
    'priorityClassName',
    'priority',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'enableServiceLinks',
    'preemptionPolicy',
    'overhead',
    'topologySpreadConstraints',
    'setHostnameAsFQDN',
    'os',
    'hostUsers',
    'schedulingGates',
    'resourceClaims',
    'resources',
  ),
  containers: CONTAINER,
  initContainers: CONTAINER,
};

const TEMPLATE: Shape = { metadata: META, spec: POD_SPEC };

const top = (extra: Shape): Shape => ({ apiVersion: true, kind: true, metadata: META, ...extra });
const workload = (...specFields: string[]): Shape =>
  top({ spec: { ...leaves(...specFields), template: TEMPLATE }, status: true });

const SHAPES: Record<string, Shape> = {
  '/ConfigMap': top(leaves('data', 'binaryData', 'immutable')),
  '/Secret': top(leaves('data', 'stringData', 'type', 'immutable')),
  '/ServiceAccount': top(leaves('secrets', 'imagePullSecrets', 'automountServiceAccountToken')),
  '/Namespace': top(leaves('spec', 'status')),
  '/Pod': top({ spec: POD_SPEC, status: true }),
  '/Service': top({
    spec: leaves(
      'ports',
      'selector',
      'clusterIP',
      'clusterIPs',
      'type',
      'externalIPs',
      'sessionAffinity',
      'loadBalancerIP',
      'loadBalancerSourceRanges',
      'externalName',
      'externalTrafficPolicy',
      'healthCheckNodePort',
      'publishNotReadyAddresses',
      'sessionAffinityConfig',
      'ipFamilies',
      'ipFamilyPolicy',
      'allocateLoadBalancerNodePorts',
      'loadBalancerClass',
      'internalTrafficPolicy',
      'trafficDistribution',
    ),
    status: true,
  }),
  'apps/Deployment': workload(
    'replicas',
    'selector',
    'strategy',
    'minReadySeconds',
    'revisionHistoryLimit',
    'paused',
    'progressDeadlineSeconds',
  ),
  'apps/ReplicaSet': workload('replicas', 'minReadySeconds', 'selector'),
  'apps/StatefulSet': workload(
    'replicas',
    'selector',
    'volumeClaimTemplates',
    'serviceName',
    'podManagementPolicy',
    'updateStrategy',
    'revisionHistoryLimit',
    'minReadySeconds',
    'persistentVolumeClaimRetentionPolicy',
    'ordinals',
  ),
  'apps/DaemonSet': workload('selector', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'),
  'batch/Job': workload(
    'parallelism',
    'completions',
    'activeDeadlineSeconds',
    'podFailurePolicy',
    'successPolicy',
    'backoffLimit',
    'backoffLimitPerIndex',
    'maxFailedIndexes',
    'selector',
    'manualSelector',
    'ttlSecondsAfterFinished',
    'completionMode',
    'suspend',
    'podReplacementPolicy',
    'managedBy',
  ),
};

/** Kinds without a shape here still get their metadata checked. */
const METADATA_ONLY: Shape = { metadata: META };

function shapeOf(rt: ResourceType): Shape | undefined {
  if (!rt.builtIn) return undefined; // CRD schemas are not used (README)
  return SHAPES[`${rt.group}/${rt.kind}`] ?? METADATA_ONLY;
}

/** Field paths (`spec.replica`, `spec.template.spec.containers[0].imagePullPolicyy`) the schema does not declare. */
function unknownFields(value: unknown, shape: Shape, path: string, out: string[], prune: boolean): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      unknownFields(v, shape, `${path}[${i}]`, out, prune);
    });
    return;
  }
  if (!isRecord(value)) return;
  const isTop = path === '';
  for (const key of Object.keys(value)) {
    const known = shape[key];
    const here = isTop ? key : `${path}.${key}`;
    if (known === undefined) {
      if (isTop && shape === METADATA_ONLY) continue; // only metadata is known for this kind
      out.push(here);
      if (prune) delete value[key];
    } else if (known !== true) unknownFields(value[key], known, here, out, prune);
  }
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** `fieldValidation` of the query: Strict, Warn (default) or Ignore; anything else is 400. */
export function parseFieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${value}"`);
}

/**
 * Create/update bodies: Strict refuses unknown fields (400); Warn and Ignore drop them. Returns the
 * Warning header values (Warn only), as the server sends them.
 */
export function checkBodyFields(rt: ResourceType, body: unknown, mode: FieldValidation): string[] {
  const shape = shapeOf(rt);
  if (!shape || !isRecord(body)) return [];
  const found: string[] = [];
  unknownFields(body, shape, '', found, mode !== 'Strict');
  if (found.length === 0) return [];
  if (mode === 'Strict') {
    const list = found.map((f) => `unknown field "${f}"`);
    throw badRequest(`strict decoding error: ${list.join(', ')}`);
  }
  return mode === 'Warn' ? found.map((f) => `299 - ${JSON.stringify(`unknown field "${f}"`)}`) : [];
}

/** Server-side apply: an applied configuration with a field the schema lacks is refused (500). */
export function checkAppliedFields(rt: ResourceType, config: JsonRecord, namespace: string | undefined): void {
  const shape = shapeOf(rt);
  if (!shape) return;
  const found: string[] = [];
  unknownFields(structuredClone(config), shape, '', found, false);
  if (found.length === 0) return;
  const meta = isRecord(config.metadata) ? config.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const gvk = `${rt.group ? `${rt.group}/` : '/'}${rt.version}, Kind=${rt.kind}`;
  // A plain Go error on the server, so the Status has no reason (kubernetes/kubernetes#122480).
  const err = failure(
    500,
    `failed to create typed patch object (${namespace ? `${namespace}/` : '/'}${name}; ${gvk}): .${found[0]}: field not declared in schema`,
  );
  delete err.status.reason;
  throw err;
}
