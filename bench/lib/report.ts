/**
 * What the benchmark scripts report: nearest-rank statistics, a plain-text table, the facts about
 * this machine and commit stored with each result, and the results file under bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  // Nearest-rank percentiles.
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    mean: sum / s.length,
    min: s[0] as number,
    max: s[s.length - 1] as number,
  };
}

/** Columns padded to their widest cell, a dashed rule under the header; columns from `rightFrom` on are right-aligned. */
export function table(rows: string[][], rightFrom: number): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) =>
    r.map((c, i) => (i >= rightFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The short commit of the checkout, marked when the working tree has changes; undefined outside git. */
export function gitCommit(): string | undefined {
  try {
    const cwd = fileURLToPath(new URL('../../', import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return dirty ? `${head} (uncommitted changes)` : head;
  } catch {
    return undefined;
  }
}

export interface MachineFacts {
  nproc: number;
  cpu: string;
  memGiB: number;
  platform: string;
  node: string;
}

export function machineFacts(): MachineFacts {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** bench/results/<benchmark>-<timestamp>.json, with the folder created. */
export async function resultsFile(benchmark: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  return join(dir, `${benchmark}-${stamp}.json`);
}

/** Pretty-printed JSON with a final newline. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
