import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { capText } from '../../domain/bounds.ts';
import { runBounded } from '../../domain/concurrency.ts';
import {
  compareWithBaseline,
  compileDriftRules,
  type DriftRules,
  defaultDriftPolicy,
} from '../../domain/drift/index.ts';
import type { Policy } from '../../domain/guardrails/index.ts';
import { canonicalJson } from '../../domain/k8s/index.ts';
import { isSecretKind, redactValue } from '../../domain/redact.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CloudInventory } from '../../ports/cloud.ts';
import { type Clusters, KubeApiError, type KubeClient, type KubeObject, type ResourceInfo } from '../../ports/kube.ts';
import type { Alert, AlertField } from '../../ports/notifier.ts';
import type { Store } from '../../ports/store.ts';
import { sumReconcile } from '../alerts/alerting.ts';
import type { Alerting, ReconcileResult } from '../alerts/types.ts';
import { AppError } from '../errors.ts';
import type { BaselineRecord, Baselines } from '../repos/baselines.ts';
import { type CloudBaselineRecord, CloudBaselines } from '../repos/cloud-baselines.ts';
import { type DriftCounts, DriftFindings, findingKey, type StoredFinding } from '../repos/drift-findings.ts';
import { checkCloudBaselines, cloudResult, isCloudClusterId, isCloudResult } from './cloud.ts';
import type { DriftCheckInput, DriftCheckReport, DriftObjectResult } from './types.ts';

/**
 * The drift check (issue 12): every baseline of the clusters asked about, compared with the live
 * object. One list per kind and namespace set, not a get per object; an unreachable cluster, a kind
 * the cluster no longer serves or an unreadable baseline give error results for the objects
 * concerned, never a skip. The findings replace the ones stored for what the check covered, and
 * when alerting is given, every drifted or deleted object is one alert (its fingerprint is the
 * object's identity, so a change in what drifted updates the alert instead of opening another).
 *
 * With `cloud`, the EKS and GKE clusters adopted as cloud baselines are checked too (./cloud.ts),
 * each as one object of the cluster named by its cloud id. That id is also the name the cluster
 * registry gives a discovered cluster, so a cluster with both object baselines and a cloud baseline
 * is one run: one findings partition and one alert scope hold both. A check without `cloud` (a host
 * that reaches no cloud) leaves earlier cloud findings as they are, and a namespace check never
 * covers a cloud cluster (it has no namespace).
 */

/** What the check uses: `Deps` has all of it but `alerting` and `driftFindings` (built from `store` when absent). */
export interface DriftCheckDeps {
  clusters: Clusters;
  baselines: Baselines;
  store: Store;
  clock: Clock;
  log: Logger;
  policy: Policy;
  alerting?: Alerting;
  driftFindings?: DriftFindings;
  /** The clouds the host reaches (Deps.cloud): given, cloud baselines are checked too. */
  cloud?: CloudInventory;
  /** Built from `store` when absent. */
  cloudBaselines?: CloudBaselines;
}

export const DRIFT_LIMITS = {
  /** Baselines read per cluster; more is an error result saying so. */
  baselinesPerCluster: 50_000,
  listPageSize: 500,
  /** Pages one list may take (with listPageSize, 250,000 objects). */
  listPages: 500,
  /** A kind spread over more namespaces than this is listed across all namespaces, once. */
  namespacesListedOneByOne: 3,
  listConcurrency: 4,
  changesPerObject: 20,
  findingsInReport: 200,
  /** Object alerts per cluster and check; more drifted objects add up in one alert. */
  alertsPerCluster: 200,
  restoreManifestBytes: 8 * 1024,
  errorChars: 300,
} as const;

const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const CLUSTER = /^[A-Za-z0-9@:._/-]{1,253}$/;

type Result = DriftObjectResult;

