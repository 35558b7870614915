import type { Operation } from './repos/operations.ts';

/** An operation as tools show it: one short paragraph for the model, the record for code. */
export function describeOperation(op: Operation): { text: string; structured: Record<string, unknown> } {
  const t = op.target;
  const steps = op.steps.map((s) => `${statusMark(s.status)} ${s.name}${s.detail ? `: ${s.detail}` : ''}`).join('\n');
  const next = op.progress.nextActions.length ? `\nNext: ${op.progress.nextActions.join(', ')}` : '';
  const text =
    `${op.id} ${op.kind} ${t.kind.toLowerCase()}/${t.name} in ${t.namespace} on ${t.cluster}: ${op.status.toUpperCase()} — ${op.statusMessage}` +
    (steps ? `\n${steps}` : '') +
    next;
  return {
    text,
    structured: {
      operationId: op.id,
      kind: op.kind,
      status: op.status,
      statusMessage: op.statusMessage,
      target: op.target,
      requester: op.requester.name,
      steps: op.steps,
      progress: op.progress,
      ...(op.result ? { result: op.result } : {}),
      // An incomplete rollback: what is left, how many retries, when the next one is due.
      ...(op.rollback ? { rollback: op.rollback } : {}),
      ...(op.approval?.required ? { approvalRequired: true } : {}),
      createdAt: op.createdAt,
      updatedAt: op.updatedAt,
      pollIntervalMs: op.pollIntervalMs,
    },
  };
}

function statusMark(s: string): string {
  return (
    ({ pending: '[ ]', running: '[>]', done: '[x]', failed: '[!]', skipped: '[-]' } as Record<string, string>)[s] ??
    '[?]'
  );
}
