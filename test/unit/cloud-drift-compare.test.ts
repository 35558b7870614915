import { describe, expect, it } from 'vitest';
import { eksFacts, gkeFacts, parseCloudClusterId } from '../../shared/app/drift/cloud.ts';
import { AppError } from '../../shared/app/errors.ts';
import {
  type CloudClusterRef,
  cloudRestoreHint,
  compareCloudFacts,
  type EksClusterFacts,
  type GkeClusterFacts,
} from '../../shared/domain/drift/index.ts';
import { PolicyError, parsePolicy } from '../../shared/domain/guardrails/index.ts';
import { eksCluster, gkeCluster } from '../support/fake-cloud-drift.ts';

const EKS_ID = 'eks:111122223333/eu-west-1/prod';
const GKE_ID = 'gke:shop-prod-1/europe-west1/main';
const eksRef = parseCloudClusterId(EKS_ID);
const gkeRef = parseCloudClusterId(GKE_ID);
const eksBase = (): EksClusterFacts => eksFacts(eksCluster('prod')).facts as EksClusterFacts;
const gkeBase = (): GkeClusterFacts =>
  gkeFacts(gkeCluster('shop-prod-1', 'europe-west1', 'main')).facts as GkeClusterFacts;
const ng = (f: EksClusterFacts, name: string) =>
  f.nodegroups?.find((n) => n.name === name) as NonNullable<EksClusterFacts['nodegroups']>[number];
const pool = (f: GkeClusterFacts, name: string) =>
  f.nodePools?.find((p) => p.name === name) as NonNullable<GkeClusterFacts['nodePools']>[number];
const compare = (
  ref: CloudClusterRef,
  b: EksClusterFacts | GkeClusterFacts,
  l: EksClusterFacts | GkeClusterFacts,
  opts = {},
) => compareCloudFacts(ref, b, l, opts);

describe('what a cloud baseline records', () => {
  it('EKS: versions, sizes, instance types (sorted), add-on versions; not the platform version or statuses', () => {
    const f = eksBase();
    expect(f).toEqual({
      provider: 'eks',
      version: '1.30',
      nodegroups: [
        {
          name: 'ng-a',
          desiredSize: 3,
          minSize: 1,
          maxSize: 5,
          version: '1.30',
          instanceTypes: ['m5.large'],
          capacityType: 'ON_DEMAND',
        },
        {
          name: 'ng-b',
          desiredSize: 2,
          minSize: 0,
          maxSize: 10,
          version: '1.30',
          instanceTypes: ['c5.xlarge', 'c6i.xlarge'],
          capacityType: 'SPOT',
        },
      ],
      addons: [
        { name: 'vpc-cni', version: 'v1.18.3-eksbuild.1' },
        { name: 'coredns', version: 'v1.11.1-eksbuild.9' },
      ],
    });
    expect(JSON.stringify(f)).not.toMatch(/eks\.8|ACTIVE/);
  });

  it('EKS: a list the provider did not answer in full is not recorded, and says why', () => {
    const d = eksCluster('prod');
    d.addons = { available: false, reason: 'AccessDeniedException: not allowed to eks:ListAddons' };
    d.nodegroups = { ...d.nodegroups, truncated: true } as typeof d.nodegroups;
    const r = eksFacts(d);
    expect(r.facts).toEqual({ provider: 'eks', version: '1.30' });
    expect(r.notes).toEqual([
      'more than 100 node groups: too many to record',
      'add-ons could not be listed: AccessDeniedException: not allowed to eks:ListAddons',
    ]);
  });

  it('GKE: pools with their bounds, not the current node count nor the pools node auto-provisioning makes; Autopilot: versions only', () => {
    const f = gkeBase();
    expect(f.nodePools?.map((p) => p.name)).toEqual(['default-pool', 'batch']);
    expect(pool(f, 'default-pool')).toEqual({
      name: 'default-pool',
      version: '1.30.5-gke.1014001',
      machineType: 'e2-standard-4',
      autoscaling: { minNodeCount: 1, maxNodeCount: 5, locationPolicy: 'BALANCED' },
      initialNodeCountPerZone: 1,
      zones: ['europe-west1-a', 'europe-west1-b'],
    });
    expect(JSON.stringify(f)).not.toContain('currentNodeCount');
    const auto = gkeFacts({ ...gkeCluster('shop-prod-1', 'europe-west1', 'auto'), autopilot: true });
    expect(auto.facts).toEqual({
      provider: 'gke',
      version: '1.30.5-gke.1014001',
      nodeVersion: '1.30.5-gke.1014001',
      autopilot: true,
    });
    expect(auto.notes).toEqual(['Autopilot manages the node pools: only versions are recorded']);
  });

  it('cloud ids are checked part by part', () => {
    expect(parseCloudClusterId(EKS_ID)).toEqual({
      provider: 'eks',
      id: EKS_ID,
      account: '111122223333',
      region: 'eu-west-1',
      name: 'prod',
    });
    expect(gkeRef).toMatchObject({ provider: 'gke', project: 'shop-prod-1', location: 'europe-west1', name: 'main' });
    for (const bad of [
      'eks:1111/eu-west-1/prod',
      'eks:111122223333/eu-west-1/prod/x',
      'gke:shop/europe-west1/main',
      'prod',
      'aks:x/y/z',
    ]) {
      expect(() => parseCloudClusterId(bad), bad).toThrow(AppError);
    }
    expect(() => parseCloudClusterId('eks:1/eu-west-1/prod')).toThrow(
      /expected eks:<12-digit account>\/<region>\/<name>/,
    );
  });
});

