/*
 * What AWS settings look like (role ARNs, regions, the accounts-and-regions an adapter is given),
 * apart from sts-roles.ts so an adapter that only checks a region (Cost Explorer, the EKS token)
 * does not load the STS client.
 */

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/** An AWS region name (us-east-1, eu-central-2, us-gov-west-1). */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const MAX_ACCOUNTS = 100;
const MAX_REGIONS = 40;

/**
 * Checks the accounts (role ARNs; `{}` = the base credentials' account), regions and endpoint an AWS
 * adapter is configured with; `label` (AWS, EKS) names them in the error.
 */
export function checkAccountsAndRegions(
  o: { accounts: ReadonlyArray<{ roleArn?: string }>; regions: readonly string[]; endpoint?: string | undefined },
  label: string,
): void {
  if (!Array.isArray(o.accounts) || o.accounts.length === 0 || o.accounts.length > MAX_ACCOUNTS) {
    throw new Error(`${label} accounts: give 1 to ${MAX_ACCOUNTS} (an empty role means the base credentials' account)`);
  }
  for (const a of o.accounts) if (a.roleArn !== undefined) roleAccount(a.roleArn);
  if (!Array.isArray(o.regions) || o.regions.length === 0 || o.regions.length > MAX_REGIONS) {
    throw new Error(`${label} regions: give 1 to ${MAX_REGIONS} AWS regions`);
  }
  for (const r of o.regions) {
    if (!AWS_REGION.test(r)) throw new Error(`${label} regions: not an AWS region: ${r.slice(0, 60)}`);
  }
  if (o.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(o.endpoint)) {
    throw new Error(`${label} endpoint (AWS_ENDPOINT_URL) must be an http(s) URL`);
  }
}

/** The account id a role ARN names, or an error that says what a role ARN looks like. */
export function roleAccount(roleArn: string): string {
  const m = ROLE_ARN.exec(roleArn);
  if (!m?.[1]) {
    throw new Error(
      `not an IAM role ARN: ${roleArn.slice(0, 200)} (expected arn:aws:iam::<12-digit account>:role/<name>)`,
    );
  }
  return m[1];
}
