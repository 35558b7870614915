// The subset of API validation the fake enforces, with the real field paths and messages.
import { asArray, asRecord, asString, asStringMap, deepEqual, getIn, isRecord } from './json.ts';
import { labelSelectorFromObject, matchesLabels } from './selectors.ts';
import { duplicate, type FieldError, forbidden, invalidValue, required, tooLong } from './status.ts';
import type { KubeObject, ResourceType } from './types.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path-segment';

function nameRule(rt: ResourceType): NameRule {
  if (!rt.builtIn) return 'path-segment';
  if (rt.plural === 'namespaces') return 'label';
  if (rt.plural === 'services') return 'dns1035';
  return 'subdomain';
}

export function validateName(name: string, rule: NameRule, field: string): FieldError[] {
  switch (rule) {
    case 'subdomain':
      if (name.length > 253) return [invalidValue(field, name, 'must be no more than 253 characters')];
      return DNS1123_SUBDOMAIN.test(name) ? [] : [invalidValue(field, name, SUBDOMAIN_MSG)];
    case 'label':
      if (name.length > 63) return [invalidValue(field, name, 'must be no more than 63 characters')];
      return DNS1123_LABEL.test(name) ? [] : [invalidValue(field, name, LABEL_MSG)];
    case 'dns1035':
      if (name.length > 63) return [invalidValue(field, name, 'must be no more than 63 characters')];
      return DNS1035_LABEL.test(name) ? [] : [invalidValue(field, name, DNS1035_MSG)];
    case 'path-segment':
      if (name === '.' || name === '..') return [invalidValue(field, name, `may not be '${name}'`)];
      if (name.includes('/')) return [invalidValue(field, name, "may not contain '/'")];
      if (name.includes('%')) return [invalidValue(field, name, "may not contain '%'")];
      return [];
  }
}

function validateMeta(obj: KubeObject, rt: ResourceType): FieldError[] {
  const name = obj.metadata.name;
  const errs = name
    ? validateName(name, nameRule(rt), 'metadata.name')
    : [required('metadata.name', 'name or generateName is required')];
  errs.push(...validateLabels(obj.metadata.labels), ...validateAnnotations(obj.metadata.annotations));
  return errs;
}

// k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue; and
// apimachinery/pkg/api/validation ValidateAnnotations (keys lowercased, 256 KiB in total).
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_RE = "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'";
const LABEL_VALUE_MSG = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`;
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  let name = key;
  const errs: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) errs.push(`prefix part ${SUBDOMAIN_MSG}`);
  } else if (parts.length > 2) {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is ${QUALIFIED_NAME_RE}) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) {
    errs.push(
      `name part ${QUALIFIED_NAME_MSG} (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is ${QUALIFIED_NAME_RE})`,
    );
  }
  return errs;
}

function validateLabels(labels: unknown): FieldError[] {
  const map = asRecord(labels);
  if (!map) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(map)) {
    for (const msg of qualifiedNameErrors(k)) errs.push(invalidValue('metadata.labels', k, msg));
    const value = typeof v === 'string' ? v : String(v);
    if (value.length > 63) errs.push(invalidValue('metadata.labels', value, 'must be no more than 63 characters'));
    else if (value !== '' && !QUALIFIED_NAME.test(value))
      errs.push(invalidValue('metadata.labels', value, LABEL_VALUE_MSG));
  }
  return errs;
}

function validateAnnotations(annotations: unknown): FieldError[] {
  const map = asRecord(annotations);
  if (!map) return [];
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(map)) {
    for (const msg of qualifiedNameErrors(k.toLowerCase())) errs.push(invalidValue('metadata.annotations', k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : String(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

// pkg/apis/core/validation: IsConfigMapKey for ConfigMap and Secret keys; core.MaxSecretSize (1 MiB)
// for the whole of a ConfigMap's data+binaryData, and for a Secret's data.
export const MAX_SECRET_SIZE = 1024 * 1024;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function configKeyErrors(key: string, field: string): FieldError[] {
  if (key.length > 253) return [invalidValue(field, key, 'must be no more than 253 characters')];
  if (!CONFIG_KEY.test(key)) return [invalidValue(field, key, CONFIG_KEY_MSG)];
  if (key === '.' || key === '..') return [invalidValue(field, key, `must not be '${key}'`)];
  if (key.startsWith('..')) return [invalidValue(field, key, "must not start with '..'")];
  return [];
}

function validateDataMaps(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = obj.data;
  const binary = obj.binaryData;
  if (data !== undefined && !isRecord(data)) return [invalidValue('data', data, 'must be a map')];
  let total = 0;
  for (const [k, v] of Object.entries(asRecord(data) ?? {})) {
    errs.push(...configKeyErrors(k, `data[${k}]`));
    const value = typeof v === 'string' ? v : String(v);
    // Secret data travels base64-encoded; its size is the decoded bytes.
    total +=
      (obj.kind === 'Secret' ? 0 : Buffer.byteLength(k)) +
      (obj.kind === 'Secret' ? Buffer.from(value, 'base64').length : Buffer.byteLength(value));
  }
  if (obj.kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(asRecord(binary) ?? {})) {
      errs.push(...configKeyErrors(k, `binaryData[${k}]`));
      if (isRecord(data) && k in data)
        errs.push(invalidValue(`binaryData[${k}]`, k, 'duplicate of key present in data'));
      total += Buffer.byteLength(k) + Buffer.from(typeof v === 'string' ? v : '', 'base64').length;
    }
    if (total > MAX_SECRET_SIZE) errs.push(tooLong('[]', MAX_SECRET_SIZE));
  } else if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  return errs;
}

function validateContainers(spec: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers = getIn(spec, ['containers']);
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${path}.containers`)];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const cPath = `${path}.containers[${i}]`;
    const name = asString(getIn(c, ['name']));
    if (!name) errs.push(required(`${cPath}.name`));
    else {
      errs.push(...validateName(name, 'label', `${cPath}.name`));
      if (seen.has(name)) errs.push(duplicate(`${cPath}.name`, name));
      seen.add(name);
    }
    if (!asString(getIn(c, ['image']))) errs.push(required(`${cPath}.image`));
  });
  return errs;
}

