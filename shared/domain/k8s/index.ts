/**
 * Pure shaping of Kubernetes objects for output: secret redaction, kubectl-like summary rows,
 * output budgets, log masking, and normalization/diff/hashing for previews and drift baselines.
 * No I/O and no Kubernetes client here.
 */
export { humanDuration, parseTimestamp, sinceTimestamp } from './human-duration.ts';
export { boundLogText, maskLogText } from './log-mask.ts';
export type { Baseline, Change, DiffOptions, DiffResult } from './object-diff.ts';
export { baselineOf, DIFF_VALUE_MAX_CHARS, diffObjects, normalizeForDiff } from './object-diff.ts';
export { canonicalJson, isRecord } from './object-guards.ts';
export type { BoundedRows, BoundedText, BoundTextOptions } from './output-budget.ts';
export { boundRows, boundText } from './output-budget.ts';
export {
  base64ByteLength,
  isSecretObject,
  LAST_APPLIED_ANNOTATION,
  REDACTED_VALUE,
  redactDocuments,
  redactManifestText,
  redactObject,
  redactUnparsedText,
  secretValueDigests,
} from './secret-redaction.ts';
export { labelSelector } from './selectors.ts';
export type { Summary, SummaryCell, SummaryRow } from './summary-rows.ts';
export { EVENT_MESSAGE_MAX_CHARS, hpaTargets, podStatus, printerKind, summarize } from './summary-rows.ts';
