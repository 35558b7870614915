import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { AuditTrail } from '../../shared/app/repos/audit.ts';
import { type Operation, Operations } from '../../shared/app/repos/operations.ts';
import { slackText } from '../../shared/channels/slack/protocol.ts';
import { ParseCache } from '../../shared/domain/input/index.ts';
import { diffObjects, maskLogText, redactManifestText, redactObject } from '../../shared/domain/k8s/index.ts';
import {
  isSecretKey,
  isSecretKind,
  maskArgv,
  maskSecretsInText,
  REDACTED,
  redactSecrets,
} from '../../shared/domain/redact.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { k8sResourcesPatchTool } from '../../shared/tools/k8s/resources-patch.tool.ts';

/**
 * The corpus of the one redaction (shared/domain/redact.ts): names that must and must not be
 * masked, argv, kind spellings, text shapes, and a property: whatever wraps a Secret, its values
 * never come out of any path.
 */

const VALUE = 'Zq9-opaque-S3cret-value-7781';
const PLAIN = 'plain-observable-value-4242';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Must be masked: the value under this name never appears (env, ConfigMap data, text, audit args). */
const MUST_MASK = [
  'PASSWORD',
  'password',
  'DB_PASSWORD',
  'db-password',
  'dbPassword',
  'DBPassword',
  'MYSQL_ROOT_PASSWORD',
  'POSTGRES_PASSWORD',
  'PGPASSWORD',
  'MYSQLPASSWORD',
  'REDIS_PASSWORD',
  'passwd',
  'DB_PASSWD',
  'PASSPHRASE',
  'SSH_PASSPHRASE',
  'DB_PWD',
  'MYSQL_PWD',
  'DB_PASS',
  'SMTP_PASS',
  'pass',
  'DB_PW',
  'SECRET',
  'secret',
  'CLIENT_SECRET',
  'clientSecret',
  'client_secret',
  'APP_SECRET',
  'JWT_SECRET',
  'SESSION_SECRET',
  'webhookSecret',
  'SECRET_KEY',
  'SECRET_KEY_BASE',
  'DJANGO_SECRET_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'secretAccessKey',
  'AWS_ACCESS_KEY_ID',
  'accessKeyId',
  'AWS_SESSION_TOKEN',
  'TOKEN',
  'token',
  'API_TOKEN',
  'GITHUB_TOKEN',
  'accessToken',
  'refresh_token',
  'authToken',
  'X-Auth-Token',
  'tokens',
  'API_KEY',
  'apiKey',
  'api-key',
  'x-api-key',
  'apikey',
  'STRIPE_API_KEY',
  'STRIPE_KEY',
  'ENCRYPTION_KEY',
  'MASTER_KEY',
  'SIGNING_KEY',
  'PRIVATE_KEY',
  'privateKey',
  'ssh-privatekey',
  'tls.key',
  'TLS_KEY',
  'SSH_KEY',
  'LICENSE_KEY',
  'API_KEYS',
  'BASIC_AUTH',
  'REDIS_AUTH',
  'auth',
  'Authorization',
  'proxy-authorization',
  'CREDENTIALS',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'DB_CREDENTIALS',
  'awsCredentials',
  'creds',
  'SESSION_COOKIE',
  'DSN',
  'SENTRY_DSN',
  'DATABASE_URL',
  'DB_URL',
  'databaseUrl',
  'JDBC_URL',
  'ConnectionStrings__Default',
  'connectionString',
  'SLACK_WEBHOOK_URL',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'HASH_SALT',
  'JWT',
];

