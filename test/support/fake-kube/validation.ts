// The subset of API validation the fake enforces, with the real field paths and messages.
import { asArray, asRecord, asString, asStringMap, deepEqual, getIn, isRecord } from './json.ts';
import { labelSelectorFromObject, matchesLabels } from './selectors.ts';
import { duplicate, type FieldError, forbidden, invalidValue, required } from './status.ts';
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
  if (!name) return [required('metadata.name', 'name or generateName is required')];
  return validateName(name, nameRule(rt), 'metadata.name');
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
    case 'Secret': {
      const data = obj.data;
      if (data !== undefined && !isRecord(data)) errs.push(invalidValue('data', data, 'must be a map'));
      break;
    }
  }
  return errs;
}
