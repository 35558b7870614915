import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('`cdk synth` through the CLI, as a user runs it', () => {
  it('synthesizes both stacks with no AWS credentials and nothing but loopback to talk to', () => {
    const out = mkdtempSync(join(tmpdir(), 'cdk-cli-'));
    const home = mkdtempSync(join(tmpdir(), 'cdk-home-'));
    try {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && !k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
      const r = spawnSync(
        join(ROOT, 'node_modules', '.bin', 'cdk'),
        // The CLI fetches its notices feed on every run; the proxy keeps that (and anything else) on loopback.
        ['synth', '--quiet', '--no-notices', '--proxy', 'http://127.0.0.1:9', '--output', out],
        {
          cwd: ROOT,
          env: { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', CI: 'true' },
          encoding: 'utf8',
          timeout: 150_000,
        },
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      for (const stack of ['CloudopsMcpStateful', 'CloudopsMcpStateless']) {
        const template = JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8')) as { Resources: object };
        expect(Object.keys(template.Resources).length).toBeGreaterThan(0);
      }
      // The bundles were built (esbuild, ESM): every function's asset is one index.mjs.
      const stateless = JSON.parse(readFileSync(join(out, 'CloudopsMcpStateless.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
      };
      const fns = Object.values(stateless.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(fns.length).toBeGreaterThan(3);
      for (const fn of fns) {
        const key = String(fn.Properties.Code?.S3Key);
        const file = join(out, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
        expect(existsSync(file), file).toBe(true);
        expect(statSync(file).size).toBeGreaterThan(100_000);
        expect(readFileSync(file, 'utf8').startsWith('import')).toBe(true);
      }
      expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }, 180_000);
});