/** Must not be masked: configuration an operator needs to see, names that only look alike. */
const MUST_NOT_MASK = [
  'PATH',
  'HOME',
  'PWD',
  'OLDPWD',
  'LANG',
  'TZ',
  'LOG_LEVEL',
  'NODE_ENV',
  'PORT',
  'DB_HOST',
  'DB_PORT',
  'DB_USER',
  'DB_NAME',
  'USERNAME',
  'MONKEY',
  'KEYSPACE',
  'KEYBOARD',
  'HOTKEY',
  'TURKEY',
  'key',
  'KEY',
  'SORT_KEY',
  'PARTITION_KEY',
  'PRIMARY_KEY',
  'primaryKey',
  'topologyKey',
  'PUBLIC_KEY',
  'publicKey',
  'KMS_KEY_ID',
  'CACHE_KEY_PREFIX',
  'ROUTING_KEY',
  'IDEMPOTENCY_KEY',
  'secretName',
  'SECRET_NAME',
  'TLS_SECRET_NAME',
  'secretRef',
  'secretKeyRef',
  'configMapKeyRef',
  'PASSWORD_FILE',
  'POSTGRES_PASSWORD_FILE',
  'passwordPolicy',
  'password_policy',
  'PASSWORD_MIN_LENGTH',
  'passwordless',
  'tokenCount',
  'TOKEN_URL',
  'TOKEN_TTL',
  'MAX_TOKENS',
  'AUTH_URL',
  'OAUTH_ISSUER',
  'AUTHOR',
  'BYPASS',
  'COMPASS',
  'PASS_THROUGH',
  'SERVICE_ACCOUNT',
  'REPLICAS',
  'JAVA_OPTS',
  'KUBERNETES_SERVICE_HOST',
  'CA_BUNDLE',
  'CERT_PATH',
  'image',
  'name',
  'value',
];

function deploymentWithEnv(name: string, value: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api' },
    spec: { template: { spec: { containers: [{ name: 'api', image: 'api:1', env: [{ name, value }] }] } } },
  };
}

describe('name corpus', () => {
  it('is large enough to mean something', () => {
    expect(MUST_MASK.length).toBeGreaterThanOrEqual(60);
    expect(MUST_NOT_MASK.length).toBeGreaterThanOrEqual(30);
    expect(MUST_MASK.filter((n) => MUST_NOT_MASK.includes(n))).toEqual([]);
  });

  it.each(MUST_MASK)('masks the value under %s on every path', (name) => {
    expect(isSecretKey(name), 'isSecretKey').toBe(true);
    const paths: Record<string, unknown> = {
      env: redactObject(deploymentWithEnv(name, VALUE)),
      configMap: redactObject({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { [name]: VALUE } }),
      crdField: redactObject({ kind: 'Widget', metadata: { name: 'w' }, spec: { [name]: VALUE } }),
      annotation: redactObject({ kind: 'Pod', metadata: { name: 'p', annotations: { [name]: VALUE } } }),
      auditArgs: redactSecrets({ [name]: VALUE, env: [{ name, value: VALUE }] }),
      text: maskSecretsInText(`${name}=${VALUE} and "${name}": "${VALUE}"`),
      log: maskLogText(`level=info ${name}: ${VALUE}`),
      yamlText: maskSecretsInText(`env:\n- name: ${name}\n  value: ${VALUE}\n`),
      argv: maskArgv(['app', `--${name}`, VALUE, `--${name}=${VALUE}`]),
    };
    for (const [path, out] of Object.entries(paths)) {
      expect(JSON.stringify(out), `${name} via ${path}`).not.toContain(VALUE);
    }
  });

  it.each(MUST_NOT_MASK)('keeps the value under %s', (name) => {
    expect(isSecretKey(name), 'isSecretKey').toBe(false);
    expect(JSON.stringify(redactObject(deploymentWithEnv(name, PLAIN)))).toContain(PLAIN);
    expect(JSON.stringify(redactSecrets({ [name]: PLAIN }))).toContain(PLAIN);
    expect(maskSecretsInText(`${name}=${PLAIN}`)).toBe(`${name}=${PLAIN}`);
  });

  it('locators keep what is not a credential', () => {
    expect(maskSecretsInText('DATABASE_URL=postgres://app:pw1234@db:5432/app')).toBe(
      `DATABASE_URL=postgres://app:${REDACTED}@db:5432/app`,
    );
    expect(maskSecretsInText('SENTRY_DSN=https://abcdef0123@o1.ingest.sentry.io/7')).toBe(
      `SENTRY_DSN=https://${REDACTED}@o1.ingest.sentry.io/7`,
    );
    expect(redactSecrets({ DSN: 'host=db user=app password=pw1234 dbname=app' })).toEqual({
      DSN: `host=db user=app password=${REDACTED} dbname=app`,
    });
  });
});

