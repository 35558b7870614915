import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { redactManifestText, redactObject, secretValueDigests } from '../../shared/domain/k8s/index.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const PASSWORD = 'Tr0ub4dor&3-horse-battery';
const TOKEN = 'xoxb-not-a-real-slack-token-but-long';
const lastApplied = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db-credentials', namespace: 'shop' },
  stringData: { password: PASSWORD },
});

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'Opaque',
  metadata: {
    name: 'db-credentials',
    namespace: 'shop',
    resourceVersion: '918273',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied, owner: 'team-payments' },
    managedFields: [
      { manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:data': { 'f:password': {} } } },
    ],
  },
  data: { password: b64(PASSWORD), 'tls.key': b64('é'.repeat(10)) },
  stringData: { token: TOKEN },
};

describe('redactObject', () => {
  it('replaces Secret values with their sizes, the last-applied copy with <redacted>, and drops managedFields', () => {
    const out = redactObject(secret);
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: 'db-credentials',
        namespace: 'shop',
        resourceVersion: '918273',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '<redacted>', owner: 'team-payments' },
      },
      data: { password: `<redacted: ${PASSWORD.length} bytes>`, 'tls.key': '<redacted: 20 bytes>' },
      stringData: { token: `<redacted: ${TOKEN.length} bytes>` },
    });
  });

  it('replaces ConfigMap values under secret-named keys with their sizes, and masks credentials in the rest', () => {
    const SECRET = 'hunter2SuperSecretValue';
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app-config', namespace: 'shop' },
      data: {
        DB_PASSWORD: SECRET,
        'api-key': `${SECRET}é`,
        'config.json': `{"apiKey": "${SECRET}", "region": "eu-west-1"}`,
        DATABASE_URL: `postgres://app:${SECRET}@db:5432/app`,
        LOG_LEVEL: 'info',
        password_policy: 'strict',
        token: '',
      },
      binaryData: { 'ssh-private-key': b64(SECRET), 'logo.png': b64('png-bytes') },
    };
    const want = {
      DB_PASSWORD: `<redacted: ${SECRET.length} bytes>`,
      'api-key': `<redacted: ${SECRET.length + 2} bytes>`,
      'config.json': '{"apiKey": "[REDACTED]", "region": "eu-west-1"}',
      DATABASE_URL: 'postgres://app:[REDACTED]@db:5432/app',
      LOG_LEVEL: 'info',
      password_policy: 'strict',
      token: '',
    };
    const out = redactObject(configMap) as typeof configMap;
    expect(out.data).toEqual(want);
    expect(out.binaryData).toEqual({
      'ssh-private-key': `<redacted: ${SECRET.length} bytes>`,
      'logo.png': b64('png-bytes'),
    });
    // Items of a ConfigMapList (the API omits their kind) get the same treatment.
    const { kind: _kind, apiVersion: _v, ...item } = configMap;
    const list = redactObject({ apiVersion: 'v1', kind: 'ConfigMapList', items: [item] }) as {
      items: Array<typeof item>;
    };
    expect(list.items[0]?.data).toEqual(want);
    expect(JSON.stringify([out, list])).not.toContain(SECRET);
    // And inside manifest text (apply echo and audit).
    const text = redactManifestText(JSON.stringify(configMap));
    expect(text).not.toContain(SECRET);
    expect(text).toContain('postgres://app:[REDACTED]@db:5432/app');
  });

  it('returns a deep copy and leaves the input untouched', () => {
    const before = JSON.stringify(secret);
    const out = redactObject(secret);
    expect(JSON.stringify(secret)).toBe(before);
    expect(out.metadata).not.toBe(secret.metadata);
  });

  it('redacts items of a SecretList even though the API omits their kind', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'SecretList',
      metadata: { resourceVersion: '1' },
      items: [
        { metadata: { name: 'a', managedFields: [{}] }, type: 'Opaque', data: { k: b64('value-one') } },
        {
          metadata: { name: 'b' },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': b64('cert'), 'tls.key': b64('key!') },
        },
      ],
    };
    const out = redactObject(list) as {
      items: Array<{ metadata: Record<string, unknown>; data: Record<string, string> }>;
    };
    expect(out.items[0]?.data).toEqual({ k: '<redacted: 9 bytes>' });
    expect(out.items[0]?.metadata).toEqual({ name: 'a' });
    expect(out.items[1]?.data).toEqual({ 'tls.crt': '<redacted: 4 bytes>', 'tls.key': '<redacted: 4 bytes>' });
  });

  it('redacts Secrets inside a mixed List and leaves other kinds intact', () => {
    const list = {
      kind: 'List',
      items: [
        {
          kind: 'ConfigMap',
          metadata: { name: 'cfg' },
          data: { LOG_LEVEL: 'debug', 'app.ini': 'password = hunter22\nport = 80' },
        },
        { ...secret },
      ],
    };
    const out = redactObject(list) as { items: Array<{ data: Record<string, string> }> };
    expect(out.items[0]?.data).toEqual({ LOG_LEVEL: 'debug', 'app.ini': 'password = [REDACTED]\nport = 80' });
    expect(out.items[1]?.data.password).toBe(`<redacted: ${PASSWORD.length} bytes>`);
  });

  it('masks credentials in annotations, literal env values and args of any kind, and keeps everything else', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'api',
        namespace: 'shop',
        annotations: {
          'deployment.kubernetes.io/revision': '7',
          'ci.example.com/trigger': 'curl -H "Authorization: Bearer abcdef0123456789" https://ci',
        },
        managedFields: [{ manager: 'kube-controller-manager' }],
      },
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [
              {
                name: 'api',
                image: 'ghcr.io/acme/api:2.4.1',
                args: ['--listen=:8080', '--db-password=pl41n-t3xt-pw'],
                env: [
                  { name: 'LOG_LEVEL', value: 'info' },
                  { name: 'DB_PASSWORD', value: 'pl41n-t3xt-pw' },
                  { name: 'STRIPE_API_KEY', value: 'sk_live_abc' },
                  { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } },
                ],
              },
            ],
          },
        },
      },
      status: { readyReplicas: 3 },
    };
    const out = redactObject(deployment);
    const json = JSON.stringify(out);
    expect(json).not.toContain('pl41n-t3xt-pw');
    expect(json).not.toContain('abcdef0123456789');
    expect(json).not.toContain('sk_live_abc');
    expect(json).not.toContain('managedFields');
    const container = (out as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } }).spec
      .template.spec.containers[0];
    expect(container?.args).toEqual(['--listen=:8080', '--db-password=[REDACTED]']);
    expect(container?.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', value: '[REDACTED]' },
      { name: 'STRIPE_API_KEY', value: '[REDACTED]' },
      { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } },
    ]);
    expect(out.status).toEqual({ readyReplicas: 3 });
    expect(
      (out.metadata as { annotations: Record<string, string> }).annotations['deployment.kubernetes.io/revision'],
    ).toBe('7');
  });

  it('redacts inside the last-applied annotation of a non-Secret object instead of dropping it', () => {
    const applied = {
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'api', image: 'api:1', env: [{ name: 'DB_PASSWORD', value: 'pl41n-t3xt-pw' }] }],
          },
        },
      },
    };
    const obj = {
      ...applied,
      metadata: {
        name: 'api',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) },
      },
    };
    const out = redactObject(obj) as { metadata: { annotations: Record<string, string> } };
    const annotation = out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] ?? '';
    expect(annotation).not.toContain('pl41n-t3xt-pw');
    expect(JSON.parse(annotation).spec.template.spec.containers[0].env[0]).toEqual({
      name: 'DB_PASSWORD',
      value: '[REDACTED]',
    });
  });
  it('redacts Secrets embedded in other objects (watch events, templates that carry manifests)', () => {
    const watchEvent = { type: 'MODIFIED', object: { ...secret } };
    const template = {
      apiVersion: 'template.openshift.io/v1',
      kind: 'Template',
      metadata: { name: 'db' },
      objects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: PASSWORD } }],
    };
    for (const out of [redactObject(watchEvent), redactObject(template)]) {
      const json = JSON.stringify(out);
      expect(json).not.toContain(PASSWORD);
      expect(json).not.toContain(b64(PASSWORD));
      expect(json).toContain(`<redacted: ${PASSWORD.length} bytes>`);
    }
  });

  it('cuts absurdly deep nesting instead of walking past it unredacted', () => {
    let deep: Record<string, unknown> = { kind: 'Secret', metadata: { name: 'deep' }, data: { pw: b64(PASSWORD) } };
    for (let i = 0; i < 300; i++) deep = { nested: deep };
    const out = JSON.stringify(redactObject({ kind: 'Widget', metadata: { name: 'w' }, spec: deep }));
    expect(out).not.toContain(b64(PASSWORD));
    expect(out).toContain('[TRUNCATED: too deep]');
  });
});