export async function checkDrift(deps: DriftCheckDeps, input: DriftCheckInput): Promise<DriftCheckReport> {
  if (input.cluster !== undefined && !CLUSTER.test(input.cluster))
    throw new AppError('cluster must be a cluster name as clusters_list shows it (at most 253 characters)');
  if (input.namespace !== undefined && !NAME.test(input.namespace))
    throw new AppError('namespace must be a Kubernetes name (lowercase letters, digits, "-" and ".")');
  const started = deps.clock.now();
  const checkedAt = new Date(started).toISOString();
  const configured = (await deps.clusters.list()).map((c) => c.name);
  const cloudRepo = deps.cloud ? (deps.cloudBaselines ?? new CloudBaselines(deps.store, deps.clock)) : undefined;
  const cloudStored = cloudRepo ? await cloudRepo.list() : { items: [], corruptIds: [] };
  const cloudIds = [...cloudStored.items.map((b) => b.id), ...cloudStored.corruptIds];
  if (input.cluster !== undefined && !configured.includes(input.cluster)) {
    if (!cloudIds.includes(input.cluster)) {
      if (isCloudClusterId(input.cluster)) {
        throw new AppError(
          deps.cloud
            ? `no cloud baseline for ${input.cluster}: adopt it with drift_baselines_adopt cloudCluster ${input.cluster}`
            : `cloud cluster ${input.cluster} is not checked here: this host reaches no cloud`,
        );
      }
      const known = configured.slice(0, 10).join(', ') || 'none';
      throw new AppError(`unknown cluster ${input.cluster}; the configured clusters are: ${known}`);
    }
    if (input.namespace !== undefined)
      throw new AppError(`${input.cluster} is a cloud cluster baseline, which has no namespaces: leave namespace out`);
  }
  const cloudCovered = input.namespace === undefined;
  const clusters =
    input.cluster !== undefined ? [input.cluster] : [...new Set([...configured, ...(cloudCovered ? cloudIds : [])])];
  const rules = compileDriftRules(deps.policy.drift ?? defaultDriftPolicy());
  const findingsRepo = deps.driftFindings ?? new DriftFindings(deps.store, deps.clock);
  const counts: DriftCounts = { objects: 0, clean: 0, drifted: 0, deleted: 0, error: 0 };
  const notClean: Result[] = [];
  let apiCalls = 0;
  let reconcile: ReconcileResult | undefined;

  // Cloud clusters first, all at once (bounded), so a slow provider is waited for once.
  const cloudChecked = new Map<string, Result>();
  let cloudDescribes = 0;
  const tombstones: CloudBaselineRecord[] = [];
  if (deps.cloud && cloudCovered) {
    const inScope = (id: string) => clusters.includes(id);
    const live = cloudStored.items.filter((b) => inScope(b.id) && !b.removedAt);
    tombstones.push(...cloudStored.items.filter((b) => inScope(b.id) && b.removedAt));
    const run = await checkCloudBaselines(
      { cloud: deps.cloud, policy: deps.policy, log: deps.log, clock: deps.clock },
      live,
    );
    cloudDescribes = run.describes;
    for (const [id, r] of run.results) cloudChecked.set(id, r);
    for (const id of cloudStored.corruptIds.filter(inScope)) {
      cloudChecked.set(id, {
        ...cloudResult(id, 'error'),
        error: `the cloud baseline record is unreadable (corrupt in the Store); adopt it again with drift_baselines_adopt cloudCluster ${id}`,
      });
    }
  }

  for (const cluster of clusters) {
    const run = configured.includes(cluster)
      ? await checkCluster(deps, cluster, input.namespace, rules)
      : { results: [], apiCalls: 0 };
    const cloud = cloudChecked.get(cluster);
    if (cloud) run.results.push(cloud);
    apiCalls += run.apiCalls;
    const perNs = new Map<string, DriftCounts>();
    const count = (r: Pick<Result, 'namespace' | 'state'>) => {
      const c = perNs.get(r.namespace) ?? { objects: 0, clean: 0, drifted: 0, deleted: 0, error: 0 };
      c.objects++;
      c[r.state]++;
      perNs.set(r.namespace, c);
    };
    for (const r of run.results) {
      counts.objects++;
      counts[r.state]++;
      count(r);
    }
    const bad = run.results.filter((r) => r.state !== 'clean');
    notClean.push(...bad);
    const previous = await findingsRepo.current(cluster, input.namespace);
    const stored = bad.map((r) => storedOf(r, checkedAt, previous.get(findingKey(r))));
    if (!deps.cloud && cloudCovered) {
      // Not this check's to judge: an earlier cloud finding stays as it is (and its alert open).
      for (const f of previous.values()) {
        if (!isCloudResult(f)) continue;
        stored.push(f);
        count(f);
      }
    }
    await findingsRepo.replace({
      cluster,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      checkedAt,
      findings: stored,
      counts: perNs,
      previous,
    });
    if (deps.alerting) {
      const scope = input.namespace !== undefined ? `${cluster}/${input.namespace}` : cluster;
      const r = await deps.alerting.reconcile({ source: 'drift', scope, firing: alertsOf(cluster, scope, stored) });
      reconcile = reconcile ? sumReconcile(reconcile, r) : r;
    }
    deps.log.info(
      {
        cluster,
        namespace: input.namespace,
        objects: run.results.length,
        notClean: bad.length,
        apiCalls: run.apiCalls,
      },
      'drift check of cluster done',
    );
  }

  const order = { drifted: 0, deleted: 1, error: 2, clean: 3 } as const;
  notClean.sort(
    (a, b) =>
      order[a.state] - order[b.state] ||
      a.cluster.localeCompare(b.cluster) ||
      a.namespace.localeCompare(b.namespace) ||
      a.kind.localeCompare(b.kind) ||
      a.name.localeCompare(b.name),
  );
  // Their findings are cleared and alerts resolved above: the removed baselines can go.
  for (const t of tombstones) await cloudRepo?.forget(t.id);
  const report: DriftCheckReport = {
    checkedAt,
    clusters,
    counts,
    findings: notClean.slice(0, DRIFT_LIMITS.findingsInReport),
    apiCalls,
    ...(cloudDescribes ? { cloudDescribes } : {}),
  };
  if (deps.alerting && reconcile) report.alerts = { reconcile, deliver: await deps.alerting.deliver() };
  return report;
}

