import * as z from 'zod';
import { auditedPatch } from '../../app/k8s/manifests.ts';
import { patchObject } from '../../app/writes/patch.ts';
import { isSecretKind } from '../../domain/redact.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sResourcesPatchTool = defineTool({
  name: 'k8s_resources_patch',
  title: 'Patch an object',
  description:
    'Change part of one object; dryRun: true returns the diff only. For whole manifests use k8s_resources_apply.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    kind: args.kind,
    apiVersion: args.apiVersion,
    namespace: args.namespace,
    name: args.name,
    patch: z.string().min(2).describe('The patch as JSON (or YAML)'),
    patchType: z.enum(['strategic', 'merge', 'json']).default('strategic').describe('strategic needs a built-in kind'),
    dryRun: args.dryRun,
  }),
  output: z.object({ dryRun: z.boolean(), changes: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  // A patch of a Secret carries its values: keep only that it happened. The kind is matched the way
  // the resolver reads it (kind, singular or plural, any case, with or without a `.group` hint).
  auditArgs: (a, parsed) =>
    isSecretKind(a.kind)
      ? { ...a, patch: '[REDACTED: patch of a Secret]' }
      : typeof a.patch === 'string'
        ? { ...a, patch: auditedPatch(a.patch, parsed) }
        : a,
  async handler(input, ctx) {
    return answer(async () => {
      const r = await patchObject(ctx.deps, ctx, input);
      const head = r.dryRun
        ? `Dry run on ${r.cluster}; nothing was changed.`
        : `Patched ${r.kind.toLowerCase()}/${input.name} on ${r.cluster}.`;
      return result(`${head}\n${r.diff.summary}${findingsText(r.findings)}`, {
        cluster: r.cluster,
        kind: r.kind,
        name: input.name,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        dryRun: r.dryRun,
        changes: r.diff.summary,
        diff: r.diff.changes,
        findings: r.findings,
      });
    });
  },
});
