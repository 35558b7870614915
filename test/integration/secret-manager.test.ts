import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretManagerSecrets } from '../../shared/adapters/gcp/secret-manager.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import { SecretAccessDeniedError, SecretNotFoundError, SecretReadError } from '../../shared/ports/secrets.ts';
import { useFakeAdc } from '../support/fake-gcp/adc.ts';
import { FakeGoogleTokens } from '../support/fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from '../support/fake-gcp/metadata.ts';
import { type FakeSecretManager, startFakeSecretManager } from '../support/fake-gcp/secret-manager.ts';
import { freePort } from '../support/moto.ts';

/**
 * The Secret Manager adapter (versions.access over REST, google-auth-library finding the fake metadata
 * server as on Cloud Functions) against the loopback fake of Secret Manager, which refuses what the
 * real API refuses (test/support/fake-gcp/README.md): no token, a principal not granted, a missing
 * secret or version, a version that is not enabled.
 */

const SA = 'cloudops-fn@ops-project.iam.gserviceaccount.com';
const KUBECONFIG = 'apiVersion: v1\nkind: Config\n# café ✓\n';

let tokens: FakeGoogleTokens;
let metadata: FakeMetadataServer;
let api: FakeSecretManager;
let restoreAdc: (() => void) | undefined;

const reader = (baseUrl = api.url) => new SecretManagerSecrets({ baseUrl, timeoutMs: 5_000 });
const version = (project: string, secret: string, v: string | number) =>
  `projects/${project}/secrets/${secret}/versions/${v}`;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('the read succeeded'),
    (err: Error) => err,
  );

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  metadata = await startFakeMetadataServer(tokens, { serviceAccount: SA, projectId: 'ops-project' });
  api = await startFakeSecretManager(tokens, [
    {
      id: 'ops-project',
      number: '123456789012',
      secrets: {
        kubeconfig: { versions: [{ data: 'old' }, { data: KUBECONFIG }], accessors: [SA] },
        'slack-alerts': { versions: [{ data: 'xoxb-1' }, { data: 'xoxb-2', state: 'DISABLED' }], accessors: [SA] },
        'not-ours': {
          versions: [{ data: 'someone-elses-value' }],
          accessors: ['other@ops-project.iam.gserviceaccount.com'],
        },
      },
    },
    // Granted on the whole project: existence is no longer hidden, so a missing secret is a 404.
    { id: 'shared-project', number: '210987654321', accessors: [SA], secrets: { empty: { versions: [] } } },
  ]);
  restoreAdc = useFakeAdc(metadata.host, 'ops-project');
});

afterAll(async () => {
  restoreAdc?.();
  await Promise.all([api?.close(), metadata?.close()]);
});

describe('Secret Manager adapter against the fake', () => {
  it('reads the latest version, and a numbered one, as UTF-8 text', async () => {
    const secrets = reader();
    await expect(secrets.read(version('ops-project', 'kubeconfig', 'latest'))).resolves.toBe(KUBECONFIG);
    await expect(secrets.read(version('ops-project', 'kubeconfig', 1))).resolves.toBe('old');
    // The project number names the same project.
    await expect(secrets.read(version('123456789012', 'kubeconfig', 'latest'))).resolves.toBe(KUBECONFIG);
    api.addVersion('ops-project', 'kubeconfig', 'rotated');
    await expect(secrets.read(version('ops-project', 'kubeconfig', 'latest'))).resolves.toBe('rotated');
  });

  it('a secret not granted to the function: access denied (no retry cures it), whether or not it exists', async () => {
    for (const name of [version('ops-project', 'not-ours', 'latest'), version('ops-project', 'no-such', 'latest')]) {
      const err = await failure(reader().read(name));
      expect(err).toBeInstanceOf(SecretAccessDeniedError);
      expect(err.message).toContain(name);
      expect(err.message).not.toContain('someone-elses-value');
    }
  });

  it('granted but missing: not found, for a missing secret, one without versions and a missing version', async () => {
    for (const name of [
      version('shared-project', 'no-such', 'latest'),
      version('shared-project', 'empty', 'latest'),
      version('ops-project', 'kubeconfig', 99),
    ]) {
      const err = await failure(reader().read(name));
      expect(err).toBeInstanceOf(SecretNotFoundError);
    }
  });

  it('a disabled version (the latest here) is a read that cannot succeed as configured, not a passing failure', async () => {
    const err = await failure(reader().read(version('ops-project', 'slack-alerts', 'latest')));
    expect(err).toBeInstanceOf(SecretReadError);
    expect(err.message).toMatch(/DISABLED|disabled/);
    expect(err.message).not.toContain('xoxb');
    await expect(reader().read(version('ops-project', 'slack-alerts', 1))).resolves.toBe('xoxb-1');
  });

  it('a name that is not a version name is refused before any request', async () => {
    const before = api.accesses('ops-project/kubeconfig');
    for (const name of [
      'projects/ops-project/secrets/kubeconfig',
      'kubeconfig',
      version('ops-project', 'kubeconfig', 0),
    ]) {
      await expect(reader().read(name)).rejects.toBeInstanceOf(SecretReadError);
    }
    expect(api.accesses('ops-project/kubeconfig')).toBe(before);
  });

  it('Secret Manager unreachable: a CloudApiError the caller may retry, not a SecretReadError', async () => {
    const err = await failure(
      reader(`http://127.0.0.1:${await freePort()}/v1`).read(version('ops-project', 'kubeconfig', 'latest')),
    );
    expect(err).toBeInstanceOf(CloudApiError);
    expect(err).not.toBeInstanceOf(SecretReadError);
  });
});

describe('the fake refuses what Secret Manager refuses', () => {
  const access = (path: string, init: RequestInit = {}) => fetch(`${api.url}/${path}:access`, init);

  it('no bearer token, or an unknown one: 401 UNAUTHENTICATED', async () => {
    const none = await access(version('ops-project', 'kubeconfig', 'latest'));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    const forged = await access(version('ops-project', 'kubeconfig', 'latest'), {
      headers: { authorization: 'Bearer ya29.forged' },
    });
    expect(forged.status).toBe(401);
  });

  it('a granted read answers the resolved version under the project number, the payload base64', async () => {
    const { token } = tokens.issue(SA, ['https://www.googleapis.com/auth/cloud-platform'], 60);
    const res = await access(version('ops-project', 'kubeconfig', 1), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'projects/123456789012/secrets/kubeconfig/versions/1',
      payload: { data: Buffer.from('old').toString('base64') },
    });
    const denied = await access(version('ops-project', 'not-ours', 1), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(denied.status).toBe(403);
    const bad = await access(version('ops-project', 'kubeconfig', 'newest'), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    const post = await access(version('ops-project', 'kubeconfig', 1), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(post.status).toBe(404);
  });
});
