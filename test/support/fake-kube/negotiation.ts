// Content negotiation as the API server does it for every resource endpoint (pods/log included).
//
// The real server negotiates the response type against the serializers of the API group
// (k8s.io/apimachinery/pkg/runtime/serializer: JSON, YAML, protobuf), not against what a
// subresource happens to return. pods/log answers text/plain, yet `Accept: text/plain` is refused
// with 406 NotAcceptable (kubernetes/kubernetes#61450, the closed PR #98554, kubernetes-client/c#179):
//   only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf
// The message is errNotAcceptable from k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go.
// A missing Accept header, `*/*` and `application/*` are accepted (the first served type is used).
// Request bodies are decoded the same way: an unknown Content-Type is 415 UnsupportedMediaType.
import { failure, unsupportedMediaType } from './status.ts';

export const SERVED_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

export type OutputFormat = 'json' | 'yaml' | 'protobuf';

const FORMAT_OF: Record<string, OutputFormat> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/vnd.kubernetes.protobuf': 'protobuf',
};

interface Clause {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

function parseAccept(header: string): Clause[] {
  const clauses: Clause[] = [];
  for (const [index, part] of header.split(',').entries()) {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) continue;
    const [type, subtype] = range.toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q' && v !== undefined && !Number.isNaN(Number(v))) q = Number(v);
    }
    clauses.push({ type, subtype, q, index });
  }
  // goautoneg order: higher q first, then the more specific range, then header order.
  const specificity = (c: Clause) => (c.type === '*' ? 0 : c.subtype === '*' ? 1 : 2);
  return clauses.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
}

export function notAcceptable(): ReturnType<typeof failure> {
  return failure(406, `only the following media types are accepted: ${SERVED_MEDIA_TYPES.join(', ')}`, 'NotAcceptable');
}

/** The response format for an Accept header, or a 406 NotAcceptable Status error. */
export function negotiateOutput(accept: string | undefined): OutputFormat {
  if (accept === undefined || accept.trim() === '') return 'json';
  for (const c of parseAccept(accept)) {
    if (c.type === '*' && c.subtype === '*') return 'json';
    if (c.type === 'application' && c.subtype === '*') return 'json';
    const format = FORMAT_OF[`${c.type}/${c.subtype}`];
    if (format) return format;
  }
  throw notAcceptable();
}

/** The decoder for a request body's Content-Type (no header means JSON), or 415. */
export function bodyFormat(contentType: string | undefined): 'json' | 'yaml' {
  if (contentType === undefined || contentType.trim() === '') return 'json';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') return 'json';
  if (type === 'application/yaml') return 'yaml';
  // Protobuf bodies are valid on a real server for built-in types; the fake cannot decode them.
  throw unsupportedMediaType(SERVED_MEDIA_TYPES);
}
