import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface FakeSecretsManager {
  endpoint: string;
  /** A real SDK client pointed at this server (fixed credentials, never the machine's). */
  client: SecretsManagerClient;
  /** SecretIds asked for, in order. */
  reads: string[];
  /** The next `count` reads fail with this error (default: ThrottlingException, as Secrets Manager throttles). */
  failNext(count: number, error?: { status: number; type: string; message: string }): void;
  close(): Promise<void>;
}

/**
 * The GetSecretValue operation of Secrets Manager's JSON 1.1 protocol on loopback, enough for the
 * real @aws-sdk/client-secrets-manager to read the secrets a test puts here.
 */
export async function startFakeSecretsManager(secrets: Record<string, string>): Promise<FakeSecretsManager> {
  const reads: string[] = [];
  let failures: Array<{ status: number; type: string; message: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: `not faked: ${req.headers['x-amz-target']}` });
        return;
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
      reads.push(SecretId);
      const failure = failures.shift();
      if (failure) {
        reply(failure.status, { __type: failure.type, message: failure.message });
        return;
      }
      const value = secrets[SecretId];
      if (value === undefined) {
        reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      reply(200, {
        ARN: SecretId,
        Name: SecretId.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, ''),
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_795_000_000,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    reads,
    failNext(count, error = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }) {
      failures = Array.from({ length: count }, () => error);
    },
    async close() {
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
