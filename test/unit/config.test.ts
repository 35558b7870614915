import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { ConfigError, isLoopbackHost, isWildcardHost, loadConfig } from '../../shared/config/config.ts';
import { renderKubeconfig } from '../support/fake-kube/kubeconfig.ts';

describe('config', () => {
  it('defaults to loopback, no auth, embedded store', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      authRequired: false,
      store: { kind: 'embedded', dataDir: '.data' },
    });
  });

  it('OAuth implies auth and takes the first public URL as audience', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://mcp.example.com/mcp, https://alt.example.com/mcp',
      OAUTH_ISSUER: 'https://id.example.com',
      OAUTH_JWKS_URL: 'https://id.example.com/jwks',
    });
    expect(c.authRequired).toBe(true);
    expect(c.oauth?.audience).toBe('https://mcp.example.com/mcp');
    expect(c.publicUrls.map(String)).toEqual(['https://mcp.example.com/mcp', 'https://alt.example.com/mcp']);
  });

  it('names every bad setting', () => {
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ PORT: 'x', STORE: 'sqlite', OAUTH_SCOPE_ROLES: '{"a":"root"}' }, ['PORT', 'STORE', 'OAUTH_SCOPE_ROLES']],
      [{ OAUTH_ISSUER: 'https://id.example.com' }, ['OAUTH_JWKS_URL', 'PUBLIC_URL']],
      [
        {
          OAUTH_ISSUER: 'https://id.example.com',
          OAUTH_JWKS_URL: 'http://id.example.com/jwks',
          PUBLIC_URL: 'https://mcp.example.com/mcp',
        },
        ['OAUTH_JWKS_URL: must be an https URL'],
      ],
    ];
    for (const [env, names] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (err) {
        for (const name of names) expect((err as Error).message).toContain(name);
      }
    }
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', 'example.com', '::'].some(isLoopbackHost)).toBe(false);
  });
});

describe('config: settings checked at start', () => {
  it('checks DYNAMODB_TABLE against DynamoDB table-name rules', () => {
    expect(loadConfig({ DYNAMODB_TABLE: 'ops.table_1-a' }).store).toMatchObject({ table: 'ops.table_1-a' });
    for (const bad of ['ab', 'has space', 'slash/name', 'x'.repeat(256), '']) {
      expect(() => loadConfig({ DYNAMODB_TABLE: bad }), bad).toThrow(/DYNAMODB_TABLE: /);
    }
  });

  it('STORE=firestore needs a project and checks the database, collection and emulator address', () => {
    expect(loadConfig({ STORE: 'firestore', FIRESTORE_PROJECT: 'ops-prod-1' }).store).toEqual({
      kind: 'firestore',
      project: 'ops-prod-1',
      database: '(default)',
      collection: 'cloudops',
    });
    expect(
      loadConfig({
        STORE: 'firestore',
        GOOGLE_CLOUD_PROJECT: 'ops-prod-2',
        FIRESTORE_DATABASE: 'ops-db',
        FIRESTORE_COLLECTION: 'mcp_state',
        FIRESTORE_EMULATOR_HOST: '127.0.0.1:8681',
      }).store,
    ).toEqual({
      kind: 'firestore',
      project: 'ops-prod-2',
      database: 'ops-db',
      collection: 'mcp_state',
      emulatorHost: '127.0.0.1:8681',
    });
    expect(() => loadConfig({ STORE: 'firestore' })).toThrow(/FIRESTORE_PROJECT: required with STORE=firestore/);
    expect(() => loadConfig({ STORE: 'firestore', FIRESTORE_PROJECT: 'Bad_Project' })).toThrow(/FIRESTORE_PROJECT: /);
    expect(() => loadConfig({ STORE: 'firestore', FIRESTORE_PROJECT: 'ops-1x', FIRESTORE_DATABASE: 'a/b' })).toThrow(
      /FIRESTORE_DATABASE: /,
    );
    expect(() => loadConfig({ STORE: 'firestore', FIRESTORE_PROJECT: 'ops-1x', FIRESTORE_COLLECTION: 'x/y' })).toThrow(
      /FIRESTORE_COLLECTION: /,
    );
    // The emulator speaks plain HTTP without credentials: loopback only.
    expect(() =>
      loadConfig({ STORE: 'firestore', FIRESTORE_PROJECT: 'ops-1x', FIRESTORE_EMULATOR_HOST: 'db.example.com:8681' }),
    ).toThrow(/FIRESTORE_EMULATOR_HOST: must be a loopback/);
  });

  it('SHUTDOWN_GRACE_MS defaults to 10 s and is checked', () => {
    expect(loadConfig({}).shutdownGraceMs).toBe(10_000);
    expect(loadConfig({ SHUTDOWN_GRACE_MS: '250' }).shutdownGraceMs).toBe(250);
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '-1' })).toThrow(/SHUTDOWN_GRACE_MS: /);
  });

  it('workflow and secret settings are named for what they are; any cloud identifier passes here', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube-AbC123';
    const gcp = 'projects/ops-1/secrets/kubeconfig/versions/latest';
    const c = loadConfig({
      ROLLOUT_WORKFLOW: ' projects/ops-1/locations/europe-west1/workflows/rollout ',
      KUBECONFIG_SECRET: gcp,
      SLACK_SIGNING_SECRET: arn,
    });
    expect(c.rolloutWorkflow).toBe('projects/ops-1/locations/europe-west1/workflows/rollout');
    expect(c.kubeconfigSecret).toBe(gcp);
    expect(c.slack).toEqual({ signingSecret: arn, approvers: {} });
    expect(loadConfig({}).slack).toBeUndefined();
    for (const name of ['ROLLOUT_WORKFLOW', 'KUBECONFIG_SECRET', 'SLACK_SIGNING_SECRET']) {
      for (const bad of ['   ', 'two words', 'x'.repeat(2049), 'tab\there']) {
        expect(() => loadConfig({ [name]: bad }), `${name}=${JSON.stringify(bad.slice(0, 20))}`).toThrow(
          new RegExp(`${name}: must`),
        );
      }
    }
  });

  it('TOOLSETS: unset or empty serves the default toolsets; names are trimmed and deduplicated; unknown ones are refused with a did-you-mean', () => {
    expect(loadConfig({}).toolsets).toBeUndefined();
    expect(loadConfig({ TOOLSETS: '' }).toolsets).toBeUndefined();
    expect(loadConfig({ TOOLSETS: ' , ' }).toolsets).toBeUndefined();
    expect(loadConfig({ TOOLSETS: ' k8s, core ,k8s' }).toolsets).toEqual(['k8s', 'core']);
    expect(() => loadConfig({ TOOLSETS: 'core,dleivery' })).toThrow(
      /TOOLSETS: unknown toolset "dleivery" \(did you mean delivery\?\); known: core, k8s, delivery, ops, drift, alerts, cost, aws, gcp/,
    );
    expect(() => loadConfig({ TOOLSETS: 'K8' })).toThrow(/"K8" \(did you mean k8s\?\)/);
    // Names without a near one get the known list only; many unknown names make one bounded line.
    const many = loadConfigError({
      TOOLSETS: ['kubernetes', ...Array.from({ length: 50 }, (_, i) => `x${i}`)].join(','),
    });
    expect(many).toContain('unknown toolset "kubernetes", "x0", "x1" and 48 more; known: core,');
    expect(many).not.toContain('did you mean');
    expect(loadConfigError({ TOOLSETS: 'y'.repeat(10_000) }).length).toBeLessThan(400);
  });

  it('knows wildcard addresses', () => {
    expect(['0.0.0.0', '::', '[::]', '', ' ', '0:0:0:0:0:0:0:0'].every(isWildcardHost)).toBe(true);
    expect(['127.0.0.1', '::1', '10.0.0.1', 'example.com'].some(isWildcardHost)).toBe(false);
  });
});

