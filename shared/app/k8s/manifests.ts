import { PARSE_LIMITS, type ParseCache, type ParseFailure, type ParseLimits } from '../../domain/input/index.ts';
import type { KubeObject } from '../../domain/k8s/model.ts';
import { redactParsedManifest } from '../../domain/k8s/secret-redaction.ts';
import { AppError } from '../errors.ts';

/** The limits manifests and patches are parsed with: the same in a use case and in its audit hook, so one parse serves both. */
export const MANIFEST_PARSE: Partial<ParseLimits> = {};
export const PATCH_PARSE: Partial<ParseLimits> = { maxDocuments: 1 };

/**
 * Parses YAML or JSON text into Kubernetes objects through the request's bounded parser (a List's
 * items count as objects); every object needs apiVersion, kind and metadata.name. The objects are
 * frozen: copy before changing one.
 */
export function parseManifests(text: string, parsed: ParseCache): KubeObject[] {
  const outcome = parsed.parse(text, MANIFEST_PARSE);
  if (!outcome.ok) throw new AppError(refusalMessage('manifest', outcome.error));
  const out: KubeObject[] = [];
  for (const [i, value] of outcome.value.docs.entries()) {
    if (value === null || value === undefined) continue;
    const items = isList(value) ? (value.items as unknown[]) : [value];
    for (const item of items) {
      if (!item || typeof item !== 'object' || Array.isArray(item))
        throw new AppError(`manifest document ${i + 1} is not an object`);
      const o = item as KubeObject;
      const missing = ['apiVersion', 'kind'].filter((k) => typeof o[k] !== 'string');
      if (!o.metadata?.name) missing.push('metadata.name');
      if (missing.length) throw new AppError(`manifest document ${i + 1} lacks ${missing.join(', ')}`);
      out.push(o);
    }
  }
  if (out.length === 0) throw new AppError('the manifest has no documents');
  return out;
}

/** Parses a patch (one JSON or YAML document) through the request's bounded parser; the value is frozen. */
export function parsePatch(text: string, parsed: ParseCache): unknown {
  const outcome = parsed.parse(text, PATCH_PARSE);
  if (!outcome.ok) throw new AppError(refusalMessage('patch', outcome.error));
  if (outcome.value.docs.length === 0) throw new AppError('patch is empty');
  return outcome.value.docs[0];
}

/**
 * A manifest argument as the audit trail keeps it: the use case's parse, redacted (Secret values,
 * secret-named env and ConfigMap values) and written out again; for text that does not parse, a
 * bounded marker with its size and the reason, never the text.
 */
export function auditedManifest(text: string, parsed: ParseCache): string {
  const outcome = parsed.parse(text, MANIFEST_PARSE);
  return outcome.ok ? redactParsedManifest(outcome.value, text) : unparsedMarker('manifest', text, outcome.error);
}

/** A patch argument for the audit trail: the text as sent when it parses (generic redaction masks it), else a bounded marker. */
export function auditedPatch(text: string, parsed: ParseCache): string {
  const outcome = parsed.parse(text, PATCH_PARSE);
  return outcome.ok ? text : unparsedMarker('patch', text, outcome.error);
}

const unparsedMarker = (what: string, text: string, error: ParseFailure): string =>
  `[unparseable ${what}, ${Buffer.byteLength(text, 'utf8')} bytes, not recorded: ${error.message}]`;

/** What to do about each refusal: the message itself names the limit and the place. */
const REFUSAL_FIX: Record<ParseFailure['refusal'], string> = {
  bytes: 'Split it into several calls.',
  documents: 'Split it into several calls.',
  nodes: 'Split it into several calls.',
  expanded: 'Write the values out instead of using anchors and aliases.',
  anchors: 'Write the values out instead of using anchors and aliases.',
  aliases: 'Write the values out instead of using anchors and aliases.',
  alias: 'Write the values out instead of using anchors and aliases.',
  'merge-key': 'Write the merged fields out.',
  'duplicate-key': 'Keep one of them: the API server would silently take only one.',
  depth: 'No Kubernetes object nests this deep; check the text.',
  scalar: `Values of more than ${PARSE_LIMITS.maxScalarChars} characters are not accepted here; apply such objects with kubectl.`,
  tag: 'Remove the tag: write plain YAML or JSON.',
  directive: 'Remove the directive: write plain YAML or JSON.',
  characters: 'Remove the character, or escape it inside a double-quoted string.',
  key: 'Use plain string keys.',
  number: 'Quote the value or use a finite number.',
  syntax: 'Fix the text and retry.',
};

function refusalMessage(what: 'manifest' | 'patch', error: ParseFailure): string {
  return `${what} not accepted: ${error.message}. ${REFUSAL_FIX[error.refusal]}`;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown };
  return typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}
