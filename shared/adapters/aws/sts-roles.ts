import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { roleAccount } from './aws-config.ts';

/** AWS credentials as the SDK's clients and the SigV4 signer take them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working (absent for long-term keys). */
  expiration?: Date;
}

/** Resolves credentials, from a cache when they are fresh; the SDK's clients accept it as `credentials`. */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export interface AssumedRoleOptions {
  roleArn: string;
  /** An STS client holding the base credentials (the function role, or the default chain locally). */
  sts: STSClient;
  /** Seen in CloudTrail on the role's side. */
  sessionName?: string;
  /** 900..43200; AssumeRole's default is 3600. */
  durationSeconds?: number;
  /** Credentials are renewed this long before they expire (default 5 minutes). */
  refreshMarginMs?: number;
  /** Bounds each AssumeRole call (default 10 s). */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Credentials of an assumed role, cached until `refreshMarginMs` before they expire. Concurrent
 * callers share one AssumeRole call; a failed call is not cached (the next caller tries again).
 */
export function assumedRoleCredentials(opts: AssumedRoleOptions): AwsCredentialProvider {
  roleAccount(opts.roleArn);
  const now = opts.now ?? Date.now;
  const margin = opts.refreshMarginMs ?? 5 * 60_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;

  const fetchCredentials = async (): Promise<AwsCredentials> => {
    const out = await opts.sts.send(
      new AssumeRoleCommand({
        RoleArn: opts.roleArn,
        RoleSessionName: opts.sessionName ?? 'cloudops-mcp',
        DurationSeconds: opts.durationSeconds,
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`AssumeRole of ${opts.roleArn} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };

  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - margin > now()) return cached;
    pending ??= fetchCredentials()
      .then((c) => {
        cached = c;
        return c;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** The account the STS client's credentials belong to (GetCallerIdentity). */
export async function callerAccount(sts: STSClient, signal?: AbortSignal): Promise<string> {
  const out = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  if (!out.Account) throw new Error('GetCallerIdentity returned no account');
  return out.Account;
}

/** One configured AWS account: an assumed role, or the base credentials' own account. */
export interface ConfiguredAccount {
  /** The role ARN; `''` for the base credentials' own account. */
  key: string;
  roleArn?: string;
  credentials: AwsCredentialProvider;
  /**
   * Known from the role ARN, or resolved once through GetCallerIdentity. The lookup is shared by
   * concurrent callers, so it is bounded on its own (`timeoutMs`) rather than by the first caller's
   * signal; a failed lookup is not kept (the next call tries again). Callers bound their wait with
   * their own signal.
   */
  accountId(): Promise<string>;
}

/**
 * The accounts of AWS_ACCOUNTS (role ARNs; `{}` = the base credentials' account), without repeats:
 * what the EKS source and the inventory both work in. `sts` carries the base credentials.
 */
export function configuredAccounts(
  accounts: ReadonlyArray<{ roleArn?: string }>,
  sts: STSClient,
  opts: { now: () => number; timeoutMs: number },
): ConfiguredAccount[] {
  const base: AwsCredentialProvider = async () => {
    const c = await sts.config.credentials();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration,
    };
  };
  const seen = new Set<string>();
  const out: ConfiguredAccount[] = [];
  for (const { roleArn } of accounts) {
    const key = roleArn ?? '';
    if (seen.has(key)) continue;
    seen.add(key);
    if (roleArn) {
      const id = roleAccount(roleArn);
      out.push({
        key,
        roleArn,
        credentials: assumedRoleCredentials({ roleArn, sts, now: opts.now, timeoutMs: opts.timeoutMs }),
        accountId: async () => id,
      });
    } else {
      let pending: Promise<string> | undefined;
      out.push({
        key,
        credentials: base,
        accountId: () => {
          pending ??= callerAccount(sts, AbortSignal.timeout(opts.timeoutMs)).catch((err: unknown) => {
            pending = undefined;
            throw err;
          });
          return pending;
        },
      });
    }
  }
  return out;
}