interface ClusterRun {
  results: Result[];
  apiCalls: number;
}

const errorText = (err: unknown): string =>
  capText(err instanceof Error ? err.message : String(err), DRIFT_LIMITS.errorChars).replace(/\s+/g, ' ');

function resultOf(
  rec: Pick<BaselineRecord, 'cluster' | 'apiVersion' | 'kind' | 'namespace' | 'name'>,
  state: Result['state'],
): Result {
  return {
    cluster: rec.cluster,
    apiVersion: rec.apiVersion,
    kind: rec.kind,
    namespace: rec.namespace,
    name: rec.name,
    state,
    changes: [],
    changesTotal: 0,
  };
}

const failed = (rec: BaselineRecord, error: string): Result => ({ ...resultOf(rec, 'error'), error });

async function checkCluster(
  deps: DriftCheckDeps,
  cluster: string,
  namespace: string | undefined,
  rules: DriftRules,
): Promise<ClusterRun> {
  const results: Result[] = [];
  const baselines: BaselineRecord[] = [];
  let after: string | undefined;
  do {
    const page = await deps.baselines.list(cluster, { limit: 1000, ...(after ? { after } : {}) });
    for (const b of page.items) if (namespace === undefined || b.namespace === namespace) baselines.push(b);
    for (const sk of page.corruptKeys ?? []) {
      const id = unreadableIdentity(cluster, sk);
      if (namespace === undefined || id.namespace === namespace)
        results.push({
          ...resultOf(id, 'error'),
          error:
            'the baseline record is unreadable (corrupt in the Store); apply the object again or adopt it (drift_baselines_adopt) to record a new one',
        });
    }
    after = page.next;
    if (baselines.length > DRIFT_LIMITS.baselinesPerCluster) {
      throw new AppError(
        `cluster ${cluster} has more than ${DRIFT_LIMITS.baselinesPerCluster} baselines; check one namespace at a time`,
      );
    }
  } while (after);
  if (baselines.length === 0) return { results, apiCalls: 0 };

  let client: KubeClient;
  try {
    client = await deps.clusters.client(cluster);
  } catch (err) {
    const why = `cluster ${cluster} cannot be reached: ${errorText(err)}`;
    return { results: [...results, ...baselines.map((b) => failed(b, why))], apiCalls: 0 };
  }

  // By kind, then namespace: each kind is listed once per namespace set.
  const byKind = new Map<string, BaselineRecord[]>();
  for (const b of baselines) {
    const key = `${b.apiVersion}|${b.kind}`;
    const list = byKind.get(key);
    if (list) list.push(b);
    else byKind.set(key, [b]);
  }
  let apiCalls = 1; // discovery, cached by the client for the kinds below
  const tasks = [...byKind.values()].map((group) => async () => {
    const first = group[0] as BaselineRecord;
    let res: ResourceInfo;
    try {
      res = await client.resolve(first.kind, first.apiVersion);
    } catch (err) {
      const why = `${first.kind} (${first.apiVersion}) is not served by cluster ${cluster}: ${errorText(err)}`;
      for (const b of group) results.push(failed(b, why));
      return;
    }
    const namespaces = [...new Set(group.map((b) => b.namespace))];
    let targets: Array<string | undefined>;
    if (!res.namespaced) targets = [undefined];
    else if (namespace !== undefined) targets = [namespace];
    else if (namespaces.length <= DRIFT_LIMITS.namespacesListedOneByOne) targets = namespaces;
    else targets = [undefined];
    const live = new Map<string, KubeObject>();
    const unlisted = new Map<string | undefined, string>();
    for (const ns of targets) {
      try {
        const calls = await listInto(client, res, ns, live);
        apiCalls += calls;
      } catch (err) {
        if (ns === undefined && res.namespaced && err instanceof KubeApiError && err.status === 403) {
          // No right to list across namespaces: one list per namespace instead.
          for (const one of namespaces) {
            try {
              const calls = await listInto(client, res, one, live);
              apiCalls += calls;
            } catch (inner) {
              unlisted.set(one, errorText(inner));
            }
          }
        } else unlisted.set(ns, errorText(err));
      }
    }
    const compareTarget = rules;
    for (const b of group) {
      const listError = unlisted.get(res.namespaced ? (unlisted.has(undefined) ? undefined : b.namespace) : undefined);
      if (listError !== undefined) {
        results.push(failed(b, `listing ${res.kind} failed: ${listError}`));
        continue;
      }
      results.push(compareOne(b, live.get(`${res.namespaced ? b.namespace : ''}/${b.name}`), compareTarget));
    }
  });
  await runBounded(tasks, DRIFT_LIMITS.listConcurrency);
  return { results, apiCalls };
}

