import { describe, expect, it } from 'vitest';
import { describeKubeError } from '../../shared/app/errors.ts';
import { KubeApiError } from '../../shared/ports/kube.ts';

// An unknown field in a server-side apply is answered 500 by real API servers
// (kubernetes/kubernetes#122480): the hint must send the caller to the manifest, not to a retry.

const ssaUnknown = (field: string) =>
  new KubeApiError({
    cluster: 'prod',
    call: 'apply deployments/web',
    status: 500,
    reason: 'InternalError',
    message: `failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .${field}: field not declared in schema`,
  });

describe('describeKubeError', () => {
  it.each(['spec.replica', 'spec.template.spec.containers[name="app"].imagee', 'metadata.lables'])(
    'a server-side apply with the unknown field %s names it and says to fix the manifest',
    (field) => {
      const text = describeKubeError(ssaUnknown(field));
      expect(text).toContain(`field the schema does not declare: ${field}.`);
      expect(text).toMatch(/Fix the manifest/);
      expect(text).not.toMatch(/\bretry(?!ing it unchanged)/i);
      expect(text).not.toContain('The API server failed');
    },
  );

  it('with no reason in the Status (the server sends none) it says the same', () => {
    const err = ssaUnknown('spec.replica');
    const bare = new KubeApiError({ ...err, message: err.message.replace(/^.*?: /, ''), reason: '' });
    expect(describeKubeError(bare)).toContain('does not declare: spec.replica');
  });

  it('a long field path is quoted bounded', () => {
    const text = describeKubeError(ssaUnknown(`spec.${'x'.repeat(5000)}`));
    expect(text.split('\n').at(-1)?.length).toBeLessThan(600);
  });

  it('other 500s still say the server failed', () => {
    const err = new KubeApiError({
      cluster: 'prod',
      call: 'get deployments/web',
      status: 500,
      reason: 'InternalError',
      message: 'etcdserver: request timed out',
    });
    expect(describeKubeError(err)).toContain('The API server failed; retry');
  });
});
