import type { Finding } from '../../domain/guardrails/index.ts';
import { quoted } from '../../domain/text.ts';
import type { KubeObject } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import { AppError, RefusedError } from '../errors.ts';
import { namespaceFor, target } from '../k8s/objects.ts';
import { guardedWrite, isStaleWrite, pinOf } from './guarded-write.ts';

export interface DeleteRequest {
  cluster?: string | undefined;
  kind: string;
  apiVersion?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  labelSelector?: string | undefined;
  maxCount?: number | undefined;
  dryRun?: boolean | undefined;
}

export type DeleteResult =
  /** A selector that matched nothing: nothing to judge or delete. */
  | { matched: false; cluster: string; kind: string; dryRun: boolean }
  | {
      matched: true;
      cluster: string;
      kind: string;
      namespace: string | undefined;
      dryRun: boolean;
      /** The names deleted, or that a dry run would delete. */
      names: string[];
      findings: Finding[];
    };

/**
 * Deletes one object by name, or those a label selector matches up to maxCount, as one guarded
 * write: guardrails see the whole delete (count included) before anything is removed.
 */
export async function deleteObjects(deps: Deps, input: DeleteRequest): Promise<DeleteResult> {
  if (!input.name === !input.labelSelector) throw new AppError('give either name or labelSelector (with maxCount)');
  if (input.labelSelector && input.maxCount === undefined) {
    throw new AppError('deleting by labelSelector needs maxCount: the most objects you expect to delete');
  }
  const t = await target(deps, input.cluster);
  const res = await t.client.resolve(input.kind, input.apiVersion);
  if (!res.verbs.includes('delete')) throw new AppError(`${res.kind} cannot be deleted`);
  const namespace = namespaceFor(res, t, input);
  let targets: KubeObject[];
  if (input.name) {
    targets = [await t.client.get(res, input.name, namespace)];
  } else {
    const max = input.maxCount as number;
    const page = await t.client.list(res, {
      ...(namespace ? { namespace } : {}),
      labelSelector: input.labelSelector as string,
      limit: max + 1,
    });
    const matched = page.items.length + (page.remainingItemCount ?? 0);
    if (page.items.length > max || page.continue) {
      throw new AppError(
        `${matched > max ? matched : `more than ${max}`} ${res.kind} objects match "${quoted(String(input.labelSelector))}", over maxCount ${max}; nothing was deleted. Narrow the selector or raise maxCount.`,
      );
    }
    targets = page.items;
  }
  if (targets.length === 0)
    return { matched: false, cluster: t.cluster, kind: res.kind, dryRun: input.dryRun === true };

  const names = targets.map((o) => o.metadata?.name);
  if (!names.every((n): n is string => typeof n === 'string' && n.length > 0)) {
    throw new AppError(`the API server answered with ${res.kind} objects without a name; nothing was deleted`);
  }
  // Each object is deleted only as it was listed and judged (its uid and resourceVersion): one
  // recreated under the same name, or changed since (relabelled out of the selector), stays.
  const pins = new Map(targets.map((o) => [o.metadata?.name as string, pinOf(o)]));
  const deleted: string[] = [];
  const outcome = await guardedWrite(
    deps,
    t,
    {
      verb: 'delete',
      res,
      namespace,
      name:
        names.length === 1 ? (names[0] as string) : `${names.length} objects (${quoted(String(input.labelSelector))})`,
      count: names.length,
      ...(input.name ? {} : { targets: names }),
      // By name: read again on every attempt, so a conflict is judged again from a fresh read.
      ...(input.name ? { read: () => t.client.get(res, input.name as string, namespace) } : {}),
      perform: async (dryRun, pin) => {
        for (const n of names) {
          const precondition = input.name ? pin : pins.get(n);
          try {
            await t.client.delete(res, n, namespace, { dryRun, ...(precondition ? { precondition } : {}) });
          } catch (err) {
            if (dryRun || !isStaleWrite(err) || deleted.length === 0) throw err;
            throw new AppError(
              `Deleted ${deleted.join(', ')}; ${res.kind} ${n} changed on ${t.cluster} after it was listed and judged, so it and the rest (${names.slice(names.indexOf(n)).join(', ')}) were not deleted. List again and retry.`,
            );
          }
          if (!dryRun) deleted.push(n);
        }
        return {};
      },
    },
    { previewOnly: input.dryRun === true },
  );
  if (outcome.kind === 'refused') throw new RefusedError(outcome.refusal);
  return {
    matched: true,
    cluster: t.cluster,
    kind: res.kind,
    namespace,
    dryRun: outcome.kind === 'preview',
    names,
    findings: outcome.findings,
  };
}