/** Lists every page of a kind in one namespace (all when undefined) into `into`; returns the calls made. */
async function listInto(
  client: KubeClient,
  res: ResourceInfo,
  ns: string | undefined,
  into: Map<string, KubeObject>,
): Promise<number> {
  let cont: string | undefined;
  let calls = 0;
  do {
    if (calls >= DRIFT_LIMITS.listPages) throw new AppError(`more than ${DRIFT_LIMITS.listPages} pages of ${res.kind}`);
    const page = await client.list(res, {
      ...(ns !== undefined ? { namespace: ns } : {}),
      limit: DRIFT_LIMITS.listPageSize,
      ...(cont ? { continue: cont } : {}),
    });
    calls++;
    for (const item of page.items) {
      const name = item.metadata?.name;
      if (typeof name === 'string')
        into.set(`${res.namespaced ? (item.metadata?.namespace ?? ns ?? '') : ''}/${name}`, item);
    }
    cont = page.continue;
  } while (cont);
  return calls;
}

function compareOne(b: BaselineRecord, live: KubeObject | undefined, rules: DriftRules): Result {
  if (b.objectOmittedBytes !== undefined) {
    return failed(
      b,
      `the baseline was too large for the Store (${b.objectOmittedBytes} bytes), so only its hash was kept and fields cannot be compared`,
    );
  }
  if (!live) return { ...resultOf(b, 'deleted'), ...restoreOf(b, 'deleted') };
  const forObject = rules({
    cluster: b.cluster,
    apiVersion: b.apiVersion,
    kind: b.kind,
    namespace: b.namespace,
    name: b.name,
  });
  const d = compareWithBaseline(b.object, live as Record<string, unknown>, {
    maxChanges: DRIFT_LIMITS.changesPerObject,
    ...(forObject ? { rules: forObject } : {}),
  });
  const r: Result = {
    ...resultOf(b, d.changesTotal > 0 ? 'drifted' : 'clean'),
    changes: d.changes,
    changesTotal: d.changesTotal,
  };
  if (d.ignored) r.ignored = d.ignored;
  if (d.ignoredReason) r.ignoredReason = d.ignoredReason;
  return d.changesTotal > 0 ? { ...r, ...restoreOf(b, 'drifted') } : r;
}

