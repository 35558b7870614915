/**
 * Lambda bundles: size, and cold module initialization, per function.
 *
 *   node bench/bundles.bench.ts        BENCH_N=<runs per bundle>, default 21
 *
 * Builds every function with esbuild using exactly the options the CDK stack gives NodejsFunction
 * (cdk/bundling.ts), then, in interleaved rounds, starts a fresh Node process per import: each
 * process imports one bundle (or an empty module, the baseline) and reports how long the import took
 * on its own clock; the parent also times the whole process. Medians per bundle, next to the empty
 * module measured in the same rounds. Writes bench/results/bundles-<timestamp>.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE, FUNCTION_ENTRIES, type FunctionKey } from '../cdk/bundling.ts';
import { resultsFile, writeJson } from './lib/report.ts';
import { envInt, hardDeadline } from './lib/run.ts';

const ROOT = join(import.meta.dirname, '..');
const LIMIT_BYTES = 1.5 * 1024 * 1024;
const DEADLINE_MS = 10 * 60_000;

const N = envInt('BENCH_N', { fallback: 21, min: 3, max: 500 });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** The same esbuild invocation NodejsFunction makes from these options (see its buildEsbuildArgs). */
async function bundle(key: FunctionKey, outDir: string): Promise<string> {
  const outfile = join(outDir, key, 'index.mjs');
  await build({
    entryPoints: [join(ROOT, FUNCTION_ENTRIES[key])],
    bundle: true,
    platform: 'node',
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    mainFields: [...BUNDLE.mainFields],
    external: [...BUNDLE.externalModules],
    banner: { js: BUNDLE.banner },
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** One fresh process importing one module; returns [import ms on the child's clock, process wall ms]. */
function importOnce(file: string): Promise<[number, number]> {
  const code = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // A clean environment: what a Lambda sandbox has, not this shell's settings.
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (status) => {
      const wall = performance.now() - started;
      if (status !== 0) reject(new Error(`import of ${file} exited ${status}: ${err}`));
      else resolve([Number(out), wall]);
    });
  });
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  if (!process.versions.node.startsWith('22.')) {
    console.error(
      `warning: Node ${process.versions.node}; Lambda runs Node 22 (run through npm to use the pinned node@22)`,
    );
  }
  const hardStop = hardDeadline(DEADLINE_MS, 'bench deadline reached; stopping', 3);
  const dir = mkdtempSync(join(os.tmpdir(), 'cloudops-bundles-'));
  try {
    const keys = Object.keys(FUNCTION_ENTRIES) as FunctionKey[];
    const files: Record<string, string> = {};
    for (const key of keys) files[key] = await bundle(key, dir);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const handler = async () => ({});\n');
    const targets = ['(empty module)', ...keys];
    const fileOf = (t: string) => (t === '(empty module)' ? empty : (files[t] as string));

    for (const t of targets) await importOnce(fileOf(t)); // warm the OS file cache, unmeasured
    const samples = Object.fromEntries(targets.map((t) => [t, { importMs: [] as number[], wallMs: [] as number[] }]));
    for (let round = 0; round < N; round++) {
      // Rotate the order every round so no target always runs first.
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length] as string;
        const [imp, wall] = await importOnce(fileOf(t));
        samples[t]?.importMs.push(imp);
        samples[t]?.wallMs.push(wall);
      }
    }

    const base = samples['(empty module)'] as { importMs: number[]; wallMs: number[] };
    const baseImport = median(base.importMs);
    const baseWall = median(base.wallMs);
    const rows = targets.map((t) => {
      const s = samples[t] as { importMs: number[]; wallMs: number[] };
      const bytes = statSync(fileOf(t)).size;
      const gz = gzipSync(readFileSync(fileOf(t)), { level: 9 }).length;
      return {
        target: t,
        entry: t === '(empty module)' ? '-' : FUNCTION_ENTRIES[t as FunctionKey],
        bytes,
        gzipBytes: gz,
        overLimit: bytes > LIMIT_BYTES,
        importMsMedian: median(s.importMs),
        importMsMin: Math.min(...s.importMs),
        importMsMax: Math.max(...s.importMs),
        wallMsMedian: median(s.wallMs),
        importMinusEmptyMs: median(s.importMs) - baseImport,
        wallRatio: median(s.wallMs) / baseWall,
      };
    });

    const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
    console.log(
      `\nbundles: esbuild ${BUNDLE.format}, ${BUNDLE.target}, minify=${BUNDLE.minify}, sourcemap=${BUNDLE.sourceMap}; ${N} runs each, Node ${process.versions.node}\n`,
    );
    console.log(
      [
        'function',
        'bundle',
        'gzip',
        'import p50 ms',
        'min..max',
        'import-empty ms',
        'process p50 ms',
        'process/empty',
      ].join('\t'),
    );
    for (const r of rows) {
      console.log(
        [
          r.target,
          r.target === '(empty module)' ? '-' : `${kb(r.bytes)}${r.overLimit ? ' (>1.5 MB)' : ''}`,
          r.target === '(empty module)' ? '-' : kb(r.gzipBytes),
          r.importMsMedian.toFixed(1),
          `${r.importMsMin.toFixed(1)}..${r.importMsMax.toFixed(1)}`,
          r.importMinusEmptyMs.toFixed(1),
          r.wallMsMedian.toFixed(1),
          `${r.wallRatio.toFixed(2)}x`,
        ].join('\t'),
      );
    }
    const out = await resultsFile('bundles');
    await writeJson(out, {
      bench: 'bundles',
      runs: N,
      commit: commit(),
      node: process.versions.node,
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
      },
      bundle: BUNDLE,
      rows,
    });
    console.log(`\nwrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(hardStop);
  }
}

await main();
