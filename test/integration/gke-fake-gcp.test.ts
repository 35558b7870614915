import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeContainerApi, startFakeContainerApi } from '../support/fake-gcp/container.ts';
import { CLOUD_PLATFORM_SCOPE, FakeGoogleTokens } from '../support/fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from '../support/fake-gcp/metadata.ts';

/**
 * The fakes refuse what Google refuses (plain fetch, no client library in the way): a fake kinder
 * than the real API would hide the bugs users meet first.
 */

const SA = 'cloudops@ops-project.iam.gserviceaccount.com';
let tokens: FakeGoogleTokens;
let metadata: FakeMetadataServer;
let api: FakeContainerApi;

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  metadata = await startFakeMetadataServer(tokens, { serviceAccount: SA });
  api = await startFakeContainerApi(tokens, [
    {
      id: 'alpha-project',
      viewers: [SA],
      clusters: [
        { name: 'prod-eu', location: 'europe-west1', currentMasterVersion: '1.31.2-gke.1000' },
        { name: 'edge', location: 'europe-west1-b', currentMasterVersion: '1.31.2-gke.1000', status: 'PROVISIONING' },
        { name: 'us', location: 'us-central1-a', currentMasterVersion: '1.30.5-gke.1200' },
      ],
    },
  ]);
});

afterAll(async () => {
  await api?.close();
  await metadata?.close();
});

const list = (path: string, token?: string) =>
  fetch(`${api.url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

describe('fake metadata server', () => {
  it('answers a token only with Metadata-Flavor: Google, and never to a forwarded request', async () => {
    const url = `http://${metadata.host}/computeMetadata/v1/instance/service-accounts/default/token`;
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(url, { headers: { 'Metadata-Flavor': 'Google', 'X-Forwarded-For': '10.0.0.1' } })).status).toBe(
      403,
    );
    const ok = await fetch(`${url}?scopes=${encodeURIComponent(CLOUD_PLATFORM_SCOPE)}`, {
      headers: { 'Metadata-Flavor': 'Google' },
    });
    expect(ok.headers.get('metadata-flavor')).toBe('Google');
    const body = (await ok.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3599);
    expect(tokens.check(body.access_token)?.principal).toBe(SA);
  });
});

describe('fake Container API', () => {
  it('wants a valid bearer token with the cloud-platform scope', async () => {
    const none = await list('/v1/projects/alpha-project/locations/-/clusters');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await none.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');

    const forged = await list('/v1/projects/alpha-project/locations/-/clusters', 'ya29.made-up');
    expect(forged.status).toBe(401);

    const narrow = tokens.issue(SA, ['https://www.googleapis.com/auth/userinfo.email'], 3600).token;
    const scoped = await list('/v1/projects/alpha-project/locations/-/clusters', narrow);
    expect(scoped.status).toBe(403);
    expect(await scoped.json()).toMatchObject({
      error: { code: 403, status: 'PERMISSION_DENIED', message: 'Request had insufficient authentication scopes.' },
    });
  });

  it('lists all locations with -, a region with its zones, and numbers enums only when asked', async () => {
    const token = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token;
    const all = (await (await list('/v1/projects/alpha-project/locations/-/clusters', token)).json()) as {
      clusters: Array<{ name: string; status: unknown; endpoint?: string }>;
    };
    expect(all.clusters.map((c) => c.name)).toEqual(['prod-eu', 'edge', 'us']);
    expect(all.clusters.map((c) => c.status)).toEqual(['RUNNING', 'PROVISIONING', 'RUNNING']);
    expect(all.clusters[1]?.endpoint).toBeUndefined();

    const region = (await (await list('/v1/projects/alpha-project/locations/europe-west1/clusters', token)).json()) as {
      clusters: Array<{ name: string }>;
    };
    expect(region.clusters.map((c) => c.name)).toEqual(['prod-eu', 'edge']);

    const ints = (await (
      await list('/v1/projects/alpha-project/locations/-/clusters?$alt=json%3Benum-encoding=int', token)
    ).json()) as { clusters: Array<{ status: unknown }> };
    expect(ints.clusters.map((c) => c.status)).toEqual([2, 1, 2]);
  });

  it('refuses unknown projects, forbidden principals, unknown clusters and malformed locations as Google does', async () => {
    const token = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token;
    const stranger = tokens.issue('other@x-project.iam.gserviceaccount.com', [CLOUD_PLATFORM_SCOPE], 3600).token;

    const unknown = await list('/v1/projects/nowhere-project/locations/-/clusters', token);
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toMatchObject({
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        message: 'Permission denied on resource project nowhere-project.',
      },
    });

    const forbidden = await list('/v1/projects/alpha-project/locations/-/clusters', stranger);
    expect(await forbidden.json()).toMatchObject({
      error: { code: 403, message: 'Required "container.clusters.list" permission(s) for "projects/alpha-project".' },
    });

    const missing = await list('/v1/projects/alpha-project/locations/europe-west1/clusters/nope', token);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: {
        code: 404,
        status: 'NOT_FOUND',
        message: 'Not found: projects/alpha-project/locations/europe-west1/clusters/nope.',
      },
    });

    const badLocation = await list('/v1/projects/alpha-project/locations/mars/clusters', token);
    expect(badLocation.status).toBe(400);

    const write = await fetch(`${api.url}/v1/projects/alpha-project/locations/europe-west1/clusters`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(write.status).toBe(404);
  });

  it('refuses a token after it expires', async () => {
    const shortLived = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 0).token;
    expect((await list('/v1/projects/alpha-project/locations/-/clusters', shortLived)).status).toBe(401);
  });
});