describe('argv corpus', () => {
  const cases: Array<[argv: string[], gone: string[], kept: string[]]> = [
    [['app', '--password=S3cretA'], ['S3cretA'], ['--password=']],
    [['app', '--password', 'S3cretA', '--port', '5432'], ['S3cretA'], ['5432', '--port']],
    [['app', '--db-password', 'S3cretA'], ['S3cretA'], []],
    [['app', '-token', 'S3cretA'], ['S3cretA'], []],
    [['app', '--api-key=S3cretA'], ['S3cretA'], []],
    [['app', '--client-secret', 'S3cretA'], ['S3cretA'], []],
    [['app', '--aws-secret-access-key', 'S3cretA'], ['S3cretA'], []],
    [['java', '-Djavax.net.ssl.keyStorePassword=S3cretA', '-jar', 'app.jar'], ['S3cretA'], ['app.jar']],
    [['mysql', '-uroot', '-pS3cretA', 'shop'], ['S3cretA'], ['-uroot', 'shop']],
    [['/usr/bin/redis-cli', '-a', 'S3cretA', '-p', '6379'], ['S3cretA'], ['6379']],
    [['sshpass', '-p', 'S3cretA', 'ssh', 'host'], ['S3cretA'], ['host']],
    [['curl', '-u', 'bob:S3cretA', 'https://x'], ['S3cretA'], ['bob:', 'https://x']],
    [['curl', '--user=bob:S3cretA'], ['S3cretA'], ['bob:']],
    [['sh', '-c', 'PGPASSWORD=S3cretA psql -h db'], ['S3cretA'], ['psql -h db']],
    [['sh', '-c', 'psql --password S3cretA -h db'], ['S3cretA'], ['-h db']],
    [['sh', '-c', 'export DB_PASSWORD="S3cretA" && run'], ['S3cretA'], ['&& run']],
    [['psql', 'postgres://u:S3cretA@db/app'], ['S3cretA'], ['@db/app']],
    [['app', '--config', '{"password":"S3cretA"}'], ['S3cretA'], []],
    [['app', '--header', 'Authorization: Bearer S3cretA0123'], ['S3cretA0123'], []],
    // Decisions: a bare -p is a port for psql/ssh/kubectl; a --password followed by a flag has no value.
    [['psql', '-p', '5432', '-U', 'app'], [], ['5432', 'app']],
    [['ssh', '-p', '2222', 'host'], [], ['2222']],
    [['kubectl', 'logs', '-p', 'web'], [], ['web']],
    [['app', '--password-file', '/run/secrets/pw'], [], ['/run/secrets/pw']],
    [['app', '--token-ttl', '3600'], [], ['3600']],
    [['app', '--password', '--verbose'], [], ['--verbose']],
  ];
  it.each(cases)('%j', (argv, gone, kept) => {
    const direct = JSON.stringify(maskArgv(argv));
    const inObject = JSON.stringify(
      redactObject({ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', args: argv }] } }),
    );
    // Text knows the command-specific short flags on one line (a JSON list, a shell line), not across
    // the lines of a YAML block list: manifests holding those are redacted as objects.
    const commandSpecific = /(?:mysql|redis-cli|sshpass|curl)$/.test(argv[0] ?? '');
    const inText = maskSecretsInText(
      `args: ${JSON.stringify(argv)}\n${argv.join(' ')}\n${commandSpecific ? '' : stringify({ args: argv })}`,
    );
    for (const out of [direct, inObject, inText]) {
      for (const g of gone) expect(out).not.toContain(g);
      for (const k of kept) expect(out).toContain(k);
    }
  });

  it('a diff hides secret-named fields of any kind, and ConfigMap data under odd kind spellings', () => {
    const widget = (pw: string) => ({ kind: 'Widget', metadata: { name: 'w' }, spec: { adminPassword: pw, size: 1 } });
    const d = diffObjects(widget('OldS3cret11'), widget('NewS3cret22'));
    expect(d.changes).toEqual([{ path: 'spec.adminPassword', op: 'change', from: '<redacted>', to: '<redacted>' }]);
    const pod = (automount: boolean) => ({
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { automountServiceAccountToken: automount },
    });
    expect(diffObjects(pod(true), pod(false)).changes).toEqual([
      { path: 'spec.automountServiceAccountToken', op: 'change', from: true, to: false },
    ]);
    const added = diffObjects(undefined, widget('OldS3cret11'));
    expect(JSON.stringify(added)).not.toContain('OldS3cret11');
    const cm = (v: string) => ({ kind: 'configmap', metadata: { name: 'c' }, data: { DB_PASSWORD: v } });
    expect(JSON.stringify(diffObjects(cm('OldS3cret11'), cm('NewS3cret22')))).not.toMatch(/S3cret/);
  });

  it('a changed secret flag value shows as a change in a diff, never its value', () => {
    const pod = (pw: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'i', args: ['--password', pw, '--port', '80'] }] },
    });
    const diff = diffObjects(pod('OldS3cret11'), pod('NewS3cret22'));
    const json = JSON.stringify(diff);
    expect(diff.changes).toHaveLength(1);
    expect(json).not.toContain('OldS3cret11');
    expect(json).not.toContain('NewS3cret22');
    expect(json).not.toMatch(/sha256:[0-9a-f]{64}/);
    expect(JSON.stringify(diffObjects(undefined, pod('OldS3cret11')))).not.toContain('OldS3cret11');
  });
});