describe('comparing an EKS cluster with its baseline', () => {
  it('the same facts are clean', () => {
    const d = compare(eksRef, eksBase(), eksBase());
    expect(d).toMatchObject({ changes: [], changesTotal: 0, ignored: 0, uncompared: [] });
  });

  it('a version upgrade and a desired size: paths, old and new values, and how to put them back', () => {
    const live = eksBase();
    live.version = '1.31';
    ng(live, 'ng-a').desiredSize = 5;
    const d = compare(eksRef, eksBase(), live);
    expect(d.changes).toEqual([
      { path: 'version', baseline: '1.30', live: '1.31' },
      { path: 'nodegroups[ng-a].desiredSize', baseline: '3', live: '5' },
    ]);
    const hint = cloudRestoreHint(eksRef, d);
    expect(hint).toContain(
      'aws eks update-nodegroup-config --region eu-west-1 --cluster-name prod --nodegroup-name ng-a --scaling-config minSize=1,maxSize=5,desiredSize=3',
    );
    expect(hint).toMatch(/versions only go up/);
    expect(hint).toMatch(
      /or adopt the new state with drift_baselines_adopt cloudCluster eks:111122223333\/eu-west-1\/prod$/,
    );
  });

  it('with drift.cloud.ignoreDesiredSize a desired size is ignored (counted, with why); min and max still count', () => {
    const live = eksBase();
    ng(live, 'ng-a').desiredSize = 4;
    const ignored = compare(eksRef, eksBase(), live, { ignoreDesiredSize: true });
    expect(ignored).toMatchObject({
      changesTotal: 0,
      ignored: 1,
      ignoredReason: expect.stringMatching(/ignoreDesiredSize/),
    });
    ng(live, 'ng-a').maxSize = 8;
    const d = compare(eksRef, eksBase(), live, { ignoreDesiredSize: true });
    expect(d.changes).toEqual([{ path: 'nodegroups[ng-a].maxSize', baseline: '5', live: '8' }]);
    // The restore command leaves desiredSize to the autoscaler.
    expect(d.restoreCommands).toEqual([
      'aws eks update-nodegroup-config --region eu-west-1 --cluster-name prod --nodegroup-name ng-a --scaling-config minSize=1,maxSize=5',
    ]);
  });

  it('a node group gone is (absent), a new one is added; instance types compare as a set', () => {
    const live = eksBase();
    live.nodegroups = (live.nodegroups ?? []).filter((n) => n.name !== 'ng-b');
    live.nodegroups.push({
      name: 'ng-c',
      desiredSize: 2,
      minSize: 2,
      maxSize: 4,
      version: '1.30',
      instanceTypes: ['m6i.large'],
    });
    ng(live, 'ng-a').instanceTypes = ['m5.large'];
    const d = compare(eksRef, eksBase(), live);
    expect(d.changes).toEqual([
      {
        path: 'nodegroups[ng-b]',
        baseline: 'desired 2 (min 0, max 10), 1.30, c5.xlarge c6i.xlarge, SPOT',
        live: '(absent)',
      },
      { path: 'nodegroups[ng-c]', baseline: '(absent)', live: 'added: desired 2 (min 2, max 4), 1.30, m6i.large' },
    ]);
    expect(d.needsOtherRestore).toBe(true);
    const reordered = eksBase();
    ng(reordered, 'ng-b').instanceTypes = ['c6i.xlarge', 'c5.xlarge'];
    expect(compare(eksRef, eksBase(), reordered).changesTotal).toBe(0);
    ng(reordered, 'ng-b').instanceTypes = ['c6i.xlarge'];
    expect(compare(eksRef, eksBase(), reordered).changes).toEqual([
      { path: 'nodegroups[ng-b].instanceTypes', baseline: 'c5.xlarge, c6i.xlarge', live: 'c6i.xlarge' },
    ]);
  });

  it('add-ons: a version changed (with the update-addon command), one removed, one added', () => {
    const live = eksBase();
    live.addons = [
      { name: 'vpc-cni', version: 'v1.19.0-eksbuild.1' },
      { name: 'aws-ebs-csi-driver', version: 'v1.35.0-eksbuild.1' },
    ];
    const d = compare(eksRef, eksBase(), live);
    expect(d.changes).toEqual([
      { path: 'addons[coredns]', baseline: 'v1.11.1-eksbuild.9', live: '(absent)' },
      { path: 'addons[vpc-cni].version', baseline: 'v1.18.3-eksbuild.1', live: 'v1.19.0-eksbuild.1' },
      { path: 'addons[aws-ebs-csi-driver]', baseline: '(absent)', live: 'added: v1.35.0-eksbuild.1' },
    ]);
    expect(d.restoreCommands).toEqual([
      'aws eks update-addon --region eu-west-1 --cluster-name prod --addon-name vpc-cni --addon-version v1.18.3-eksbuild.1',
    ]);
  });

  it("offers no command built from a name outside the provider's characters (a hand-edited record)", () => {
    const base = eksBase();
    ng(base, 'ng-a').name = 'ng-a;rm -rf /';
    const live = eksBase();
    ng(live, 'ng-a').name = 'ng-a;rm -rf /';
    ng(live, 'ng-a;rm -rf /').maxSize = 9;
    const d = compare(eksRef, base, live);
    expect(d.changesTotal).toBe(1);
    expect(d.restoreCommands).toEqual([]);
    expect(cloudRestoreHint(eksRef, d)).not.toContain('rm -rf');
  });

  it('a section the live description lacks is not compared (never read as everything gone)', () => {
    const live = eksBase();
    delete live.addons;
    const d = compare(eksRef, eksBase(), live);
    expect(d.uncompared).toEqual(['addons']);
    expect(d.changesTotal).toBe(0);
    // A section the baseline lacks is not compared either way.
    const base = eksBase();
    delete base.nodegroups;
    expect(compare(eksRef, base, eksBase()).changesTotal).toBe(0);
  });

  it('lists at most maxChanges changes and counts them all', () => {
    const live = eksBase();
    for (const n of live.nodegroups ?? [])
      Object.assign(n, { desiredSize: 9, minSize: 9, maxSize: 9, version: '1.31' });
    const d = compare(eksRef, eksBase(), live, { maxChanges: 3 });
    expect(d.changes).toHaveLength(3);
    expect(d.changesTotal).toBe(8);
  });
});