describe('KUBECONFIG', () => {
  const opts = { timeoutMs: 1000, discoveryTtlMs: 0 };
  let dir: string;
  let good: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudops-kubeconfig-'));
    good = join(dir, 'good');
    writeFileSync(good, renderKubeconfig({ clusterName: 'one', server: 'https://127.0.0.1:6443', token: 't' }));
    writeFileSync(join(dir, 'bad'), 'clusters: [unclosed\n  - : :\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is a ConfigError naming KUBECONFIG and the file', () => {
    const missing = join(dir, 'missing');
    expect(() => new KubeconfigClusters({ ...opts, kubeconfig: missing }, {})).toThrow(ConfigError);
    expect(() => new KubeconfigClusters({ ...opts, kubeconfig: missing }, {})).toThrow(
      `KUBECONFIG: the kubeconfig file ${missing} does not exist`,
    );
  });

  it('a file that is not a kubeconfig is a ConfigError naming KUBECONFIG and the file', () => {
    const bad = join(dir, 'bad');
    expect(() => new KubeconfigClusters({ ...opts, kubeconfig: bad }, {})).toThrow(ConfigError);
    expect(() => new KubeconfigClusters({ ...opts, kubeconfig: `${good}${delimiter}${bad}` }, {})).toThrow(
      `KUBECONFIG: cannot load the kubeconfig file ${bad}: `,
    );
  });

  it('like kubectl, merges files that reuse cluster and user names (kubeadm defaults): the first wins', async () => {
    const kubeadm = (context: string, server: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${context}`,
        `clusters: [{ name: kubernetes, cluster: { server: '${server}' } }]`,
        'users: [{ name: kubernetes-admin, user: { token: t } }]',
        `contexts: [{ name: ${context}, context: { cluster: kubernetes, user: kubernetes-admin } }]`,
      ].join('\n');
    const a = join(dir, 'kubeadm-a');
    const b = join(dir, 'kubeadm-b');
    writeFileSync(a, kubeadm('admin@a', 'https://10.0.0.1:6443'));
    writeFileSync(b, kubeadm('admin@b', 'https://10.0.0.2:6443'));
    const clusters = new KubeconfigClusters({ ...opts, kubeconfig: [a, b].join(delimiter) }, {});
    expect((await clusters.list()).map((c) => c.name)).toEqual(['admin@a', 'admin@b']);
    expect((await clusters.list()).find((c) => c.isDefault)?.name).toBe('admin@a');
  });

  it('like kubectl, skips missing files of a list as long as one exists, and says which', async () => {
    const a = join(dir, 'a-missing');
    const b = join(dir, 'b-missing');
    const clusters = new KubeconfigClusters({ ...opts, kubeconfig: [a, good, b].join(delimiter) }, {});
    expect((await clusters.list()).map((c) => c.name)).toEqual(['one']);
    expect(clusters.skipped).toEqual([a, b]);
    expect(() => new KubeconfigClusters({ ...opts, kubeconfig: [a, b].join(delimiter) }, {})).toThrow(
      `KUBECONFIG: none of the kubeconfig files exists: ${a}, ${b}`,
    );
  });
});

function loadConfigError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted the settings');
}
