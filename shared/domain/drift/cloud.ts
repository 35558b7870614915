/**
 * Drift of an EKS or GKE cluster (issue 13): the facts recorded when the cluster was adopted (its
 * cloud baseline) against the facts the provider describes now, field by field. Only what an
 * operator decides is recorded, so only that can drift:
 * - EKS: the control-plane version; per managed node group its desired/min/max size, Kubernetes
 *   version, instance types and capacity type; per add-on its version. Not recorded: the platform
 *   version (`eks.N`: AWS moves it within a Kubernetes version on its own, so it is never anyone's
 *   change), statuses, health and insights. A cluster autoscaler moves desiredSize within min/max:
 *   with `drift.cloud.ignoreDesiredSize: true` a changed desiredSize is counted as ignored.
 * - GKE: the control-plane and node versions, compared by minor version (GKE applies patch upgrades
 *   itself: the control plane's always, the nodes' with auto-upgrade, the default); per node pool its
 *   version (the same way), machine type, autoscaling bounds (per zone and total) and location
 *   policy, nodes per zone at creation and zones. An autoscaled pool's current size is not a fact
 *   here (only its configured bounds are), and node pools of Autopilot clusters are Google's.
 * A node group, add-on or node pool gone is a change to `(absent)`; a new one is a change from
 * `(absent)` (added). Differences are shown as display text, like object drift (compare.ts).
 */
import { capText } from '../bounds.ts';
import { ABSENT, DRIFT_VALUE_MAX_CHARS, type DriftFieldChange } from './compare.ts';
import { displayPath, type PathSeg } from './paths.ts';

export interface EksNodegroupFacts {
  name: string;
  desiredSize?: number;
  minSize?: number;
  maxSize?: number;
  /** Kubernetes minor version of the nodes (`1.30`). */
  version?: string;
  /** Sorted. */
  instanceTypes: string[];
  /** ON_DEMAND, SPOT, CAPACITY_BLOCK. */
  capacityType?: string;
}

export interface EksAddonFacts {
  name: string;
  version?: string;
}

export interface EksClusterFacts {
  provider: 'eks';
  /** Control-plane Kubernetes version (`1.30`). */
  version?: string;
  /** By name; absent when the node groups could not be listed completely at adoption (not compared). */
  nodegroups?: EksNodegroupFacts[];
  /** By name; absent when the add-ons could not be listed completely at adoption (not compared). */
  addons?: EksAddonFacts[];
}

export interface GkeAutoscalingFacts {
  minNodeCount?: number;
  maxNodeCount?: number;
  totalMinNodeCount?: number;
  totalMaxNodeCount?: number;
  locationPolicy?: string;
}

export interface GkeNodePoolFacts {
  name: string;
  version?: string;
  machineType?: string;
  /** Absent: autoscaling is off (its presence is compared too). */
  autoscaling?: GkeAutoscalingFacts;
  initialNodeCountPerZone?: number;
  /** Sorted. */
  zones: string[];
}

export interface GkeClusterFacts {
  provider: 'gke';
  /** Control-plane version (currentMasterVersion, `1.30.5-gke.1014001`). */
  version?: string;
  /** Oldest node version (currentNodeVersion). */
  nodeVersion?: string;
  autopilot: boolean;
  /** By name; absent for Autopilot clusters and when the pools could not all be read at adoption. */
  nodePools?: GkeNodePoolFacts[];
}

export type CloudClusterFacts = EksClusterFacts | GkeClusterFacts;

/** Bounds of what one baseline records (EKS allows 30 managed node groups per cluster by default; a real cluster has far fewer add-ons or pools). */
export const CLOUD_FACT_LIMITS = {
  items: 100,
  instanceTypes: 20,
  zones: 50,
  textChars: 253,
} as const;

/** Where the cluster is, for the restore commands a finding suggests. */
export type CloudClusterRef =
  | { provider: 'eks'; id: string; account: string; region: string; name: string }
  | { provider: 'gke'; id: string; project: string; location: string; name: string };

export interface CloudCompareOptions {
  /** drift.cloud.ignoreDesiredSize: an EKS node group's desiredSize is a cluster autoscaler's, not drift. */
  ignoreDesiredSize?: boolean;
  /** Changes listed in full (default 20); the rest are counted. */
  maxChanges?: number;
}