/**
 * The k8s_resources_apply call that puts the baseline back (forcing the fields other managers took,
 * when drifted), or a hint when no call can: Secrets and baselines whose values were digested or
 * would be masked are restored from their source, never from here.
 */
function restoreOf(b: BaselineRecord, state: 'drifted' | 'deleted'): Pick<Result, 'restore' | 'restoreHint'> {
  if (isSecretKind(b.kind)) {
    return {
      restoreHint: 'apply the Secret again from its source: only digests of its values are kept, never the values',
    };
  }
  const meta = (b.object.metadata ?? {}) as Record<string, unknown>;
  const manifest: Record<string, unknown> = {
    ...b.object,
    apiVersion: b.apiVersion,
    kind: b.kind,
    metadata: { ...meta, name: b.name, ...(b.namespace ? { namespace: b.namespace } : {}) },
  };
  const text = JSON.stringify(manifest);
  if (
    /\b(?:sha256|hmac-sha256):[0-9a-f]{64}\b/.test(text) ||
    canonicalJson(redactValue(manifest)) !== canonicalJson(manifest)
  ) {
    return {
      restoreHint:
        'apply the object again from its source: its baseline holds secret-looking values only as digests or masked',
    };
  }
  if (Buffer.byteLength(text) > DRIFT_LIMITS.restoreManifestBytes) {
    return {
      restoreHint: `apply the object again from its source: the baseline manifest (${Buffer.byteLength(text)} bytes) is too large to repeat here`,
    };
  }
  return {
    restore: {
      tool: 'k8s_resources_apply',
      arguments: { cluster: b.cluster, manifest: text, ...(state === 'drifted' ? { force: true } : {}) },
    },
  };
}

/** `<group>.<kind>/<namespace>/<name>` (a Baselines sort key) as an object identity. */
function unreadableIdentity(cluster: string, sk: string) {
  const [gk = '', ns = '', ...rest] = sk.split('/');
  const dot = gk.indexOf('.');
  const group = dot < 0 ? '' : gk.slice(0, dot);
  return {
    cluster,
    apiVersion: group === 'core' || group === '' ? 'v1' : `${group}/?`,
    kind: dot < 0 ? gk : gk.slice(dot + 1),
    namespace: ns === '_' ? '' : ns,
    name: rest.join('/'),
  };
}

function storedOf(r: Result, checkedAt: string, prev: StoredFinding | undefined): StoredFinding {
  const s: StoredFinding = { ...r, checkedAt, firstSeenAt: prev?.firstSeenAt ?? checkedAt };
  if (r.state === 'error') {
    const last =
      prev?.state === 'error'
        ? prev.lastDrift
        : prev && (prev.state === 'drifted' || prev.state === 'deleted')
          ? dropStored(prev)
          : undefined;
    if (last) s.lastDrift = last;
  }
  return s;
}

function dropStored(f: StoredFinding): DriftObjectResult {
  const { checkedAt: _c, firstSeenAt: _f, lastDrift: _l, ...rest } = f;
  return rest;
}

