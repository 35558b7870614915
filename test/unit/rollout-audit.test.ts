import { describe, expect, it } from 'vitest';
import { MANIFEST_PARSE } from '../../shared/app/k8s/manifests.ts';
import { ParseCache } from '../../shared/domain/input/index.ts';
import { redactSecrets } from '../../shared/domain/redact.ts';
import { deliveryRolloutsPlanTool } from '../../shared/tools/delivery/rollouts-plan.tool.ts';
import { deliveryRolloutsStartTool } from '../../shared/tools/delivery/rollouts-start.tool.ts';

// The manifest of a rollout is audited as k8s_resources_apply audits one (issue 9 item 6): the
// handler's parse, redacted by kind and by secret-looking names, never the text with generic masking.

const VALUE = 'Zq9-opaque-S3cret-value-7781';
const b64 = Buffer.from(VALUE, 'utf8').toString('base64');

const MANIFESTS: Record<string, string> = {
  // Refused by the handler (not a Deployment), but the call is audited all the same.
  secret: `apiVersion: v1\nkind: Secret\nmetadata: {name: web}\ndata: {any: ${b64}}\nstringData: {other: ${VALUE}}\n`,
  secretJson: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"web"},"data":{"token":"${b64}"}}`,
  envYaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.28
          env: [{name: PGPASSWORD, value: ${VALUE}}, {name: API_KEY, value: "${VALUE}"}]
`,
  envJson: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28","env":[{"value":"${VALUE}","name":"DB_PWD"}]}]}}}}`,
};

describe.each([deliveryRolloutsPlanTool, deliveryRolloutsStartTool])('$name audits its manifest redacted', (tool) => {
  it.each(Object.keys(MANIFESTS))('%s: no secret value reaches the audit record', (key) => {
    const manifest = MANIFESTS[key] as string;
    const args = { name: 'web', namespace: 'default', manifest, reason: 'test' };
    expect(tool.auditArgs, 'the tool has an audit hook for its manifest').toBeTypeOf('function');
    const parsed = new ParseCache();
    parsed.parse(manifest, MANIFEST_PARSE); // the handler's parse
    const audited = tool.auditArgs?.(args, parsed) as Record<string, unknown>;
    // What the audit trail stores: the hook's result through the generic redaction.
    const stored = JSON.stringify(redactSecrets(audited));
    expect(stored).not.toContain(VALUE);
    expect(stored).not.toContain(b64);
    // The rest of the manifest is kept, and the other arguments are untouched.
    expect(String(audited.manifest)).toMatch(/kind/);
    expect(audited.name).toBe('web');
    expect(audited.reason).toBe('test');
    // The audit reused the handler's parse.
    expect(parsed.parses).toBe(1);
  });

  it('text that does not parse is recorded as a bounded marker, never the text', () => {
    const manifest = `${'['.repeat(5000)}${VALUE}`;
    const audited = tool.auditArgs?.({ name: 'web', manifest }, new ParseCache()) as Record<string, unknown>;
    expect(String(audited.manifest)).toMatch(/^\[unparseable manifest, \d+ bytes, not recorded: /);
    expect(String(audited.manifest)).not.toContain(VALUE);
  });

  it('an image rollout has no manifest to rewrite', () => {
    const args = { name: 'web', image: 'nginx:1.28' };
    expect(tool.auditArgs?.(args, new ParseCache())).toEqual(args);
  });
});
