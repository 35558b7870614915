import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADC_KEYS = [
  'GCE_METADATA_HOST',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CONFIG',
  'GOOGLE_CLOUD_PROJECT',
  'METADATA_SERVER_DETECTION',
];

/**
 * Points google-auth-library's Application Default Credentials at the fake metadata server, as they
 * find the real one on Cloud Functions: GCE_METADATA_HOST set, GOOGLE_CLOUD_PROJECT as the platform
 * sets it, and an empty gcloud config directory so no developer's ADC file is in the way. Returns the
 * restore of the environment as it was (vitest shares process.env between the files of a worker).
 */
export function useFakeAdc(metadataHost: string, project: string): () => void {
  const saved = Object.fromEntries(ADC_KEYS.map((k) => [k, process.env[k]]));
  const gcloudDir = mkdtempSync(join(tmpdir(), 'fake-adc-'));
  for (const k of ADC_KEYS) delete process.env[k];
  process.env.GCE_METADATA_HOST = metadataHost;
  process.env.CLOUDSDK_CONFIG = gcloudDir;
  process.env.GOOGLE_CLOUD_PROJECT = project;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(gcloudDir, { recursive: true, force: true });
  };
}
