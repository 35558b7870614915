/**
 * `npm run build:gcp`: one esbuild bundle per GCP function source (gcp-functions/layout.ts: the
 * functions that are not tools, one bundle per toolset), written to dist/gcp/<bundle>/index.js with a
 * package.json that Cloud Functions' Node.js buildpack installs. terraform/ zips each directory
 * (archive_file) and deploys it.
 *
 * What stays outside the bundle (EXTERNAL) is what must: the buildpack installs it from the bundle's
 * package.json, at the version installed here.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../cdk/bundling.ts';
import { GCP_FUNCTIONS, toolsetEntry } from '../gcp-functions/layout.ts';
import { gcpBundles } from './gcp-plan.ts';

const ROOT = join(import.meta.dirname, '..');
export const GCP_DIST = join(ROOT, 'dist', 'gcp');
export const FRAMEWORK = '@google-cloud/functions-framework';

/**
 * Packages left outside the bundles and installed by the buildpack (`npm install` of the bundle's
 * package.json):
 * - @google-cloud/functions-framework: the buildpack starts the function with the framework it
 *   installs, which looks the entry point up in its own registry, so the bundle must register
 *   through that same copy (a bundled second copy would register where nobody looks);
 * - the Google Cloud client libraries built on google-gax (Firestore, Container): at load time they
 *   read their .proto/.json descriptors from their own package directory
 *   (`path.join(__dirname, '..', '..', 'build', 'protos')`), which a one-file ESM bundle neither has
 *   nor can name (`__dirname` is undefined in ESM: importing such a bundle throws).
 * Everything else is bundled. A bundle's package.json lists only the externals it imports.
 */
export const EXTERNAL = [FRAMEWORK, '@google-cloud/firestore', '@google-cloud/container'] as const;

/** The installed version of a package (the deployed functions run the versions the tests ran). */
export function installedVersion(pkg: string): string {
  const json = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    version?: string;
  };
  if (!json.version) throw new Error(`${pkg}: no version in its package.json`);
  return json.version;
}

export const frameworkVersion = () => installedVersion(FRAMEWORK);

/** The package.json next to each bundle: ESM, index.js, the externals it imports at their installed versions. */
export const bundlePackageJson = (bundle: string, dependencies: Record<string, string>) =>
  `${JSON.stringify(
    {
      name: `cloudops-mcp-${bundle}`,
      private: true,
      type: 'module',
      main: 'index.js',
      engines: { node: '22' },
      dependencies,
    },
    null,
    2,
  )}\n`;

/**
 * The names a source registers with the functions framework: `http('<name>', ...)`, or
 * `http(GCP_FUNCTIONS['<key>'].entryPoint, ...)` / `http(toolsetEntry(...).entryPoint, ...)` read
 * from gcp-functions/layout.ts.
 */
export function registeredEntryPoints(sourceText: string): Set<string> {
  const names = new Set<string>();
  for (const m of sourceText.matchAll(/\bhttp\(\s*(['"`])([A-Za-z_$][\w$]*)\1/g)) names.add(m[2] as string);
  for (const m of sourceText.matchAll(
    /\bhttp\(\s*GCP_FUNCTIONS(?:\[\s*['"]([\w-]+)['"]\s*\]|\.(\w+))\.entryPoint\b/g,
  )) {
    const key = (m[1] ?? m[2]) as string;
    const entry = (GCP_FUNCTIONS as Record<string, { entryPoint: string }>)[key];
    if (entry) names.add(entry.entryPoint);
  }
  if (/\bhttp\(\s*toolsetEntry\([^)]*\)\.entryPoint\b/.test(sourceText)) names.add(toolsetEntry('core').entryPoint);
  return names;
}

/** Does the source register `entryPoint` with the functions framework? */
export const registersEntryPoint = (sourceText: string, entryPoint: string) =>
  registeredEntryPoints(sourceText).has(entryPoint);

/** Sources missing or not registering their entry point, one line each. */
export function sourceProblems(bundles = gcpBundles()): string[] {
  const problems: string[] = [];
  for (const [name, { source, entryPoint }] of bundles) {
    const path = join(ROOT, source);
    if (!existsSync(path)) problems.push(`${name}: ${source} does not exist`);
    else if (!registersEntryPoint(readFileSync(path, 'utf8'), entryPoint)) {
      problems.push(`${name}: ${source} does not register http('${entryPoint}', ...) with ${FRAMEWORK}`);
    }
  }
  return problems;
}

/**
 * One function's directory: `index.js` (the source and everything it imports but EXTERNAL) and its
 * package.json. Returns the bundle's size in bytes and the externals it imports.
 */
export async function bundleFunction(
  sourcePath: string,
  dir: string,
  name: string,
): Promise<{ bytes: number; dependencies: Record<string, string> }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  const res = await build({
    ...esbuildOptions(sourcePath, ROOT, EXTERNAL),
    // ASCII output: terraform's archive_file reads each bundle as UTF-8 text.
    charset: 'ascii',
    outfile,
  });
  const imported = new Set(
    Object.values(res.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)),
  );
  const dependencies = Object.fromEntries(
    EXTERNAL.filter((pkg) => [...imported].some((p) => p === pkg || p.startsWith(`${pkg}/`))).map((pkg) => [
      pkg,
      installedVersion(pkg),
    ]),
  );
  writeFileSync(join(dir, 'package.json'), bundlePackageJson(name, dependencies));
  return { bytes: statSync(outfile).size, dependencies };
}

export async function buildGcp(
  opts: { out?: string; only?: string[] } = {},
): Promise<Array<{ bundle: string; bytes: number; dependencies: Record<string, string> }>> {
  const out = opts.out ?? GCP_DIST;
  const all = gcpBundles();
  const bundles = new Map([...all].filter(([name]) => !opts.only || opts.only.includes(name)));
  const problems = sourceProblems(bundles);
  if (problems.length) {
    throw new Error(`cannot build the GCP functions:\n  ${problems.join('\n  ')}`);
  }
  const sizes: Array<{ bundle: string; bytes: number; dependencies: Record<string, string> }> = [];
  for (const [name, { source }] of bundles) {
    sizes.push({ bundle: name, ...(await bundleFunction(join(ROOT, source), join(out, name), name)) });
  }
  return sizes;
}

if (import.meta.main) {
  try {
    const sizes = await buildGcp();
    for (const s of sizes) {
      const kb = `${Math.round(s.bytes / 1024).toLocaleString('en-US')} KB`;
      const deps = Object.entries(s.dependencies).map(([pkg, v]) => `${pkg}@${v}`);
      console.log(
        `${relative(ROOT, join(GCP_DIST, s.bundle, 'index.js')).padEnd(40)} ${kb.padStart(9)}  + ${deps.join(', ')}`,
      );
    }
    console.log(`${sizes.length} bundles in ${relative(ROOT, GCP_DIST)}/; the buildpack installs the + packages`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
