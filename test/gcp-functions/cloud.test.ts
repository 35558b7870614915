import { describe, expect, it } from 'vitest';
import { gcpCloud } from '../../gcp-functions/lib/cloud.ts';
import { loadConfig } from '../../shared/config/config.ts';

/** gcpCloud (the gcp toolset's and cloud drift's inventory) from the function's settings. */
describe('gcpCloud', () => {
  const config = (env: Record<string, string>) => loadConfig({ LOG_LEVEL: 'silent', ...env });

  it('reaches the GCP_PROJECTS projects, and no cloud without them', () => {
    const env = { GCP_PROJECTS: 'alpha-project,beta-project' };
    const cloud = gcpCloud(config(env), env);
    expect(cloud.aws).toBeUndefined();
    expect(cloud.gcp?.projects()).toEqual(['alpha-project', 'beta-project']);
    expect(gcpCloud(config({}), {})).toEqual({});
  });

  it('refuses AWS settings by name: a GCP function holds no AWS credentials', () => {
    const env = { AWS_REGIONS: 'eu-west-1' };
    expect(() => gcpCloud(config(env), env)).toThrow(
      /AWS_ACCOUNTS\/AWS_REGIONS: the GCP functions hold no AWS credentials/,
    );
  });

  it('names a bad endpoint setting', () => {
    const env = { GCP_PROJECTS: 'alpha-project', COMPUTE_URL: 'http://compute.example.com' };
    expect(() => gcpCloud(config(env), env)).toThrow(/Invalid configuration/);
  });
});
