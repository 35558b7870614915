import { ClusterManagerClient } from '@google-cloud/container';
import type { GoogleAuth } from 'google-auth-library';

/**
 * The Google Kubernetes Engine API client shared by the GKE adapters: @google-cloud/container in its
 * HTTP/1.1 JSON mode (`fallback: true`), so no gRPC channel is opened (the package still loads
 * @grpc/grpc-js, pure JavaScript, at import), and an `apiEndpoint` can point it at a loopback fake.
 */

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A Container v1 client over REST. `apiEndpoint` is a base URL (`https://container.googleapis.com`
 * by default); plain `http://` is refused except to loopback, since the bearer token would travel in the clear.
 */
export function createContainerClient(auth: GoogleAuth, apiEndpoint?: string): ClusterManagerClient {
  if (!apiEndpoint) return new ClusterManagerClient({ auth, fallback: true });
  let url: URL;
  try {
    url = new URL(apiEndpoint);
  } catch {
    throw new Error(`GKE apiEndpoint must be a URL like https://container.googleapis.com, not ${apiEndpoint}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`GKE apiEndpoint must be https:// (plain http only to loopback), not ${url.protocol}//${url.host}`);
  }
  const protocol = url.protocol.slice(0, -1);
  const port = Number(url.port) || (protocol === 'http' ? 80 : 443);
  // `protocol` is read by google-gax's REST stub (createStub) though ClientOptions does not name it.
  const opts = { auth, fallback: true, apiEndpoint: url.hostname, port, protocol };
  return new ClusterManagerClient(opts);
}

export { CLOUD_PLATFORM_SCOPE, defaultGoogleAuth, GcpApiError, toGcpApiError, withDeadline } from './google-auth.ts';