export interface CloudDrift {
  changes: DriftFieldChange[];
  changesTotal: number;
  ignored: number;
  ignoredReason?: string;
  /** Sections the baseline has that the live description lacks (could not be listed): not compared. */
  uncompared: Array<'nodegroups' | 'addons' | 'nodePools'>;
  /** Commands that put recorded values back where the provider can (sizes, add-on versions, pool settings). */
  restoreCommands: string[];
  /** Whether some change has no such command (versions only go up, instance types need a new node group). */
  needsOtherRestore: boolean;
}

const COMMAND_TOKEN = /^[A-Za-z0-9._:,=/-]{1,253}$/;
const IGNORE_DESIRED = 'drift.cloud.ignoreDesiredSize: a cluster autoscaler sets desiredSize';
const GKE_PATCH = 'GKE applies patch upgrades itself: versions are compared by minor version';

/** `1.30` of `1.30.5-gke.1014001` (and of `1.30`); undefined when not a version. */
export function minorVersion(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^v?(\d+)\.(\d+)(?:\.|$|-)/.exec(v);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** Compares a cloud cluster's baseline facts with its live facts (both from the same provider). */
export function compareCloudFacts(
  ref: CloudClusterRef,
  baseline: CloudClusterFacts,
  live: CloudClusterFacts,
  opts: CloudCompareOptions = {},
): CloudDrift {
  const d = new CloudDiff(Math.max(0, opts.maxChanges ?? 20));
  if (baseline.provider !== live.provider) {
    d.change([{ key: 'provider' }], baseline.provider, live.provider);
    return d.result();
  }
  if (baseline.provider === 'eks' && live.provider === 'eks' && ref.provider === 'eks')
    compareEks(d, ref, baseline, live, opts);
  else if (baseline.provider === 'gke' && live.provider === 'gke' && ref.provider === 'gke')
    compareGke(d, ref, baseline, live);
  return d.result();
}

function compareEks(
  d: CloudDiff,
  ref: Extract<CloudClusterRef, { provider: 'eks' }>,
  b: EksClusterFacts,
  l: EksClusterFacts,
  opts: CloudCompareOptions,
): void {
  d.scalar([{ key: 'version' }], b.version, l.version);
  const where = `--region ${ref.region} --cluster-name ${ref.name}`;
  d.items('nodegroups', b.nodegroups, l.nodegroups, nodegroupText, (path, bn, ln) => {
    const scaling = `aws eks update-nodegroup-config ${where} --nodegroup-name ${bn.name} --scaling-config ${[
      bn.minSize !== undefined ? `minSize=${bn.minSize}` : '',
      bn.maxSize !== undefined ? `maxSize=${bn.maxSize}` : '',
      bn.desiredSize !== undefined && !opts.ignoreDesiredSize ? `desiredSize=${bn.desiredSize}` : '',
    ]
      .filter(Boolean)
      .join(',')}`;
    if (bn.desiredSize !== undefined && bn.desiredSize !== ln.desiredSize) {
      if (opts.ignoreDesiredSize) d.ignore(IGNORE_DESIRED);
      else d.change([...path, { key: 'desiredSize' }], bn.desiredSize, ln.desiredSize, scaling);
    }
    d.scalar([...path, { key: 'minSize' }], bn.minSize, ln.minSize, scaling);
    d.scalar([...path, { key: 'maxSize' }], bn.maxSize, ln.maxSize, scaling);
    d.scalar([...path, { key: 'version' }], bn.version, ln.version);
    d.list([...path, { key: 'instanceTypes' }], bn.instanceTypes, ln.instanceTypes);
    d.scalar([...path, { key: 'capacityType' }], bn.capacityType, ln.capacityType);
  });
  d.items(
    'addons',
    b.addons,
    l.addons,
    (a) => a.version ?? 'no version',
    (path, ba, la) =>
      d.scalar(
        [...path, { key: 'version' }],
        ba.version,
        la.version,
        `aws eks update-addon ${where} --addon-name ${ba.name} --addon-version ${ba.version}`,
      ),
  );
}

function compareGke(
  d: CloudDiff,
  ref: Extract<CloudClusterRef, { provider: 'gke' }>,
  b: GkeClusterFacts,
  l: GkeClusterFacts,
): void {
  d.version([{ key: 'version' }], b.version, l.version);
  d.version([{ key: 'nodeVersion' }], b.nodeVersion, l.nodeVersion);
  d.scalar([{ key: 'autopilot' }], b.autopilot, l.autopilot);
  const update = (pool: string) =>
    `gcloud container node-pools update ${pool} --cluster ${ref.name} --location ${ref.location} --project ${ref.project}`;
  d.items('nodePools', b.nodePools, l.nodePools, poolText, (path, bp, lp) => {
    d.version([...path, { key: 'version' }], bp.version, lp.version);
    d.scalar(
      [...path, { key: 'machineType' }],
      bp.machineType,
      lp.machineType,
      `${update(bp.name)} --machine-type ${bp.machineType}`,
    );
    const ba = bp.autoscaling;
    const la = lp.autoscaling;
    const bounds = ba
      ? `${update(bp.name)} --enable-autoscaling ${autoscalingFlags(ba)}`
      : `${update(bp.name)} --no-enable-autoscaling`;
    if (!ba || !la) {
      if (ba || la)
        d.change([...path, { key: 'autoscaling' }], ba && autoscalingText(ba), la && autoscalingText(la), bounds);
    } else {
      for (const key of [
        'minNodeCount',
        'maxNodeCount',
        'totalMinNodeCount',
        'totalMaxNodeCount',
        'locationPolicy',
      ] as const)
        d.scalar([...path, { key: 'autoscaling' }, { key }], ba[key], la[key], bounds);
    }
    d.scalar([...path, { key: 'initialNodeCountPerZone' }], bp.initialNodeCountPerZone, lp.initialNodeCountPerZone);
    d.list(
      [...path, { key: 'zones' }],
      bp.zones,
      lp.zones,
      `${update(bp.name)} --node-locations ${bp.zones.join(',')}`,
    );
  });
}

function autoscalingFlags(a: GkeAutoscalingFacts): string {
  const flags: string[] = [];
  if (a.totalMinNodeCount !== undefined || a.totalMaxNodeCount !== undefined) {
    if (a.totalMinNodeCount !== undefined) flags.push(`--total-min-nodes ${a.totalMinNodeCount}`);
    if (a.totalMaxNodeCount !== undefined) flags.push(`--total-max-nodes ${a.totalMaxNodeCount}`);
  } else {
    if (a.minNodeCount !== undefined) flags.push(`--min-nodes ${a.minNodeCount}`);
    if (a.maxNodeCount !== undefined) flags.push(`--max-nodes ${a.maxNodeCount}`);
  }
  if (a.locationPolicy) flags.push(`--location-policy ${a.locationPolicy}`);
  return flags.join(' ');
}

function autoscalingText(a: GkeAutoscalingFacts): string {
  const parts: string[] = [];
  if (a.minNodeCount !== undefined || a.maxNodeCount !== undefined)
    parts.push(`${a.minNodeCount ?? 0}-${a.maxNodeCount ?? '?'} per zone`);
  if (a.totalMinNodeCount !== undefined || a.totalMaxNodeCount !== undefined)
    parts.push(`${a.totalMinNodeCount ?? 0}-${a.totalMaxNodeCount ?? '?'} in total`);
  if (a.locationPolicy) parts.push(a.locationPolicy);
  return `autoscaling ${parts.join(', ') || 'on'}`;
}

/** A node group in one line: `desired 3 (min 1, max 5), 1.30, m5.large, ON_DEMAND`. */
export function nodegroupText(n: EksNodegroupFacts): string {
  return [
    `desired ${n.desiredSize ?? '?'} (min ${n.minSize ?? '?'}, max ${n.maxSize ?? '?'})`,
    n.version,
    n.instanceTypes.join(' ') || undefined,
    n.capacityType,
  ]
    .filter(Boolean)
    .join(', ');
}

/** A node pool in one line: `1.30.5-gke.1, e2-standard-4, autoscaling 1-5 per zone, 3 per zone at creation`. */
export function poolText(p: GkeNodePoolFacts): string {
  return [
    p.version,
    p.machineType,
    p.autoscaling ? autoscalingText(p.autoscaling) : 'fixed size',
    p.initialNodeCountPerZone !== undefined ? `${p.initialNodeCountPerZone} per zone at creation` : undefined,
    p.zones.length ? `zones ${p.zones.join(' ')}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

const show = (v: unknown): string =>
  v === undefined ? ABSENT : capText(Array.isArray(v) ? v.join(', ') || '(none)' : String(v), DRIFT_VALUE_MAX_CHARS);

class CloudDiff {
  readonly changes: DriftFieldChange[] = [];
  total = 0;
  ignored = 0;
  ignoredReason: string | undefined;
  readonly uncompared: CloudDrift['uncompared'] = [];
  readonly commands = new Set<string>();
  other = false;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  change(path: PathSeg[], b: unknown, l: unknown, command?: string): void {
    this.total++;
    // Built from provider names and versions; a token outside their characters (a hand-edited record) offers no command.
    if (command?.split(' ').every((t) => COMMAND_TOKEN.test(t))) this.commands.add(command);
    else this.other = true;
    if (this.changes.length < this.max)
      this.changes.push({ path: displayPath(path), baseline: show(b), live: show(l) });
  }

  ignore(why: string): void {
    this.ignored++;
    this.ignoredReason ??= why;
  }

  /** Only what the baseline records counts: a fact it lacks is not compared. */
  scalar(path: PathSeg[], b: string | number | boolean | undefined, l: unknown, command?: string): void {
    if (b !== undefined && b !== l) this.change(path, b, l, command);
  }

  /** A set of names (instance types, zones): the same members in any order are equal. */
  list(path: PathSeg[], b: string[], l: string[], command?: string): void {
    const bs = [...b].sort();
    const ls = [...l].sort();
    if (bs.length !== ls.length || bs.some((v, i) => v !== ls[i])) this.change(path, bs, ls, command);
  }

  /** GKE versions: a new minor is drift; a new patch of the same minor is GKE's own (ignored). */
  version(path: PathSeg[], b: string | undefined, l: string | undefined): void {
    if (b === undefined || b === l) return;
    const bm = minorVersion(b);
    if (bm !== undefined && bm === minorVersion(l)) this.ignore(GKE_PATCH);
    else this.change(path, b, l);
  }

  /** Items by name: gone, added, or compared field by field with `each`. */
  items<T extends { name: string }>(
    key: 'nodegroups' | 'addons' | 'nodePools',
    b: T[] | undefined,
    l: T[] | undefined,
    text: (item: T) => string,
    each: (path: PathSeg[], b: T, l: T) => void,
  ): void {
    if (b === undefined) return;
    if (l === undefined) {
      this.uncompared.push(key);
      return;
    }
    const live = new Map(l.map((i) => [i.name, i]));
    const seen = new Set<string>();
    for (const item of [...b].sort((x, y) => x.name.localeCompare(y.name))) {
      seen.add(item.name);
      const path: PathSeg[] = [{ key }, { index: 0, mergeKey: 'name', mergeValue: item.name }];
      const now = live.get(item.name);
      if (now === undefined) this.change(path, text(item), undefined);
      else each(path, item, now);
    }
    for (const item of [...l].sort((x, y) => x.name.localeCompare(y.name))) {
      if (!seen.has(item.name))
        this.change(
          [{ key }, { index: 0, mergeKey: 'name', mergeValue: item.name }],
          undefined,
          `added: ${text(item)}`,
        );
    }
  }

  result(): CloudDrift {
    const out: CloudDrift = {
      changes: this.changes,
      changesTotal: this.total,
      ignored: this.ignored,
      uncompared: this.uncompared,
      restoreCommands: [...this.commands],
      needsOtherRestore: this.other,
    };
    if (this.ignoredReason) out.ignoredReason = this.ignoredReason;
    return out;
  }
}

/**
 * What a drifted cloud cluster's finding says to do: the provider commands that put recorded
 * values back (at most three), what else needs the operator's own tooling, and adopting the new
 * state instead. Never a tool call: this server changes no cloud cluster settings.
 */
export function cloudRestoreHint(ref: CloudClusterRef, drift: CloudDrift): string {
  const adopt = `adopt the new state with drift_baselines_adopt cloudCluster ${ref.id}`;
  const cmds = drift.restoreCommands.slice(0, 3);
  const parts: string[] = [];
  if (cmds.length) parts.push(`put it back with ${cmds.join('; ')}${drift.restoreCommands.length > 3 ? '; …' : ''}`);
  if (drift.needsOtherRestore)
    parts.push(
      'versions only go up, and node groups, pools, instance types and add-ons come back through your infrastructure code',
    );
  return capText(`${parts.join('; ')}${parts.length ? ', or ' : ''}${adopt}`, 1000);
}
