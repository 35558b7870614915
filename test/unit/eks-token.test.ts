import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EKS_TOKEN_LIFETIME_MS, eksToken, presignedCallerIdentityUrl } from '../../shared/adapters/aws/eks-token.ts';

/*
 * The EKS token checked byte for byte, with the expected value derived independently of the
 * implementation (which signs through @smithy/signature-v4):
 *
 * 1. `expectedUrl` below computes the SigV4 query-string signature step by step from the
 *    specification (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
 *    with node:crypto only:
 *      canonical request = GET \n / \n <canonical query> \n host:<sts host>\n x-k8s-aws-id:<cluster>\n
 *                          \n host;x-k8s-aws-id \n hex(sha256(""))
 *      (the canonical query holds every parameter but the signature, names and values RFC 3986 encoded,
 *       sorted by name: Action, Version, X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 *       [X-Amz-Security-Token,] X-Amz-SignedHeaders)
 *      string to sign    = AWS4-HMAC-SHA256 \n <X-Amz-Date> \n <yyyymmdd>/<region>/sts/aws4_request \n
 *                          hex(sha256(canonical request))
 *      signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), "sts"), "aws4_request")
 *      signature         = hex(HMAC(signing key, string to sign))
 *    and the token is `k8s-aws-v1.` + base64url(URL) without padding.
 * 2. `CLI_TOKEN*` are what the aws CLI itself printed for the same inputs (`aws eks get-token`'s
 *    TokenGenerator from aws-cli 1.45.11 / botocore 1.43.11, with botocore.auth.get_current_datetime
 *    patched to 2015-08-30T12:36:00Z), so the URL's parameter order matches the CLI's too.
 *
 * Credentials are the AWS SigV4 test suite's: AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY.
 */

const AK = 'AKIDEXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);

const CLI_TOKEN =
  'k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMTUwODMwJTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAxNTA4MzBUMTIzNjAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9MzkzZGZmZGNmODUxYmVlYjM3M2YwNGY5MzNiMjZmZmExZDQ4MDQ5MGYxMTM4NWEzZGJkNTA5NjE3YmI3Y2I3OQ';
/** The same with session token `session/token+=` (an assumed role's credentials carry one). */
const CLI_TOKEN_SESSION =
  'k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMTUwODMwJTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAxNTA4MzBUMTIzNjAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TZWN1cml0eS1Ub2tlbj1zZXNzaW9uJTJGdG9rZW4lMkIlM0QmWC1BbXotU2lnbmF0dXJlPTUyMzQwNDBhNzVkNjk0MTljNjQ2Mjc5ZjhmNzRlNzNhNzk2YmUyMzhhYWQ2Y2Y4YzlkN2M5YjE0NDUzNjlmNzQ';

const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

function expectedUrl(o: { cluster: string; region: string; sessionToken?: string; now: number }): string {
  const host = `sts.${o.region}.amazonaws.com`;
  const amzDate = new Date(o.now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, ''); // 20150830T123600Z
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${o.region}/sts/aws4_request`;
  const params: Array<[string, string]> = [
    ['Action', 'GetCallerIdentity'],
    ['Version', '2011-06-15'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${AK}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '60'],
    ['X-Amz-SignedHeaders', 'host;x-k8s-aws-id'],
  ];
  if (o.sessionToken) params.push(['X-Amz-Security-Token', o.sessionToken]);
  const canonicalQuery = params
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${host}\nx-k8s-aws-id:${o.cluster}\n`,
    'host;x-k8s-aws-id',
    sha256hex(''),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SK}`, day), o.region), 'sts'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  // The URL carries the parameters in the CLI's order (the signature does not depend on it).
  return `https://${host}/?${params.map(([k, v]) => `${k}=${enc(v)}`).join('&')}&X-Amz-Signature=${signature}`;
}

