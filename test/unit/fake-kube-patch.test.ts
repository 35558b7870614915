// Pure logic of the fake Kubernetes API server: patch formats, server-side apply ownership, selectors.
import { describe, expect, it } from 'vitest';
import { podTemplateHash } from '../support/fake-kube/deployment-controller.ts';
import { applyConfiguration, recordUpdate, typeContext } from '../support/fake-kube/managed-fields.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from '../support/fake-kube/patch.ts';
import { imageBehaviour, normalizeImage } from '../support/fake-kube/pod-lifecycle.ts';
import { ResourceRegistry } from '../support/fake-kube/resources.ts';
import { labelSelectorToString, matchesLabels, parseLabelSelector } from '../support/fake-kube/selectors.ts';
import { KubeApiError } from '../support/fake-kube/status.ts';
import type { KubeObject, ResourceType } from '../support/fake-kube/types.ts';

describe('JSON merge patch (RFC 7386 appendix A)', () => {
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('does not modify its input', () => {
    const target = { a: { b: 1 } };
    applyMergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('adds object members, array elements (index and -) and nested values', () => {
    expect(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }])).toEqual({
      foo: 'bar',
      baz: 'qux',
    });
    expect(applyJsonPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).toEqual({
      foo: ['bar', 'qux', 'baz'],
    });
    expect(applyJsonPatch({ foo: [1] }, [{ op: 'add', path: '/foo/-', value: 2 }])).toEqual({ foo: [1, 2] });
    expect(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }])).toEqual({
      foo: 'bar',
      child: { grandchild: {} },
    });
  });

  it('removes, replaces, moves and copies', () => {
    expect(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: 'bar' });
    expect(applyJsonPatch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }])).toEqual({
      foo: ['bar', 'baz'],
    });
    expect(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }])).toEqual({
      baz: 'boo',
      foo: 'bar',
    });
    expect(
      applyJsonPatch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [
        { op: 'move', from: '/foo/waldo', path: '/qux/thud' },
      ]),
    ).toEqual({ foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } });
    expect(
      applyJsonPatch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }]),
    ).toEqual({
      foo: ['all', 'cows', 'eat', 'grass'],
    });
    expect(applyJsonPatch({ a: { b: [1] } }, [{ op: 'copy', from: '/a/b', path: '/c' }])).toEqual({
      a: { b: [1] },
      c: [1],
    });
  });

  it('unescapes ~1 and ~0 in pointers', () => {
    const labels = { 'app.kubernetes.io/name': 'x', 'a~b': 'y' };
    expect(
      applyJsonPatch({ labels }, [
        { op: 'replace', path: '/labels/app.kubernetes.io~1name', value: 'z' },
        { op: 'remove', path: '/labels/a~0b' },
      ]),
    ).toEqual({ labels: { 'app.kubernetes.io/name': 'z' } });
  });

  it('passes a matching test and fails the whole patch on a mismatch, leaving the input intact', () => {
    const doc = { baz: 'qux', foo: ['a', 2, 'c'] };
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/foo', value: ['a', 2, 'c'] }])).toEqual(doc);
    let error: unknown;
    try {
      applyJsonPatch(doc, [
        { op: 'add', path: '/added', value: 1 },
        { op: 'test', path: '/baz', value: 'bar' },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PatchError);
    expect((error as PatchError).code).toBe(422);
    expect(doc).toEqual({ baz: 'qux', foo: ['a', 2, 'c'] });
  });

  it('rejects operations on missing paths (422) and non-array documents (400)', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof PatchError ? err.code : -1;
      }
      return 0;
    };
    expect(code(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }]))).toBe(422);
    expect(code(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]))).toBe(422);
    expect(code(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/x/y', value: 2 }]))).toBe(422);
    expect(code(() => applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/5', value: 2 }]))).toBe(422);
    expect(code(() => applyJsonPatch({ a: 1 }, [{ op: 'frobnicate', path: '/a' }]))).toBe(422);
    expect(code(() => applyJsonPatch({ a: 1 }, { op: 'add', path: '/a', value: 2 }))).toBe(400);
  });
});

