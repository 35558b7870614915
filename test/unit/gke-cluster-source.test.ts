import { GoogleAuth } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { GcpApiError, toGcpApiError, withDeadline } from '../../shared/adapters/gcp/container-client.ts';
import { GkeClusterSource } from '../../shared/adapters/gcp/gke-cluster-source.ts';

/** The GKE source's checks of its settings and its error wording, without any network. */

// An explicit GoogleAuth: constructing the source must not look for credentials.
const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
const make = (projects: string[], more: { apiEndpoint?: string; timeoutMs?: number } = {}) =>
  new GkeClusterSource({ projects, auth, timeoutMs: more.timeoutMs ?? 5_000, apiEndpoint: more.apiEndpoint });

describe('GkeClusterSource settings', () => {
  it('accepts project ids as GCP allows them, legacy domain-scoped ones too', () => {
    expect(() => make(['my-project-123', 'example.com:legacy-proj'])).not.toThrow();
  });

  it('refuses what is not a project id, naming GCP_PROJECTS', () => {
    expect(() => make([])).toThrow(/GCP_PROJECTS: name at least one/);
    expect(() => make(['Upper-Case'])).toThrow(/GCP_PROJECTS: not project ids.*Upper-Case/);
    expect(() => make(['short'])).toThrow(/not project ids/);
    expect(() => make(['ends-with-'])).toThrow(/not project ids/);
    expect(() => make(['a/b/c-project'])).toThrow(/not project ids/);
    expect(() => make(Array.from({ length: 101 }, (_, i) => `project-${i}00`))).toThrow(/at most 100/);
  });

  it('refuses a timeout out of range', () => {
    expect(() => make(['my-project'], { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => make(['my-project'], { timeoutMs: 600_000 })).toThrow(/timeoutMs/);
  });

  it('sends tokens over plain http only to loopback', () => {
    expect(() => make(['my-project'], { apiEndpoint: 'http://127.0.0.1:8080' })).not.toThrow();
    expect(() => make(['my-project'], { apiEndpoint: 'https://container.example.internal' })).not.toThrow();
    expect(() => make(['my-project'], { apiEndpoint: 'http://container.example.internal' })).toThrow(/https/);
    expect(() => make(['my-project'], { apiEndpoint: 'not a url' })).toThrow(/must be a URL/);
  });
});

describe('GCP API errors', () => {
  it('keep the status and Google message, drop the numeric prefix, and mask credentials', () => {
    const e = Object.assign(new Error('7 PERMISSION_DENIED: Required "container.clusters.list" permission(s)'), {
      code: 7,
    });
    const out = toGcpApiError(e, 'listing');
    expect(out).toBeInstanceOf(GcpApiError);
    expect(out.status).toBe('PERMISSION_DENIED');
    expect(out.message).toBe('listing: PERMISSION_DENIED: Required "container.clusters.list" permission(s)');
    const leaky = toGcpApiError(new Error('failed with Authorization: Bearer ya29.secretsecretsecret'), 'x');
    expect(leaky.message).not.toContain('ya29.secretsecretsecret');
    expect(toGcpApiError(new Error('y'.repeat(5_000)), 'x').message.length).toBeLessThan(700);
    const retried = Object.assign(
      new Error(
        'Exceeded maximum number of retries retrying error Error: request to http://127.0.0.1:1/v1 failed, reason: connect ECONNREFUSED 127.0.0.1:1 before any response was received : Previous errors : [{message: ...}]',
      ),
      { code: 4 },
    );
    expect(toGcpApiError(retried, 'listing').message).toBe(
      'listing: UNAVAILABLE: no answer after retries: request to http://127.0.0.1:1/v1 failed, reason: connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('a call past its deadline is cancelled and reported, an aborted one too', async () => {
    let cancelled = 0;
    const never = () => Object.assign(new Promise<never>(() => {}), { cancel: () => void cancelled++ });
    await expect(withDeadline(never(), 20, 'listing')).rejects.toMatchObject({ status: 'DEADLINE_EXCEEDED' });
    const ac = new AbortController();
    ac.abort();
    await expect(withDeadline(never(), 60_000, 'listing', ac.signal)).rejects.toMatchObject({ status: 'CANCELLED' });
    expect(cancelled).toBe(2);
  });
});