const tokenOf = (url: string) => `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;

describe('EKS bearer token', () => {
  it('is the presigned GetCallerIdentity URL of the SigV4 specification, byte for byte, and the aws CLI token', async () => {
    const input = {
      clusterName: 'my-cluster',
      region: 'us-east-1',
      credentials: { accessKeyId: AK, secretAccessKey: SK },
      now: NOW,
    };
    const url = await presignedCallerIdentityUrl(input);
    expect(url).toBe(expectedUrl({ cluster: 'my-cluster', region: 'us-east-1', now: NOW }));
    const { token, expiresAt } = await eksToken(input);
    expect(token).toBe(tokenOf(url));
    expect(token).toBe(CLI_TOKEN);
    expect(token).not.toContain('=');
    expect(expiresAt).toBe(NOW + 14 * 60_000);
  });

  it('signs the session token of temporary credentials into the URL', async () => {
    const credentials = { accessKeyId: AK, secretAccessKey: SK, sessionToken: 'session/token+=' };
    const { token } = await eksToken({ clusterName: 'my-cluster', region: 'us-east-1', credentials, now: NOW });
    expect(token).toBe(
      tokenOf(expectedUrl({ cluster: 'my-cluster', region: 'us-east-1', sessionToken: 'session/token+=', now: NOW })),
    );
    expect(token).toBe(CLI_TOKEN_SESSION);
  });

  it('names the cluster and the region it was made for: another cluster, region or minute gives another token', async () => {
    const credentials = { accessKeyId: AK, secretAccessKey: SK };
    const later = NOW + 61_000;
    const url = await presignedCallerIdentityUrl({
      clusterName: 'prod_2',
      region: 'eu-west-1',
      credentials,
      now: later,
    });
    expect(url).toBe(expectedUrl({ cluster: 'prod_2', region: 'eu-west-1', now: later }));
    expect(url.startsWith('https://sts.eu-west-1.amazonaws.com/?')).toBe(true);
  });

  it('keeps the real STS host whatever AWS_ENDPOINT_URL says (the API server calls STS, not us)', async () => {
    const saved = { all: process.env.AWS_ENDPOINT_URL, sts: process.env.AWS_ENDPOINT_URL_STS };
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
    process.env.AWS_ENDPOINT_URL_STS = 'http://127.0.0.1:9';
    try {
      const url = await presignedCallerIdentityUrl({
        clusterName: 'my-cluster',
        region: 'us-east-1',
        credentials: { accessKeyId: AK, secretAccessKey: SK },
        now: NOW,
      });
      expect(new URL(url).host).toBe('sts.us-east-1.amazonaws.com');
    } finally {
      for (const [k, v] of [
        ['AWS_ENDPOINT_URL', saved.all],
        ['AWS_ENDPOINT_URL_STS', saved.sts],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('expires with the signing credentials when they end before the 14 minutes', async () => {
    const expiration = new Date(NOW + 5 * 60_000);
    const { expiresAt } = await eksToken({
      clusterName: 'c',
      region: 'us-east-1',
      credentials: { accessKeyId: AK, secretAccessKey: SK, sessionToken: 't', expiration },
      now: NOW,
    });
    expect(expiresAt).toBe(expiration.getTime());
    expect(EKS_TOKEN_LIFETIME_MS).toBe(14 * 60_000);
  });

  it('refuses a cluster name or region that EKS would not have', async () => {
    const credentials = { accessKeyId: AK, secretAccessKey: SK };
    await expect(eksToken({ clusterName: 'a/b', region: 'us-east-1', credentials, now: NOW })).rejects.toThrow(
      /not an EKS cluster name/,
    );
    await expect(
      eksToken({ clusterName: 'x'.repeat(101), region: 'us-east-1', credentials, now: NOW }),
    ).rejects.toThrow(/not an EKS cluster name/);
    await expect(eksToken({ clusterName: 'c', region: 'evil.example.com#', credentials, now: NOW })).rejects.toThrow(
      /not an AWS region/,
    );
  });
});
