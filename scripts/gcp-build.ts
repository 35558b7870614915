/**
 * `npm run build:gcp`: one esbuild bundle per GCP function source (gcp-functions/layout.ts: the
 * functions that are not tools, one bundle per toolset), written to dist/gcp/<bundle>/index.js with a
 * package.json that Cloud Functions' Node.js buildpack installs. terraform/ zips each directory
 * (archive_file) and deploys it.
 *
 * Only @google-cloud/functions-framework stays outside the bundle: the buildpack starts the function
 * with the framework it installs, which looks the entry point up in its own registry, so the bundle
 * must register through that same copy (a bundled second copy would register where nobody looks).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE } from '../cdk/bundling.ts';
import { GCP_FUNCTIONS, toolsetEntry } from '../gcp-functions/layout.ts';
import { gcpBundles } from './gcp-plan.ts';

const ROOT = join(import.meta.dirname, '..');
export const GCP_DIST = join(ROOT, 'dist', 'gcp');
export const FRAMEWORK = '@google-cloud/functions-framework';

/** The installed framework's exact version: the deployed functions run the one the tests ran. */
export function frameworkVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', FRAMEWORK, 'package.json'), 'utf8')) as {
    version?: string;
  };
  if (!pkg.version) throw new Error(`${FRAMEWORK}: no version in its package.json`);
  return pkg.version;
}

/** The package.json next to each bundle. */
export const bundlePackageJson = (bundle: string, version: string) =>
  `${JSON.stringify(
    {
      name: `cloudops-mcp-${bundle}`,
      private: true,
      type: 'module',
      main: 'index.js',
      engines: { node: '22' },
      dependencies: { [FRAMEWORK]: version },
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
 * One function's directory: `index.js` (the source and everything it imports but the framework) and
 * its package.json. Returns the bundle's size in bytes.
 */
export async function bundleFunction(sourcePath: string, dir: string, name: string, version = frameworkVersion()) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  await build({
    entryPoints: [sourcePath],
    bundle: true,
    platform: 'node',
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    mainFields: [...BUNDLE.mainFields],
    external: [FRAMEWORK],
    alias: { ...BUNDLE.alias },
    absWorkingDir: ROOT,
    banner: { js: BUNDLE.banner },
    // ASCII output: terraform's archive_file reads each bundle as UTF-8 text.
    charset: 'ascii',
    outfile,
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'package.json'), bundlePackageJson(name, version));
  return statSync(outfile).size;
}

export async function buildGcp(
  opts: { out?: string; only?: string[] } = {},
): Promise<Array<{ bundle: string; bytes: number }>> {
  const out = opts.out ?? GCP_DIST;
  const all = gcpBundles();
  const bundles = new Map([...all].filter(([name]) => !opts.only || opts.only.includes(name)));
  const problems = sourceProblems(bundles);
  if (problems.length) {
    throw new Error(`cannot build the GCP functions:\n  ${problems.join('\n  ')}`);
  }
  const version = frameworkVersion();
  const sizes: Array<{ bundle: string; bytes: number }> = [];
  for (const [name, { source }] of bundles) {
    sizes.push({ bundle: name, bytes: await bundleFunction(join(ROOT, source), join(out, name), name, version) });
  }
  return sizes;
}

if (import.meta.main) {
  try {
    const sizes = await buildGcp();
    for (const s of sizes) {
      console.log(
        `${relative(ROOT, join(GCP_DIST, s.bundle, 'index.js')).padEnd(40)} ${Math.round(s.bytes / 1024).toLocaleString('en-US')} KB`,
      );
    }
    console.log(
      `${sizes.length} bundles in ${relative(ROOT, GCP_DIST)}/ (${FRAMEWORK} ${frameworkVersion()} installed by the buildpack)`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
