import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { AWS_REGION } from './aws-config.ts';
import type { AwsCredentials } from './sts-roles.ts';

/**
 * The bearer token of an EKS cluster, made as aws-iam-authenticator and `aws eks get-token` make it,
 * with no CLI: a SigV4 *presigned* `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&
 * Version=2011-06-15` whose signed headers are `host` and `x-k8s-aws-id: <cluster name>`, valid for
 * `X-Amz-Expires=60` seconds, then `k8s-aws-v1.` + base64url(URL) without padding.
 *
 * The API server's authenticator decodes the URL, checks that its host is an STS host it trusts
 * (sts.amazonaws.com or sts.<region>.amazonaws.com, plus the partition's), sends the request itself with
 * `x-k8s-aws-id` set to its own cluster name, and maps the ARN STS answers with to Kubernetes
 * users/groups (access entries or the aws-auth ConfigMap). Hence:
 * - the host is always the real regional STS host, never AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS: a
 *   token naming a test or private endpoint would be refused by every real API server (the
 *   authenticator allow-lists the STS hosts); making a token sends nothing anywhere (it is only signed),
 *   so there is no call of ours to redirect;
 * - the cluster's name is signed, so a token for one cluster cannot be replayed against another;
 * - the authenticator accepts a token for 15 minutes after its X-Amz-Date whatever X-Amz-Expires says
 *   (aws-iam-authenticator's `presignedURLExpiration`; EKS documents the 15 minutes), and `aws eks
 *   get-token` reports `expirationTimestamp` 14 minutes after signing. We report expiry at 14 minutes, or
 *   earlier if the signing credentials (an assumed role's) expire first: STS refuses a presigned URL of
 *   expired credentials.
 */

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** How long after signing a token is reported usable (aws eks get-token's expirationTimestamp). */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;

const URL_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
];

/** EKS cluster names: 1-100 characters, a letter or digit first, then letters, digits, `-` and `_`. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** The STS host of a region in its partition (China regions use amazonaws.com.cn). */
export function stsHost(region: string): string {
  if (!AWS_REGION.test(region)) throw new Error(`not an AWS region: ${region.slice(0, 60)}`);
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

export interface EksTokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  /** Signing time (epoch ms). */
  now: number;
}

/** The presigned GetCallerIdentity URL the token wraps (exported for the tests). */
export async function presignedCallerIdentityUrl(input: EksTokenInput): Promise<string> {
  if (!CLUSTER_NAME.test(input.clusterName)) {
    throw new Error(`not an EKS cluster name: ${input.clusterName.slice(0, 120)}`);
  }
  const hostname = stsHost(input.region);
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: 'sts',
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': input.clusterName },
    },
    { expiresIn: 60, signingDate: new Date(input.now) },
  );
  // The query in the order the aws CLI writes it (the signature covers the sorted canonical form, so
  // any order verifies; this one makes the token byte-identical to `aws eks get-token`'s).
  const query = signed.query as Record<string, string | undefined>;
  const params: string[] = [];
  for (const key of URL_ORDER) {
    const value = query[key];
    if (value !== undefined) params.push(`${key}=${rfc3986(value)}`);
  }
  const unexpected = Object.keys(query).filter((k) => !URL_ORDER.includes(k));
  if (unexpected.length > 0 || !query['X-Amz-Signature']) {
    throw new Error(`the signer returned an unexpected query (${unexpected.join(', ') || 'no signature'})`);
  }
  return `https://${hostname}/?${params.join('&')}`;
}

/** The bearer token for the cluster's API server. */
export async function eksToken(input: EksTokenInput): Promise<{ token: string; expiresAt: number }> {
  const url = await presignedCallerIdentityUrl(input);
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  const credsEnd = input.credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
  return { token, expiresAt: Math.min(input.now + EKS_TOKEN_LIFETIME_MS, credsEnd) };
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