describe('redactManifestText', () => {
  const manifest = [
    '# applied by the deploy pipeline',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: db-credentials',
    '  namespace: shop',
    'type: Opaque',
    'data:',
    `  password: ${b64(PASSWORD)}`,
    'stringData:',
    `  token: "${TOKEN}"`,
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  replicas: 2',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: web',
    '          image: nginx:1.27',
    '',
  ].join('\n');

  it('redacts Secret documents of multi-document YAML and keeps the other documents', () => {
    const out = redactManifestText(manifest);
    expect(out).not.toContain(b64(PASSWORD));
    expect(out).not.toContain(TOKEN);
    const docs = parseAllDocuments(out);
    expect(Array.isArray(docs) && docs.length).toBe(2);
    const [s, d] = (Array.isArray(docs) ? docs : []).map((doc) => doc.toJS());
    expect(s.data).toEqual({ password: `<redacted: ${PASSWORD.length} bytes>` });
    expect(s.stringData).toEqual({ token: `<redacted: ${TOKEN.length} bytes>` });
    expect(d).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
  });

  it('keeps JSON input as JSON', () => {
    const out = redactManifestText(JSON.stringify(secret));
    const parsed = JSON.parse(out);
    expect(parsed.data.password).toBe(`<redacted: ${PASSWORD.length} bytes>`);
    expect(parsed.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe('<redacted>');
  });

  it('falls back to line heuristics when the YAML does not parse', () => {
    const broken = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: db',
      '  annotations:',
      `    kubectl.kubernetes.io/last-applied-configuration: {"data":{"password":"${b64(PASSWORD)}"}}`,
      'data:',
      `  password: ${b64(PASSWORD)}`,
      '  cert: |',
      '    -----BEGIN CERTIFICATE-----',
      '    MIIBszCCAVmgAwIBAgIU',
      `stringData: {token: ${TOKEN}`,
      'type: Opaque',
      '  bad: indentation: [',
    ].join('\n');
    const out = redactManifestText(broken);
    expect(out).not.toContain(b64(PASSWORD));
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('MIIBszCCAVmgAwIBAgIU');
    expect(out).toContain('  password: <redacted>');
    expect(out).toContain('  cert: <redacted>');
    expect(out).toContain('stringData: <redacted>');
    expect(out).toContain('type: Opaque');
    expect(out).toContain('  name: db');
  });

  it('skips empty documents and masks credentials in non-Secret documents', () => {
    const out = redactManifestText(
      '---\napiVersion: v1\nkind: ConfigMap\ndata:\n  dsn: "postgres password=swordfish"\n---\n---\n',
    );
    expect(out).toBe('apiVersion: v1\nkind: ConfigMap\ndata:\n  dsn: postgres password=[REDACTED]\n');
  });

  it('falls back for broken JSON too, keeping the keys', () => {
    const broken = `{"kind":"Secret","data":{"password":"${b64(PASSWORD)}","user":"YXBw"},"metadata":{"name":"db"`;
    const out = redactManifestText(broken);
    expect(out).not.toContain(b64(PASSWORD));
    expect(out).toContain('"password":"<redacted>"');
    expect(out).toContain('"user":"<redacted>"');
    expect(out).toContain('"name":"db"');
  });
});

