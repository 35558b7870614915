import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer } from '../../local/server.ts';
import { ConfigError } from '../../shared/config/config.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';

/*
 * KUBECONFIG_SECRET means the same on every host: a secret whose value is a kubeconfig. The local
 * host reads it from an environment variable or a file (a mounted container secret).
 */
describe('local host: KUBECONFIG_SECRET', () => {
  let kube: FakeKube;
  const base = { STORE: 'memory', PORT: '0', LOG_LEVEL: 'silent', HOME: '/nonexistent' };

  beforeAll(async () => {
    kube = await startFakeKube({ clusterName: 'from-secret' });
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('env:NAME and file:PATH both give the clusters of the kubeconfig they hold', async () => {
    const file = join(kube.kubeconfigPath, '..', 'copy.yaml');
    writeFileSync(file, kube.kubeconfigYaml);
    for (const secret of ['env:KUBE_YAML', `file:${file}`]) {
      const server = await startLocalServer({ ...base, KUBECONFIG_SECRET: secret, KUBE_YAML: kube.kubeconfigYaml });
      try {
        const clusters = await server.deps.clusters.list();
        expect(
          clusters.map((c) => [c.name, c.server]),
          secret,
        ).toEqual([['from-secret', kube.url]]);
      } finally {
        await server.close();
      }
    }
  });

  it('a secret that is missing, of another form or not a kubeconfig stops the start naming KUBECONFIG_SECRET', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ KUBECONFIG_SECRET: 'env:NOT_SET_ANYWHERE' }, /KUBECONFIG_SECRET: secret env:NOT_SET_ANYWHERE: .* not set/],
      [
        { KUBECONFIG_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube-AbC123' },
        /KUBECONFIG_SECRET: the local host reads env:<VARIABLE> or file:<path>/,
      ],
      [
        { KUBECONFIG_SECRET: 'env:JUNK', JUNK: '{{{ not yaml' },
        /KUBECONFIG_SECRET: the secret's value is not a usable/,
      ],
    ];
    for (const [env, message] of cases) {
      const err = await startLocalServer({ ...base, ...env }).then(
        async (s) => {
          await s.close();
          return new Error('started');
        },
        (e: unknown) => e as Error,
      );
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('not yaml');
    }
  });
});