export function driftFingerprint(o: Pick<Result, 'cluster' | 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return createHash('sha256')
    .update(['drift', o.cluster, group, o.kind, o.namespace, o.name].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

const groupKey = (cluster: string, namespace: string) => `drift:${cluster}/${namespace || '-'}`;
const objectName = (o: Pick<Result, 'kind' | 'namespace' | 'name'>) =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/** The alerts firing for a cluster's findings: one per drifted or deleted object, one per namespace whose objects could not be compared. */
export function alertsOf(cluster: string, scope: string, findings: StoredFinding[]): Alert[] {
  const out: Alert[] = [];
  let overflow = 0;
  const errors = new Map<string, StoredFinding[]>();
  for (const f of findings) {
    const drift: DriftObjectResult | undefined = f.state === 'error' ? f.lastDrift : f;
    if (f.state === 'error') {
      const list = errors.get(f.namespace) ?? [];
      list.push(f);
      errors.set(f.namespace, list);
    }
    if (!drift) continue;
    if (out.length >= DRIFT_LIMITS.alertsPerCluster) {
      overflow++;
      continue;
    }
    out.push(objectAlert(drift, f.firstSeenAt, f.state === 'error' ? f.error : undefined));
  }
  if (overflow > 0) {
    out.push({
      fingerprint: createHash('sha256').update(`drift\u0000${scope}\u0000overflow`).digest('hex').slice(0, 32),
      // Within the run's scope, or reconcile refuses the run: the namespace of a namespace check.
      groupKey: scope === cluster ? groupKey(cluster, '*') : `drift:${scope}`,
      status: 'firing',
      severity: 'warning',
      summary: `${overflow} more objects drifted on ${cluster} than one check alerts on`,
      fields: [{ label: 'See', value: `drift_findings_list with cluster ${cluster}` }],
      startsAt: findings[0]?.firstSeenAt ?? new Date().toISOString(),
    });
  }
  for (const [ns, list] of errors) {
    const first = list[0] as StoredFinding;
    out.push({
      fingerprint: createHash('sha256')
        .update(`drift\u0000${cluster}\u0000${ns}\u0000error`)
        .digest('hex')
        .slice(0, 32),
      groupKey: groupKey(cluster, ns),
      status: 'firing',
      severity: 'warning',
      summary: `Drift check could not compare ${list.length} object${list.length === 1 ? '' : 's'} in ${cluster}/${ns || '(cluster-scoped)'}`,
      fields: [
        { label: 'First', value: objectName(first) },
        { label: 'Error', value: first.error ?? 'unknown' },
      ],
      startsAt: list.map((f) => f.firstSeenAt).sort()[0] ?? first.checkedAt,
    });
  }
  return out;
}

function objectAlert(r: DriftObjectResult, startsAt: string, stale?: string): Alert {
  const managers = [...new Set(r.changes.map((c) => c.manager).filter((m): m is string => m !== undefined))];
  const by = managers.length ? ` by ${managers.slice(0, 3).join(', ')}` : '';
  const summary =
    r.state === 'deleted'
      ? `${objectName(r)} was deleted (drift from its baseline)`
      : `${objectName(r)} drifted: ${r.changesTotal} field${r.changesTotal === 1 ? '' : 's'} changed${by}`;
  const fields: AlertField[] = [
    { label: 'Object', value: `${objectName(r)} (${r.apiVersion}) on cluster ${r.cluster}` },
  ];
  for (const c of r.changes.slice(0, 15)) {
    fields.push({ label: c.path, value: `${c.baseline} → ${c.live}${c.manager ? ` (by ${c.manager})` : ''}` });
  }
  if (r.changesTotal > 15)
    fields.push({ label: 'More', value: `${r.changesTotal - 15} more changed fields (drift_findings_list)` });
  if (r.restore) {
    const args = r.restore.arguments;
    fields.push({
      label: 'Restore',
      value: `${r.restore.tool} with cluster ${String(args.cluster)}${args.force ? ', force: true' : ''} and the baseline manifest (drift_findings_list shows the call)`,
    });
  } else if (r.restoreHint) fields.push({ label: 'Restore', value: r.restoreHint });
  if (stale) fields.push({ label: 'Note', value: `last known drift; the latest check could not read it: ${stale}` });
  return {
    fingerprint: driftFingerprint(r),
    groupKey: groupKey(r.cluster, r.namespace),
    status: 'firing',
    severity: 'warning',
    summary,
    fields,
    startsAt,
  };
}
