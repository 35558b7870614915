// metav1.Status errors with the reasons, messages and details the real API server uses.
import type { KubeStatus, KubeStatusCause, ResourceType } from './types.ts';

const reasonByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonForCode(code: number): string {
  return reasonByCode[code] ?? 'Unknown';
}

/** An error that the HTTP layer turns into a Status body with `status.code` as the HTTP status. */
export class KubeApiError extends Error {
  readonly status: KubeStatus;
  constructor(status: KubeStatus) {
    super(status.message ?? status.reason ?? 'error');
    this.name = 'KubeApiError';
    this.status = status;
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

export function failure(
  code: number,
  message: string,
  reason: string = reasonForCode(code),
  details?: KubeStatus['details'],
): KubeApiError {
  const status: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details !== undefined) status.details = details;
  status.code = code;
  return new KubeApiError(status);
}

/** `pods`, `deployments.apps`: how the server names a resource in messages. */
export function qualifiedResource(rt: Pick<ResourceType, 'plural' | 'group'>): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

function resourceDetails(rt: Pick<ResourceType, 'plural' | 'group'>, name: string): KubeStatus['details'] {
  return rt.group ? { name, group: rt.group, kind: rt.plural } : { name, kind: rt.plural };
}

export function notFound(rt: Pick<ResourceType, 'plural' | 'group'>, name: string): KubeApiError {
  return failure(404, `${qualifiedResource(rt)} "${name}" not found`, 'NotFound', resourceDetails(rt, name));
}

export function alreadyExists(rt: Pick<ResourceType, 'plural' | 'group'>, name: string): KubeApiError {
  return failure(409, `${qualifiedResource(rt)} "${name}" already exists`, 'AlreadyExists', resourceDetails(rt, name));
}

export function conflict(rt: Pick<ResourceType, 'plural' | 'group'>, name: string): KubeApiError {
  return failure(
    409,
    `Operation cannot be fulfilled on ${qualifiedResource(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    'Conflict',
    resourceDetails(rt, name),
  );
}

export function badRequest(message: string): KubeApiError {
  return failure(400, message, 'BadRequest');
}

export function methodNotAllowed(): KubeApiError {
  return failure(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed', {});
}

export function resourceNotServed(): KubeApiError {
  return failure(404, 'the server could not find the requested resource', 'NotFound', {});
}

export function unsupportedMediaType(accepted: readonly string[]): KubeApiError {
  return failure(
    415,
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    'UnsupportedMediaType',
  );
}

export function expired(message: string): KubeApiError {
  return failure(410, message, 'Expired');
}

/** One field.Error: its field path, cause reason and the text after `field: `. */
export interface FieldError {
  field: string;
  reason:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueNotSupported';
  detail: string;
}

export function required(field: string, detail?: string): FieldError {
  return { field, reason: 'FieldValueRequired', detail: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalidValue(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: 'FieldValueInvalid', detail: `Invalid value: ${goValue(value)}: ${detail}` };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { field, reason: 'FieldValueDuplicate', detail: `Duplicate value: ${goValue(value)}` };
}

/** field.TooLong as apimachinery renders it for byte limits (`[]: Too long: must have at most 1048576 bytes`). */
export function tooLong(field: string, maxBytes: number): FieldError {
  return { field, reason: 'FieldValueTooLong', detail: `Too long: must have at most ${maxBytes} bytes` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { field, reason: 'FieldValueForbidden', detail: `Forbidden: ${detail}` };
}

/** Renders a value roughly the way Go's %#v / %q does in apimachinery field errors. */
export function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}:${goValue(v)}`)
      .join(', ');
    return `map[string]string{${entries}}`;
  }
  return JSON.stringify(value);
}

/** 422 Invalid: `Deployment.apps "web" is invalid: [a: Required value, b: Invalid value: ...]`. */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): KubeApiError {
  const rendered = errors.map((e) => `${e.field}: ${e.detail}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const causes: KubeStatusCause[] = errors.map((e) => ({ reason: e.reason, message: e.detail, field: e.field }));
  const details: NonNullable<KubeStatus['details']> = {};
  if (name) details.name = name;
  if (group) details.group = group;
  details.kind = kind;
  details.causes = causes;
  return failure(422, `${qualifiedKind} "${name}" is invalid: ${summary}`, 'Invalid', details);
}

export function successStatus(rt: ResourceType, name: string, uid: string | undefined): KubeStatus {
  const details: NonNullable<KubeStatus['details']> = { name };
  if (rt.group) details.group = rt.group;
  details.kind = rt.plural;
  if (uid) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
