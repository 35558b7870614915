import { closestName } from '../../domain/did-you-mean.ts';
import type { AwsInventory, AwsScope, CloudInventory, GcpInventory } from '../../ports/cloud.ts';
import { AppError } from '../errors.ts';

/*
 * Where a cloud tool call goes, checked against the configuration before any API call: an AWS
 * account and region among AWS_ACCOUNTS / AWS_REGIONS, a GCP project among GCP_PROJECTS. A value
 * may be left out when exactly one is configured; a misspelt one is refused with the closest
 * configured value. The aws and gcp tools and the cloud drift check all resolve scopes here.
 */

export const CLOUD_PATTERNS = {
  account: /^\d{12}$/,
  region: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  project: /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  /** A Compute zone (us-central1-a). */
  zone: /^[a-z]+-[a-z]+\d+-[a-z]$/,
  /** A GKE location: a region or a zone. */
  location: /^[a-z]+-[a-z]+\d+(?:-[a-z])?$/,
  ec2InstanceId: /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/,
  /** RFC 1035 label, as Compute names instances. */
  gcpName: /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/,
} as const;

function pick(what: string, given: string | undefined, configured: readonly string[], setting: string): string {
  if (given === undefined) {
    if (configured.length === 1) return configured[0] as string;
    throw new AppError(
      `${what} is required: ${configured.length} are configured (${configured.slice(0, 10).join(', ')}${configured.length > 10 ? ', …' : ''}; ${setting})`,
    );
  }
  if (configured.includes(given)) return given;
  const near = closestName(given, configured);
  throw new AppError(
    `${what} ${given.slice(0, 64)} is not configured${near ? ` (did you mean ${near}?)` : ''}; configured: ${configured.slice(0, 10).join(', ') || 'none'} (${setting})`,
  );
}

/** The AWS inventory and the account and region a call names (or the only configured ones). */
export async function awsScope(
  cloud: CloudInventory,
  input: { account?: string | undefined; region?: string | undefined },
  signal?: AbortSignal,
): Promise<{ aws: AwsInventory; scope: AwsScope }> {
  const aws = cloud.aws;
  if (!aws) {
    throw new AppError(
      'AWS is not configured on this server: set AWS_REGIONS (and AWS_ACCOUNTS with role ARNs for other accounts)',
    );
  }
  const { accounts, regions } = await aws.scopes(signal);
  return {
    aws,
    scope: {
      account: pick('account', input.account, accounts, 'AWS_ACCOUNTS'),
      region: pick('region', input.region, regions, 'AWS_REGIONS'),
    },
  };
}

/** The GCP inventory and the project a call names (or the only configured one). */
export function gcpProject(cloud: CloudInventory, project: string | undefined): { gcp: GcpInventory; project: string } {
  const gcp = cloud.gcp;
  if (!gcp) throw new AppError('GCP is not configured on this server: set GCP_PROJECTS');
  return { gcp, project: pick('project', project, gcp.projects(), 'GCP_PROJECTS') };
}
