import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPLY_PHASES,
  type ApplyPhase,
  definedKindFor,
  HELM_INSTALL_ORDER,
  isEstablished,
  kindsDefinedBy,
  phaseOf,
  sortForApply,
} from '../../shared/domain/k8s/apply-order.ts';

const kinds = [...HELM_INSTALL_ORDER, 'Widget', 'Gadget', 'Certificate', 'VerticalPodAutoscaler'];
const item = fc.record({
  kind: fc.constantFrom(...kinds),
  phase: fc.constantFrom<ApplyPhase>(...APPLY_PHASES),
});

describe('sortForApply', () => {
  it('orders phases, then Helm install order, unknown kinds last by name, each kind in manifest order', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (raw) => {
        const items = raw.map((r, i) => ({ ...r, id: i }));
        const sorted = sortForApply(items, (x) => x);
        expect([...sorted].sort((a, b) => a.id - b.id)).toEqual(items);
        const rank = (k: string) => HELM_INSTALL_ORDER.indexOf(k);
        for (let i = 1; i < sorted.length; i++) {
          const a = sorted[i - 1] as (typeof items)[number];
          const b = sorted[i] as (typeof items)[number];
          const pa = APPLY_PHASES.indexOf(a.phase);
          const pb = APPLY_PHASES.indexOf(b.phase);
          expect(pa).toBeLessThanOrEqual(pb);
          if (pa !== pb) continue;
          const [ra, rb] = [rank(a.kind), rank(b.kind)];
          if (ra >= 0 && rb >= 0) expect(ra).toBeLessThanOrEqual(rb);
          if (ra < 0) expect(rb).toBeLessThan(0);
          if (ra < 0 && rb < 0) expect(a.kind <= b.kind).toBe(true);
          if (a.kind === b.kind) expect(a.id).toBeLessThan(b.id);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('puts what workloads use before the workloads, as Helm does', () => {
    const order = sortForApply(
      ['Deployment', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'RoleBinding', 'Role', 'Ingress'].map(
        (kind) => ({ kind, phase: 'objects' as const }),
      ),
      (x) => x,
    ).map((x) => x.kind);
    expect(order).toEqual([
      'ServiceAccount',
      'Secret',
      'ConfigMap',
      'Role',
      'RoleBinding',
      'Service',
      'Deployment',
      'Ingress',
    ]);
  });
});

describe('phaseOf', () => {
  it('decides by the discovered group and kind, not by a look-alike kind of another group', () => {
    expect(phaseOf({ group: '', kind: 'Namespace' })).toBe('namespaces');
    expect(phaseOf({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' })).toBe('definitions');
    expect(phaseOf({ group: 'example.com', kind: 'Namespace' })).toBe('objects');
    expect(phaseOf({ group: 'example.com', kind: 'CustomResourceDefinition' })).toBe('objects');
    expect(phaseOf({ group: 'apps', kind: 'Deployment' })).toBe('objects');
  });
});

describe('kindsDefinedBy', () => {
  const crd = (scope: string | undefined, versions: unknown[], apiVersion = 'apiextensions.k8s.io/v1') => ({
    apiVersion,
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: { group: 'example.com', scope, names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'] }, versions },
  });

  it('serves one type per served version, with the scope the CRD declares', () => {
    const defined = kindsDefinedBy([
      crd('Cluster', [
        { name: 'v1', served: true, storage: true, subresources: { status: {} } },
        { name: 'v1beta1', served: false, storage: false },
        { name: 'v2', served: true, storage: false },
      ]),
    ]);
    expect(defined.map((d) => [d.res.apiVersion, d.res.namespaced, d.res.subresources])).toEqual([
      ['example.com/v1', false, ['status']],
      ['example.com/v2', false, []],
    ]);
    expect(definedKindFor(defined, { apiVersion: 'example.com/v1beta1', kind: 'Widget' })).toBeUndefined();
    expect(definedKindFor(defined, { apiVersion: 'example.com/v2', kind: 'Widget' })?.crdName).toBe(
      'widgets.example.com',
    );
    expect(definedKindFor(defined, { apiVersion: 'example.com/v2', kind: 'widget' })).toBeUndefined();
  });

  it('treats Namespaced as namespaced and ignores what is not a CRD of apiextensions', () => {
    expect(kindsDefinedBy([crd('Namespaced', [{ name: 'v1', served: true }])])[0]?.res.namespaced).toBe(true);
    expect(kindsDefinedBy([crd('Namespaced', [{ name: 'v1' }], 'example.com/v1')])).toEqual([]);
    expect(kindsDefinedBy([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }])).toEqual([]);
  });
});

describe('isEstablished', () => {
  it('needs Established=True', () => {
    const withCond = (status: string) => ({ status: { conditions: [{ type: 'Established', status }] } });
    expect(isEstablished(withCond('True'))).toBe(true);
    expect(isEstablished(withCond('False'))).toBe(false);
    expect(isEstablished({ status: { conditions: [{ type: 'NamesAccepted', status: 'True' }] } })).toBe(false);
    expect(isEstablished(undefined)).toBe(false);
  });
});