describe('comparing a GKE cluster with its baseline', () => {
  it('a patch upgrade GKE made is ignored; a new minor version is drift', () => {
    const live = gkeBase();
    live.version = '1.30.6-gke.1125000';
    live.nodeVersion = '1.30.6-gke.1125000';
    pool(live, 'default-pool').version = '1.30.6-gke.1125000';
    const patch = compare(gkeRef, gkeBase(), live);
    expect(patch).toMatchObject({
      changesTotal: 0,
      ignored: 3,
      ignoredReason: expect.stringMatching(/patch upgrades/),
    });
    live.version = '1.31.1-gke.1146000';
    expect(compare(gkeRef, gkeBase(), live).changes).toEqual([
      { path: 'version', baseline: '1.30.5-gke.1014001', live: '1.31.1-gke.1146000' },
    ]);
  });

  it('autoscaling bounds, autoscaling switched off, machine type and zones, each with the gcloud command', () => {
    const live = gkeBase();
    const p = pool(live, 'default-pool');
    p.autoscaling = { ...p.autoscaling, maxNodeCount: 9 };
    p.machineType = 'e2-standard-8';
    p.zones = ['europe-west1-b', 'europe-west1-a']; // same set
    delete pool(live, 'batch').autoscaling; // it had none: unchanged
    const d = compare(gkeRef, gkeBase(), live);
    expect(d.changes).toEqual([
      { path: 'nodePools[default-pool].machineType', baseline: 'e2-standard-4', live: 'e2-standard-8' },
      { path: 'nodePools[default-pool].autoscaling.maxNodeCount', baseline: '5', live: '9' },
    ]);
    const update =
      'gcloud container node-pools update default-pool --cluster main --location europe-west1 --project shop-prod-1';
    expect(d.restoreCommands).toEqual([
      `${update} --machine-type e2-standard-4`,
      `${update} --enable-autoscaling --min-nodes 1 --max-nodes 5 --location-policy BALANCED`,
    ]);

    const off = gkeBase();
    delete pool(off, 'default-pool').autoscaling;
    expect(compare(gkeRef, gkeBase(), off).changes).toEqual([
      { path: 'nodePools[default-pool].autoscaling', baseline: 'autoscaling 1-5 per zone, BALANCED', live: '(absent)' },
    ]);
    const on = gkeBase();
    pool(on, 'batch').autoscaling = { totalMinNodeCount: 1, totalMaxNodeCount: 6 };
    const d2 = compare(gkeRef, gkeBase(), on);
    expect(d2.changes).toEqual([
      { path: 'nodePools[batch].autoscaling', baseline: '(absent)', live: 'autoscaling 1-6 in total' },
    ]);
    expect(d2.restoreCommands).toEqual([
      'gcloud container node-pools update batch --cluster main --location europe-west1 --project shop-prod-1 --no-enable-autoscaling',
    ]);
  });

  it('a pool gone and a pool added', () => {
    const live = gkeBase();
    live.nodePools = [
      pool(live, 'default-pool'),
      {
        name: 'gpu',
        machineType: 'g2-standard-8',
        version: '1.30.5-gke.1014001',
        initialNodeCountPerZone: 1,
        zones: ['europe-west1-b'],
      },
    ];
    expect(compare(gkeRef, gkeBase(), live).changes).toEqual([
      {
        path: 'nodePools[batch]',
        baseline: '1.30.5-gke.1014001, n2-highmem-8, fixed size, 2 per zone at creation, zones europe-west1-a',
        live: '(absent)',
      },
      {
        path: 'nodePools[gpu]',
        baseline: '(absent)',
        live: 'added: 1.30.5-gke.1014001, g2-standard-8, fixed size, 1 per zone at creation, zones europe-west1-b',
      },
    ]);
  });
});

describe('the drift.cloud policy section', () => {
  it('takes ignoreDesiredSize (default false) and refuses unknown keys with a did-you-mean', () => {
    expect(parsePolicy('drift:\n  cloud:\n    ignoreDesiredSize: true\n').drift?.cloud).toEqual({
      ignoreDesiredSize: true,
    });
    expect(parsePolicy('drift:\n  cloud: {}\n').drift?.cloud).toEqual({ ignoreDesiredSize: false });
    expect(parsePolicy('').drift?.cloud?.ignoreDesiredSize ?? false).toBe(false);
    let issues: string[] = [];
    try {
      parsePolicy('drift:\n  cloud:\n    ignoreDesiredSise: true\n');
    } catch (err) {
      issues = (err as PolicyError).issues;
    }
    expect(issues).toEqual(['drift.cloud.ignoreDesiredSise: unknown key; did you mean ignoreDesiredSize?']);
    expect(() => parsePolicy('drift:\n  cloud:\n    ignoreDesiredSize: yes-please\n')).toThrow(PolicyError);
  });
});