describe('kind corpus', () => {
  const SPELLINGS = [
    'Secret',
    'secret',
    'SECRET',
    ' Secret',
    'Secret ',
    'secrets',
    'Secrets',
    'SeCrEt',
    'v1/Secret',
    'secrets.v1',
  ];
  const VERSIONS = ['v1', undefined, 'example.com/v1'];

  it.each(SPELLINGS)('kind %j is a Secret, with any apiVersion, in objects, YAML and JSON', (kind) => {
    expect(isSecretKind(kind)).toBe(true);
    for (const apiVersion of VERSIONS) {
      const doc = {
        ...(apiVersion ? { apiVersion } : {}),
        kind,
        metadata: { name: 's' },
        data: { any: b64(VALUE) },
        stringData: { other: VALUE },
      };
      for (const out of [
        JSON.stringify(redactObject(doc)),
        redactManifestText(stringify(doc)),
        redactManifestText(JSON.stringify(doc)),
        JSON.stringify(redactSecrets({ object: doc })),
        JSON.stringify(diffObjects(undefined, doc)),
      ]) {
        expect(out, `${kind} ${apiVersion}`).not.toContain(VALUE);
        expect(out, `${kind} ${apiVersion}`).not.toContain(b64(VALUE));
      }
    }
  });

  it.each(SPELLINGS)('k8s_resources_patch audits no value of a patch of kind %j', (kind) => {
    const args = { cluster: 'dev', kind, name: 's', patch: `{"data":{"any":"${b64(VALUE)}"}}` };
    const audited = k8sResourcesPatchTool.auditArgs?.(args, new ParseCache());
    expect(JSON.stringify(redactSecrets(audited))).not.toContain(b64(VALUE));
  });

  it('other kinds are not Secrets', () => {
    for (const kind of ['SecretList', 'ExternalSecret', 'SealedSecret', 'SecretStore', 'ConfigMap', 'secret-store']) {
      expect(isSecretKind(kind), kind).toBe(false);
    }
  });

  it('any reading that says Secret wins: a Kind key, a YAML merge key, duplicate keys in JSON text', () => {
    const data = `"data":{"any":"${b64(VALUE)}"},"stringData":{"other":"${VALUE}"}`;
    const texts = [
      `{"kind":"Secret","kind":"ConfigMap","metadata":{"name":"s"},${data}}`,
      `{"kind":"ConfigMap","kind":"Secret","metadata":{"name":"s"},${data}}`,
      `{"apiVersion":"v1","kind":"ConfigMap","Kind":"Secret","metadata":{"name":"s"},${data}}`,
      `{"kind":"List","items":[{"kind":"secret","kind":"ConfigMap",${data}}]}`,
      `base: &b {kind: Secret}\n<<: *b\nmetadata: {name: s}\ndata: {any: ${b64(VALUE)}}\nstringData: {other: ${VALUE}}\n`,
      `kind: Secret\nkind: ConfigMap\ndata:\n  any: ${b64(VALUE)}\nstringData:\n  other: ${VALUE}\n`,
    ];
    for (const text of texts) {
      const out = redactManifestText(text);
      expect(out, text).not.toContain(VALUE);
      expect(out, text).not.toContain(b64(VALUE));
    }
    const objects = [
      { kind: 'ConfigMap', Kind: 'Secret', data: { any: b64(VALUE) } },
      { '<<': { kind: 'Secret' }, data: { any: b64(VALUE) } },
      { '<<': [{ apiVersion: 'v1' }, { KIND: 'secrets' }], stringData: { any: VALUE } },
    ];
    for (const o of objects) expect(JSON.stringify(redactObject(o))).not.toContain(b64(VALUE));
  });

  it('List wrappers, nested, with and without item kinds', () => {
    const secret = { kind: 'Secret', metadata: { name: 's' }, data: { any: b64(VALUE) } };
    const kindless = { metadata: { name: 's' }, data: { any: b64(VALUE) } };
    const wrappers = [
      { kind: 'List', apiVersion: 'v1', items: [secret] },
      { kind: 'List', items: [kindless] },
      { kind: 'SecretList', items: [kindless] },
      { kind: 'secretlist', items: [{ ...kindless, type: 'Opaque' }] },
      { kind: 'v1/List', items: [{ kind: 'SecretList', items: [kindless] }] },
      { kind: 'List', items: [{ kind: 'List', items: [{ kind: 'List', items: [secret] }] }] },
      { items: [{ items: [kindless] }] },
      { type: 'ADDED', object: { kind: 'SecretList', items: [kindless] } },
    ];
    for (const w of wrappers) {
      for (const out of [
        JSON.stringify(redactObject(w)),
        redactManifestText(stringify(w)),
        JSON.stringify(redactSecrets(w)),
      ]) {
        expect(out, JSON.stringify(w)).not.toContain(b64(VALUE));
      }
    }
  });
});

