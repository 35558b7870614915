import { z } from 'zod';
import { isSecretKind } from '../../domain/redact.ts';
import { defineTool } from '../tool.ts';
import { args, auditedPatch, kubeTool, namespaceFor, parsePatch, ToolError, target } from './common.ts';
import { changeSummary, findingsText, guardedWrite, liveOrUndefined } from './guarded-write.ts';
import { result } from './render.ts';

export const k8sResourcesPatchTool = defineTool({
  name: 'k8s_resources_patch',
  title: 'Patch an object',
  description:
    'Change part of one object with a strategic, merge or JSON patch, after guardrails and a server-side dry run; ' +
    'dryRun: true returns the diff only. For whole manifests use k8s_resources_apply.',
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
    return kubeTool(async () => {
      const t = await target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, input.apiVersion);
      const namespace = namespaceFor(res, t, input);
      const patch = parsePatch(input.patch, ctx.parsed);
      if (input.patchType === 'json' && !Array.isArray(patch))
        throw new ToolError(
          'a JSON patch is an array of operations: [{"op":"replace","path":"/spec/replicas","value":3}]',
        );
      if (input.patchType !== 'json' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) {
        throw new ToolError(`a ${input.patchType} patch is a JSON object`);
      }
      if (input.patchType === 'strategic' && res.group.includes('.') && !res.group.endsWith('k8s.io')) {
        throw new ToolError(
          `${res.kind} is a custom resource: strategic merge patch is not supported for it; use patchType "merge" or "json"`,
        );
      }
      const live = await liveOrUndefined(t, res, input.name, namespace);
      if (!live)
        throw new ToolError(`${res.kind} ${namespace ? `${namespace}/` : ''}${input.name} not found on ${t.cluster}`);
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'patch',
          res,
          namespace,
          name: input.name,
          // Read again on every attempt: the dry run and the write are pinned to the state judged.
          read: () => t.client.get(res, input.name, namespace),
          perform: (dryRun, pin) =>
            t.client.patch(res, input.name, namespace, patch, input.patchType, {
              dryRun,
              ...(pin ? { precondition: pin } : {}),
            }),
        },
        { previewOnly: input.dryRun === true, live },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const diff = changeSummary(outcome.live ?? live, outcome.after);
      const head =
        outcome.kind === 'preview'
          ? `Dry run on ${t.cluster}; nothing was changed.`
          : `Patched ${res.kind.toLowerCase()}/${input.name} on ${t.cluster}.`;
      return result(`${head}\n${diff.summary}${findingsText(outcome.findings)}`, {
        cluster: t.cluster,
        kind: res.kind,
        name: input.name,
        ...(namespace ? { namespace } : {}),
        dryRun: outcome.kind === 'preview',
        changes: diff.summary,
        diff: diff.changes,
        findings: outcome.findings,
      });
    });
  },
});
