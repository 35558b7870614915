/**
 * Extracts, for the google_* resource types terraform/ uses, every argument and nested-block name the
 * google provider knows (and which top-level ones it requires), from HashiCorp's generated CDKTF bindings (@cdktf/provider-google, whose
 * README names the provider version it was generated from), into
 * test/support/fixtures/google-provider-args.json. test/infra/terraform.test.ts checks every argument
 * of terraform/ against it: `terraform validate` needs the provider, which cannot be downloaded here,
 * and a misspelled argument would otherwise show only at `terraform plan`.
 *
 * Not an npm dependency (the package is 31 MB for a few KB of names). To refresh:
 *   npm pack @cdktf/provider-google && tar xzf cdktf-provider-google-*.tgz
 *   node scripts/tf-provider-args.ts ./package && npx biome format --write test/support/fixtures/google-provider-args.json
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'test', 'support', 'fixtures', 'google-provider-args.json');

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: node scripts/tf-provider-args.ts <unpacked @cdktf/provider-google package directory>');
  process.exit(2);
}
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
const providerVersion = /hashicorp\/google provider version (\S+)/.exec(readme)?.[1];
const bindingsVersion = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
if (!providerVersion) throw new Error(`${pkg}/README.md names no provider version`);

const types = new Set<string>();
for (const file of readdirSync(join(ROOT, 'terraform')).filter((f) => f.endsWith('.tf'))) {
  const json = (await parse(file, readFileSync(join(ROOT, 'terraform', file), 'utf8'))) as {
    resource?: Record<string, unknown>;
  };
  for (const type of Object.keys(json.resource ?? {})) if (type.startsWith('google_')) types.add(type);
}

const resources: Record<string, string[]> = {};
const required: Record<string, string[]> = {};
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
for (const type of [...types].sort()) {
  const dir = join(pkg, 'lib', type.slice('google_'.length).replaceAll('_', '-'));
  // Each resource's toHclTerraform writes every argument and block as `name: { value: ... }`.
  const js = readFileSync(join(dir, 'index.js'), 'utf8');
  const names = [...new Set([...js.matchAll(/\b([a-z][a-z0-9_]*): \{\s*value:/g)].map((m) => m[1] as string))];
  resources[type] = names.sort();
  // The resource's Config interface marks its required top-level arguments without `?`.
  const dts = readFileSync(join(dir, 'index.d.ts'), 'utf8');
  const config = /export interface \w+Config extends cdktf\.TerraformMetaArguments \{([\s\S]*?)\n\}/.exec(dts)?.[1];
  if (config === undefined) throw new Error(`${type}: no Config interface in ${dir}/index.d.ts`);
  required[type] = [...config.matchAll(/readonly (\w+): /g)].map((m) => snake(m[1] as string)).sort();
  const stray = required[type].filter((r) => !names.includes(r));
  if (stray.length) throw new Error(`${type}: required ${stray.join(', ')} not among its arguments`);
}
const extract = {
  provider: `hashicorp/google ${providerVersion}`,
  from: `@cdktf/provider-google ${bindingsVersion}`,
  resources,
  required,
};
writeFileSync(OUT, `${JSON.stringify(extract, null, 2)}\n`);
console.log(`${OUT}: ${types.size} resource types, provider ${providerVersion}`);
