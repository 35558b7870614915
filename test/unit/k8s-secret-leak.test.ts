import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  baselineOf,
  boundRows,
  boundText,
  diffObjects,
  normalizeForDiff,
  redactManifestText,
  redactObject,
  secretValueDigests,
  summarize,
} from '../../shared/domain/k8s/index.ts';

/**
 * One realistic Secret pushed through every function of the module: none of its values may
 * appear in any output, neither raw nor base64 (padded, unpadded or URL-safe), not even in part.
 */
const NOW = Date.parse('2026-11-21T12:00:00Z');
const PASSWORD = 'pg-Sup3r-S3cret-Passw0rd';
const CONFIG = JSON.stringify({ registry: 'ghcr.io', auth: 'dXNlcjpnaHBfVG9rZW5WYWx1ZTEyMw' });
const API_TOKEN = 'tok_live_8f14e45fceea167a5a36dedd4bea2543';
const ROTATED = 'pg-Rotated-S3cret-Passw0rd-2';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function forms(value: string): string[] {
  const std = b64(value);
  const url = Buffer.from(value, 'utf8').toString('base64url');
  return [value, std, std.replace(/=+$/, ''), url, value.slice(3, -3), std.slice(4, -4)];
}
const FORBIDDEN = [PASSWORD, CONFIG, API_TOKEN, ROTATED].flatMap(forms);

function expectNoSecret(label: string, output: unknown): void {
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  for (const f of FORBIDDEN) {
    expect(text.includes(f), `${label} leaks ${JSON.stringify(f)}`).toBe(false);
  }
}

function liveSecret() {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db-credentials', namespace: 'shop' },
    type: 'Opaque',
    data: { password: b64(PASSWORD), 'config.json': b64(CONFIG) },
    stringData: { apiToken: API_TOKEN },
  };
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      uid: '0b8e6f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      resourceVersion: '48213',
      creationTimestamp: '2026-11-01T08:00:00Z',
      labels: { app: 'orders' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(manifest)}\n` },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-01T08:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { '.': {}, 'f:password': {}, 'f:config.json': {} } },
        },
      ],
    },
  };
}

describe('no Secret value leaves the module', () => {
  it('the fixture really contains the values (the check can fail)', () => {
    expect(() => expectNoSecret('raw fixture', liveSecret())).toThrow();
  });

  it('redactObject, for a Secret, a SecretList and a List', () => {
    const { kind: _kind, apiVersion: _v, ...item } = liveSecret();
    expectNoSecret('Secret', redactObject(liveSecret()));
    expectNoSecret('SecretList', redactObject({ apiVersion: 'v1', kind: 'SecretList', items: [item] }));
    expectNoSecret('List', redactObject({ apiVersion: 'v1', kind: 'List', items: [liveSecret()] }));
  });

  it('redactManifestText, for YAML, multi-document YAML, JSON and text that does not parse', () => {
    const yaml = stringify(liveSecret());
    const deployment = stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'orders' } });
    expectNoSecret('yaml', redactManifestText(yaml));
    expectNoSecret('multi-doc', redactManifestText(`${deployment}---\n${yaml}`));
    expectNoSecret('json', redactManifestText(JSON.stringify(liveSecret(), null, 2)));
    expectNoSecret('json one line', redactManifestText(JSON.stringify(liveSecret())));
    const broken = `${yaml}\n  oops: [unclosed\n\t- tab`;
    expectNoSecret('broken yaml', redactManifestText(broken));
    const brokenJson = JSON.stringify(liveSecret()).slice(0, -5);
    expectNoSecret('broken json', redactManifestText(brokenJson));
  });

  it('summarize, as a Secret and through the generic printer', () => {
    expectNoSecret('secret rows', summarize('secrets', [liveSecret()], NOW));
    expectNoSecret('generic rows', summarize('things.example.com', [liveSecret()], NOW));
  });

  it('normalizeForDiff and baselineOf keep digests only', () => {
    expectNoSecret('normalized', normalizeForDiff(liveSecret()));
    expectNoSecret('baseline', baselineOf(liveSecret()));
    expectNoSecret('baseline hmac', baselineOf(liveSecret(), { hmacKey: 'server-key' }));
    expectNoSecret('digests', secretValueDigests(liveSecret()));
  });

  it('diffObjects, for update, create, delete of data and a manifest using stringData', () => {
    const rotated = liveSecret();
    rotated.data = { ...rotated.data, password: b64(ROTATED) };
    const diff = diffObjects(liveSecret(), rotated);
    expect(diff.changes.some((c) => c.path === 'data.password' && c.op === 'change')).toBe(true);
    expectNoSecret('update', diff);
    expectNoSecret('create', diffObjects(undefined, liveSecret()));
    const emptied = { ...liveSecret(), data: undefined, stringData: undefined };
    expectNoSecret('remove', diffObjects(liveSecret(), emptied));
    const manifest = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-credentials' },
      stringData: { password: ROTATED },
    };
    expectNoSecret('manifest', diffObjects(liveSecret(), manifest));
    expectNoSecret('drift', diffObjects(baselineOf(liveSecret()).object, rotated));
  });

  it('budget helpers over redacted output', () => {
    expectNoSecret('rows', boundRows(summarize('secrets', [liveSecret()], NOW).rows, 50));
    expectNoSecret('text', boundText(redactManifestText(stringify(liveSecret())), 64, 'end'));
  });

  it('a drift check can diff a stored baseline against the live object directly', () => {
    const baseline = baselineOf(liveSecret());
    expect(diffObjects(baseline.object, liveSecret()).changes).toEqual([]);
    const rotated = liveSecret();
    rotated.data = { ...rotated.data, password: b64(ROTATED) };
    expect(diffObjects(baseline.object, rotated).changes).toEqual([
      { path: 'data.password', op: 'change', from: '<redacted>', to: '<redacted>' },
    ]);
    expect(baselineOf(rotated).hash).not.toBe(baseline.hash);
  });
});
