/**
 * Masking for container logs: the one text redaction (maskSecretsInText in shared/domain/redact.ts,
 * which also knows the token formats and `NAME=value` fields common in logs), bounded for output.
 */
import { maskSecretsInText } from '../redact.ts';
import type { BoundedText } from './output-budget.ts';
import { boundText } from './output-budget.ts';

/** Container log text with credentials masked: the same rules as every other path. */
export function maskLogText(text: string): string {
  return maskSecretsInText(text);
}

/** maskLogText then boundText(…, 'start'): masking first, so a cut never leaves half a credential. */
export function boundLogText(text: string, budgetBytes: number): BoundedText {
  return boundText(maskLogText(text), budgetBytes, 'start');
}