describe('strategic merge patch', () => {
  const builtIn = { kind: 'Deployment', builtIn: true };
  const podSpec = (spec: Record<string, unknown>) => ({ spec: { template: { spec } } });
  const base = podSpec({
    containers: [
      {
        name: 'web',
        image: 'nginx:1',
        args: ['--a', '--b'],
        ports: [{ containerPort: 80 }],
        env: [{ name: 'A', value: '1' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
      { name: 'side', image: 'envoy:1' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  });

  it('merges containers by name and their env/ports/volumeMounts by merge key; other lists replace', () => {
    const result = applyStrategicMergePatch(
      base,
      podSpec({
        containers: [
          {
            name: 'web',
            image: 'nginx:2',
            args: ['--c'],
            ports: [{ containerPort: 443 }],
            env: [
              { name: 'A', value: '2' },
              { name: 'B', value: '3' },
            ],
            volumeMounts: [{ name: 'cache', mountPath: '/data', readOnly: true }],
          },
        ],
      }),
      builtIn,
    );
    expect(result).toEqual(
      podSpec({
        containers: [
          {
            name: 'web',
            image: 'nginx:2',
            args: ['--c'],
            ports: [{ containerPort: 80 }, { containerPort: 443 }],
            env: [
              { name: 'A', value: '2' },
              { name: 'B', value: '3' },
            ],
            volumeMounts: [{ name: 'cache', mountPath: '/data', readOnly: true }],
          },
          { name: 'side', image: 'envoy:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
  });

  it('honours $patch: delete on list items, $patch: replace on lists and maps, and null', () => {
    const deleted = applyStrategicMergePatch(
      base,
      podSpec({ containers: [{ name: 'side', $patch: 'delete' }] }),
      builtIn,
    );
    expect(
      (deleted.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers.map(
        (c) => c.name,
      ),
    ).toEqual(['web']);

    const replaced = applyStrategicMergePatch(
      base,
      podSpec({ volumes: [{ $patch: 'replace' }, { name: 'only', emptyDir: {} }] }),
      builtIn,
    );
    expect((replaced.spec as { template: { spec: { volumes: unknown[] } } }).template.spec.volumes).toEqual([
      { name: 'only', emptyDir: {} },
    ]);

    const mapReplaced = applyStrategicMergePatch(
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { $patch: 'replace', c: '3' } } },
      builtIn,
    );
    expect(mapReplaced).toEqual({ metadata: { labels: { c: '3' } } });

    expect(
      applyStrategicMergePatch(
        { metadata: { labels: { a: '1', b: '2' } } },
        { metadata: { labels: { a: null } } },
        builtIn,
      ),
    ).toEqual({
      metadata: { labels: { b: '2' } },
    });
  });

  it('merges finalizers as a set and supports $deleteFromPrimitiveList', () => {
    const obj = { metadata: { finalizers: ['a', 'b'] } };
    expect(applyStrategicMergePatch(obj, { metadata: { finalizers: ['b', 'c'] } }, builtIn)).toEqual({
      metadata: { finalizers: ['a', 'b', 'c'] },
    });
    expect(
      applyStrategicMergePatch(obj, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, builtIn),
    ).toEqual({
      metadata: { finalizers: ['b'] },
    });
  });

  it('merges Service ports by port', () => {
    const svc = { spec: { ports: [{ name: 'http', port: 80 }] } };
    expect(
      applyStrategicMergePatch(
        svc,
        { spec: { ports: [{ name: 'https', port: 443 }] } },
        { kind: 'Service', builtIn: true },
      ),
    ).toEqual({
      spec: {
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      },
    });
  });

  it('fails like the server when a merge key is missing', () => {
    expect(() => applyStrategicMergePatch(base, podSpec({ containers: [{ image: 'x' }] }), builtIn)).toThrow(
      /does not contain declared merge key: name/,
    );
  });
});

describe('server-side apply field ownership', () => {
  const registry = new ResourceRegistry({ metricsAvailable: true });
  const deployments = registry.resolve('deployments.apps') as ResourceType;
  const ctx = typeContext(deployments);
  const config = (replicas: number, image: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', labels: { app: 'd' } },
    spec: { replicas, template: { spec: { containers: [{ name: 'web', image }] } } },
  });
  const opts = (manager: string, force = false) => ({
    manager,
    force,
    apiVersion: 'apps/v1',
    scope: 'main' as const,
    ctx,
  });

  it('records leaf fields with keyed list items and reports conflicts with their paths', () => {
    const created = applyConfiguration(undefined, config(1, 'nginx:1'), opts('alice'));
    expect(created.metadata.managedFields?.[0]?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:name': {}, 'f:image': {} } } },
        },
      },
    });
    let error: unknown;
    try {
      applyConfiguration(created, config(2, 'nginx:2'), opts('bob'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KubeApiError);
    const status = (error as KubeApiError).status;
    expect(status.code).toBe(409);
    expect(status.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it('lets force take fields over, and removes fields the last owner stops applying', () => {
    const created = applyConfiguration(undefined, config(1, 'nginx:1'), opts('alice'));
    const forced = applyConfiguration(created, config(3, 'nginx:1'), opts('bob', true));
    expect((forced.spec as { replicas: number }).replicas).toBe(3);
    const alice = forced.metadata.managedFields?.find((m) => m.manager === 'alice');
    expect(JSON.stringify(alice?.fieldsV1)).not.toContain('f:replicas');
    // bob shares the image (same value) and labels; alice drops replicas from her config: bob still owns it.
    const aliceAgain = applyConfiguration(
      forced,
      { ...config(3, 'nginx:1'), spec: { template: config(3, 'nginx:1').spec.template } },
      opts('alice'),
    );
    expect((aliceAgain.spec as { replicas: number }).replicas).toBe(3);
    // bob stops applying replicas: nobody owns it any more, so it is removed.
    const bobLess = applyConfiguration(
      aliceAgain,
      { ...config(3, 'nginx:1'), spec: { template: config(3, 'nginx:1').spec.template } },
      opts('bob'),
    );
    expect((bobLess.spec as { replicas?: number }).replicas).toBeUndefined();
  });

  it('moves ownership to the writer on update operations', () => {
    const created = applyConfiguration(undefined, config(1, 'nginx:1'), opts('alice'));
    const edited: KubeObject = structuredClone(created);
    (edited.spec as { replicas: number }).replicas = 5;
    const entries = recordUpdate(created, edited, {
      manager: 'kubectl-edit',
      apiVersion: 'apps/v1',
      scope: 'main',
      ctx,
    });
    expect(entries.find((e) => e.manager === 'kubectl-edit')).toMatchObject({
      operation: 'Update',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    expect(JSON.stringify(entries.find((e) => e.manager === 'alice')?.fieldsV1)).not.toContain('f:replicas');
  });
});

describe('label selectors', () => {
  it('parses every operator and matches', () => {
    const sel = parseLabelSelector('app=web,tier in (a, b),env!=prod,canary,!legacy,zone notin (x)');
    expect(matchesLabels(sel, { app: 'web', tier: 'a', env: 'dev', canary: 'true', zone: 'y' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', tier: 'c', env: 'dev', canary: 'true' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'a', env: 'dev', canary: 'true', legacy: '1' })).toBe(false);
    expect(labelSelectorToString(parseLabelSelector('app==web,tier in (a,b)'))).toBe('app=web,tier in (a,b)');
  });

  it('rejects malformed requirements with a 400', () => {
    expect(() => parseLabelSelector('app in (a')).toThrow(KubeApiError);
    expect(() => parseLabelSelector('=x')).toThrow(KubeApiError);
  });
});

describe('controller helpers', () => {
  it('hashes pod templates stably with the safe alphabet', () => {
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const hash = podTemplateHash(template);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(podTemplateHash(structuredClone(template))).toBe(hash);
    expect(podTemplateHash({ ...template, spec: { containers: [{ name: 'c', image: 'y' }] } })).not.toBe(hash);
    expect(podTemplateHash(template, 1)).not.toBe(hash);
  });

  it('derives behaviour and the runtime image name from the image', () => {
    expect(imageBehaviour('registry.example.com/crashloop:1')).toBe('crashloop');
    expect(imageBehaviour('nginx:does-not-exist')).toBe('imagepull');
    expect(imageBehaviour('org/imagepull-test')).toBe('imagepull');
    expect(imageBehaviour('slowstart:2')).toBe('slowstart');
    expect(imageBehaviour('nginx:1.25')).toBe('normal');
    expect(normalizeImage('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImage('bitnami/redis:7')).toBe('docker.io/bitnami/redis:7');
    expect(normalizeImage('ghcr.io/org/app@sha256:abc')).toBe('ghcr.io/org/app@sha256:abc');
  });
});