describe('text corpus', () => {
  const texts: Array<[text: string, gone: string]> = [
    ['postgres://user:Pa55w0rdX@db:5432/app', 'Pa55w0rdX'],
    ['https://user:ghtoken123@git.example.com/repo', 'ghtoken123'],
    ['Server=db;Database=app;User Id=sa;Password=Pa55 w0rdX;', 'Pa55 w0rdX'],
    ['Driver={x};Uid=sa;Pwd=Pa55w0rdX;', 'Pa55w0rdX'],
    ['jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Pa55w0rdX', 'Pa55w0rdX'],
    ['jdbc:mysql://db/app?user=app&password=Pa55w0rdX&ssl=true', 'Pa55w0rdX'],
    ['jdbc:oracle:thin:scott/Pa55w0rdX@db:1521/ORCL', 'Pa55w0rdX'],
    ['Authorization: Bearer eyJraWQiOiJ4In0.abc.def', 'eyJraWQiOiJ4In0'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXk'],
    ['-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0\n-----END PGP PRIVATE KEY BLOCK-----', 'lQOYBF0'],
    ['aws key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMQ', 'c2lnbmF0dXJlMQ'],
    ['kubectl set env deployment/api DB_PASSWORD=Pa55w0rdX', 'Pa55w0rdX'],
    ['export PGPASSWORD=Pa55w0rdX; psql', 'Pa55w0rdX'],
    ['{"name":"API_TOKEN","value":"Pa55w0rdX"}', 'Pa55w0rdX'],
    ['{"value":"Pa55w0rdX","name":"API_TOKEN"}', 'Pa55w0rdX'],
    ['- name: API_TOKEN\n  value: |\n    Pa55w0rdX\n- name: LOG\n  value: info', 'Pa55w0rdX'],
    ['https://s3.amazonaws.com/b/k?X-Amz-Signature=Pa55w0rdX&X-Amz-Expires=60', 'Pa55w0rdX'],
  ];
  it.each(texts)('%j', (text, gone) => {
    const masked = maskSecretsInText(text);
    expect(masked).not.toContain(gone);
    expect(maskSecretsInText(masked)).toBe(masked);
    expect(slackText(text)).not.toContain(gone);
  });
});

describe('annotations and labels', () => {
  it('redacts inside JSON copies kept in annotations, and judges label keys like any other name', () => {
    const applied = deploymentWithEnv('DB_PASSWORD', VALUE);
    const out = redactObject({
      ...applied,
      metadata: {
        name: 'api',
        labels: { app: 'api', 'example.com/api-token': VALUE },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied),
          'kapp.k14s.io/original': JSON.stringify({ kind: 'Secret', stringData: { x: VALUE } }),
          'ci.example.com/note': `deployed with API_TOKEN=${VALUE}`,
        },
      },
    }) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(JSON.stringify(out)).not.toContain(VALUE);
    // Decision: labels get the same name rules (a secret-named label key is masked, others kept).
    expect(out.metadata.labels).toEqual({ app: 'api', 'example.com/api-token': REDACTED });
    const lastApplied = JSON.parse(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] ?? '');
    expect(lastApplied.spec.template.spec.containers[0].env[0]).toEqual({ name: 'DB_PASSWORD', value: REDACTED });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: a Secret, however wrapped and spelled, never leaves through any path.
// ---------------------------------------------------------------------------------------------

const fixedClock: Clock = { now: () => Date.parse('2026-12-01T00:00:00Z') };
const secretValue = fc.stringMatching(/^[a-z0-9]{14,24}$/).map((s) => `Zq${s}`);
const kindSpelling = fc.constantFrom('Secret', 'secret', 'SECRET', ' Secret', 'secrets', 'v1/Secret', 'Secrets');
const wrapper = fc.constantFrom('List', 'v1List', 'SecretList', 'kindless', 'event');
const dataKey = fc.constantFrom('password', 'foo', 'config.json', 'x', 'tls.crt');

interface Case {
  secret: Record<string, unknown>;
  doc: Record<string, unknown>;
  text: string;
  forbidden: string[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    kind: kindSpelling,
    apiVersion: fc.constantFrom('v1', undefined),
    key: dataKey,
    value: secretValue,
    useStringData: fc.boolean(),
    kindKey: fc.constantFrom('kind', 'Kind'),
    wrappers: fc.array(wrapper, { maxLength: 3 }),
    duplicate: fc.constantFrom('none', 'before', 'after'),
    yaml: fc.boolean(),
  })
  .map((c) => {
    const field = c.useStringData ? { stringData: { [c.key]: c.value } } : { data: { [c.key]: b64(c.value) } };
    const secret: Record<string, unknown> = {
      ...(c.apiVersion ? { apiVersion: c.apiVersion } : {}),
      [c.kindKey]: c.kind,
      metadata: { name: 'db', namespace: 'shop' },
      type: 'Opaque',
      ...field,
    };
    let doc: Record<string, unknown> = secret;
    for (const w of c.wrappers) {
      const { kind: _k, Kind: _K, apiVersion: _v, ...kindless } = doc;
      const bare = doc === secret ? kindless : doc;
      doc =
        w === 'List'
          ? { kind: 'List', items: [{ kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } }, doc] }
          : w === 'v1List'
            ? { apiVersion: 'v1', kind: 'List', items: [doc] }
            : w === 'SecretList'
              ? { apiVersion: 'v1', kind: 'SecretList', items: [bare] }
              : w === 'kindless'
                ? { items: [doc] }
                : { type: 'MODIFIED', object: doc };
    }
    let text = c.yaml ? stringify(doc) : JSON.stringify(doc);
    if (!c.yaml && c.duplicate !== 'none') {
      // A second kind key that JSON.parse resolves one way and the API server might read the other.
      const claim = `"${c.kindKey}":${JSON.stringify(c.kind)}`;
      text = text.replace(
        claim,
        c.duplicate === 'before' ? `"kind":"ConfigMap",${claim}` : `${claim},"kind":"ConfigMap"`,
      );
    }
    const forbidden = [
      c.value,
      b64(c.value),
      b64(c.value).replace(/=+$/, ''),
      Buffer.from(c.value).toString('base64url'),
    ];
    return { secret, doc, text, forbidden };
  });

function expectClean(label: string, output: unknown, forbidden: string[]): void {
  const json = typeof output === 'string' ? output : JSON.stringify(output);
  for (const f of forbidden) expect(json.includes(f), `${label} leaks ${f}`).toBe(false);
}

describe('property: no path lets a Secret value out', () => {
  it('the generator really puts the value in (the check can fail)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(() => expectClean('raw', c.doc, c.forbidden)).toThrow();
      }),
      { numRuns: 20 },
    );
  });

  it('result renderer, diff, audit args, operation record, Slack text, logs', async () => {
    const audit = new AuditTrail({
      store: new MemoryStore(fixedClock),
      clock: fixedClock,
      log: pino({ level: 'silent' }),
      retentionDays: 30,
    });
    const identity = { subject: 'u1', name: 'alice', roles: ['operator'], method: 'apiKey' } as const;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        // Result renderer (k8s_resources_get / list output=full): redacted object, as YAML and JSON.
        const shown = redactObject(c.doc);
        expectClean('renderer json', shown, c.forbidden);
        expectClean('renderer yaml', stringify(shown, { lineWidth: 0 }), c.forbidden);
        // Diffs and change summaries (apply/patch/delete dry runs).
        const rotated = { ...c.secret, data: { other: b64('rotated-value') } };
        for (const d of [
          diffObjects(undefined, c.secret),
          diffObjects(c.secret, rotated),
          diffObjects(rotated, c.secret),
        ]) {
          expectClean('diff', d, c.forbidden);
        }
        // Dry-run echo and audit arguments of a manifest, and an object passed as an argument.
        const echo = redactManifestText(c.text);
        expectClean('echo', echo, c.forbidden);
        const event = audit.event({
          requestId: 'r1',
          caller: { subject: identity.subject, name: identity.name, method: identity.method },
          roles: [...identity.roles],
          tool: 'k8s_resources_apply',
          args: { manifest: echo, object: c.doc },
          outcome: 'ok',
          durationMs: 1,
          startedAt: fixedClock.now(),
        });
        expectClean('audit', event, c.forbidden);
        // Operation records, as written to the Store.
        const store = new MemoryStore(fixedClock);
        const ops = new Operations(store, fixedClock);
        const op: Omit<Operation, 'createdAt' | 'updatedAt'> = {
          id: 'op-1',
          kind: 'rollout',
          target: { cluster: 'dev', namespace: 'shop', kind: 'Deployment', name: 'api' },
          requester: { subject: 'u1', name: 'alice' },
          status: 'working',
          statusMessage: `applying ${JSON.stringify(shown)}`,
          input: { object: c.doc },
          changeHash: 'a'.repeat(64),
          steps: [],
          progress: { nextActions: [] },
          requests: {},
          ttlSeconds: 3600,
          pollIntervalMs: 1000,
        };
        await ops.create(op);
        await ops.update('op-1', (o) => {
          o.result = { applied: c.doc };
          return undefined;
        });
        expectClean('operation record', (await store.get('op#op-1', 'op'))?.data, c.forbidden);
        // Slack text and log lines carrying the manifest text.
        expectClean('slack', slackText(`approve? ${c.text}`), c.forbidden);
        expectClean('log fields', redactSecrets({ msg: 'apply', object: c.doc }), c.forbidden);
      }),
      { numRuns: 60 },
    );
  });
});