describe('secretValueDigests', () => {
  it('digests the value bytes, so data and the same value in stringData agree', () => {
    const fromData = secretValueDigests({ kind: 'Secret', data: { pw: b64('abc') } });
    const fromStringData = secretValueDigests({ kind: 'Secret', stringData: { pw: 'abc' } });
    // FIPS 180-2 test vector for SHA-256("abc")
    expect(fromData.pw).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(fromStringData).toEqual(fromData);
  });

  it('lets stringData win over data for the same key, like the API server', () => {
    const d = secretValueDigests({ kind: 'Secret', data: { pw: b64('old') }, stringData: { pw: 'new' } });
    expect(d).toEqual(secretValueDigests({ kind: 'Secret', data: { pw: b64('new') } }));
  });

  it('uses HMAC with a key and returns nothing for other kinds', () => {
    const plain = secretValueDigests(secret);
    const keyed = secretValueDigests(secret, { hmacKey: 'server-side-key' });
    expect(Object.keys(keyed).sort()).toEqual(['password', 'tls.key', 'token']);
    expect(keyed.password).not.toBe(plain.password);
    expect(secretValueDigests({ kind: 'ConfigMap', data: { a: 'b' } })).toEqual({});
  });
});

describe('a Secret spelled another way is still a Secret', () => {
  it('kind secret / secrets / SECRET in manifest text and objects', () => {
    for (const kind of ['secret', 'secrets', 'SECRET', ' Secret']) {
      const text = `apiVersion: v1\nkind: "${kind}"\nmetadata: { name: s }\nstringData: { db: zq9VeryPrivateValue77 }\n`;
      expect(redactManifestText(text), kind).not.toContain('zq9VeryPrivateValue77');
      const obj = redactObject({
        apiVersion: 'v1',
        kind,
        metadata: { name: 's' },
        stringData: { db: 'zq9VeryPrivateValue77' },
      });
      expect(JSON.stringify(obj), kind).not.toContain('zq9VeryPrivateValue77');
    }
  });
});