function validateWorkload(obj: KubeObject, rt: ResourceType, old: KubeObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const spec = asRecord(obj.spec);
  const replicas = spec?.replicas;
  if (typeof replicas === 'number' && replicas < 0) {
    errs.push(invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  const selectorObj = spec?.selector;
  const selector = labelSelectorFromObject(selectorObj);
  const templateLabels = asStringMap(getIn(spec, ['template', 'metadata', 'labels']));
  if (selector === undefined) {
    errs.push(required('spec.selector'));
  } else if (selector.length === 0) {
    errs.push(invalidValue('spec.selector', selectorObj, 'empty selector is invalid for deployment'));
  } else if (!matchesLabels(selector, templateLabels)) {
    errs.push(
      invalidValue('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'),
    );
  }
  if (old && rt.group === 'apps' && !deepEqual(getIn(old, ['spec', 'selector']), selectorObj)) {
    errs.push(invalidValue('spec.selector', selectorObj, 'field is immutable'));
  }
  errs.push(...validateContainers(getIn(spec, ['template', 'spec']), 'spec.template.spec'));
  return errs;
}

function validateService(obj: KubeObject): FieldError[] {
  const spec = asRecord(obj.spec);
  const type = asString(spec?.type) ?? 'ClusterIP';
  const headless = spec?.clusterIP === 'None';
  const ports = asArray(spec?.ports);
  if (ports.length === 0 && type !== 'ExternalName' && !headless) return [required('spec.ports')];
  const errs: FieldError[] = [];
  ports.forEach((p, i) => {
    const port = getIn(p, ['port']);
    if (typeof port !== 'number') errs.push(required(`spec.ports[${i}].port`));
    else if (port < 1 || port > 65535) {
      errs.push(invalidValue(`spec.ports[${i}].port`, port, 'must be between 1 and 65535, inclusive'));
    }
    if (ports.length > 1 && !asString(getIn(p, ['name']))) errs.push(required(`spec.ports[${i}].name`));
  });
  return errs;
}

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** The parts of a pod spec an update may not change (images, tolerations and deadlines may change; nodeName may be set once). */
function immutablePodSpec(spec: unknown, nodeNameFrom: unknown): unknown {
  const copy = asRecord(structuredClone(spec)) ?? {};
  for (const list of ['containers', 'initContainers']) {
    for (const c of asArray(copy[list])) if (isRecord(c)) delete c.image;
  }
  delete copy.tolerations;
  delete copy.activeDeadlineSeconds;
  delete copy.terminationGracePeriodSeconds;
  if (!nodeNameFrom) delete copy.nodeName;
  return copy;
}

/** Errors for a create (old undefined) or update of `obj`. */
export function validateObject(obj: KubeObject, rt: ResourceType, old?: KubeObject): FieldError[] {
  const errs = validateMeta(obj, rt);
  if (!rt.builtIn) return errs;
  switch (rt.kind) {
    case 'Pod':
      errs.push(...validateContainers(obj.spec, 'spec'));
      if (old) {
        const oldNode = getIn(old, ['spec', 'nodeName']);
        if (!deepEqual(immutablePodSpec(old.spec, oldNode), immutablePodSpec(obj.spec, oldNode))) {
          errs.push(forbidden('spec', POD_UPDATE_FORBIDDEN));
        }
      }
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      errs.push(...validateWorkload(obj, rt, old));
      break;
    case 'Service':
      errs.push(...validateService(obj));
      break;
    case 'ConfigMap':
    case 'Secret':
      errs.push(...validateDataMaps(obj));
      // ValidateConfigMapUpdate / ValidateSecretUpdate: `immutable: true` freezes the data for good.
      if (old && old.immutable === true) {
        const frozen = 'field is immutable when `immutable` is set';
        if (obj.immutable !== true) errs.push(forbidden('immutable', frozen));
        if (!deepEqual(obj.data, old.data)) errs.push(forbidden('data', frozen));
        if (rt.kind === 'ConfigMap' && !deepEqual(obj.binaryData, old.binaryData))
          errs.push(forbidden('binaryData', frozen));
      }
      break;
  }
  return errs;
}
