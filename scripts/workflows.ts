/**
 * Generates, from the engine-neutral definitions in shared/workflows/definitions/, the files each
 * engine deploys: shared/workflows/<flow>.asl.json (Step Functions; CDK and the local engine) and
 * shared/workflows/<flow>.workflows.yaml (Google Cloud Workflows).
 *
 *   node scripts/workflows.ts --write   regenerate them
 *   node scripts/workflows.ts --check   exit 1 if a committed file differs from its regeneration
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { toAsl, toCloudWorkflowsYaml, WORKFLOWS } from '../shared/workflows/definitions/index.ts';

const ROOT = join(import.meta.dirname, '..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');

export const REGENERATE = 'node scripts/workflows.ts --write';

/** JSON as the repository's formatter writes it, so `biome check` and the committed file agree. */
function formatJson(path: string, value: unknown): string {
  return execFileSync(BIOME, ['format', `--stdin-file-path=${relative(ROOT, path)}`], {
    cwd: ROOT,
    input: JSON.stringify(value, null, 2),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Every generated file: its path and the text it must hold. */
export function generatedFiles(): Array<{ path: string; text: string }> {
  return Object.values(WORKFLOWS).flatMap((def) => {
    const asl = join(ROOT, 'shared', 'workflows', `${def.flow}.asl.json`);
    const yaml = join(ROOT, 'shared', 'workflows', `${def.flow}.workflows.yaml`);
    return [
      { path: asl, text: formatJson(asl, toAsl(def)) },
      { path: yaml, text: toCloudWorkflowsYaml(def) },
    ];
  });
}

/** The generated files whose committed text differs (or that are missing). */
export function staleFiles(): string[] {
  return generatedFiles()
    .filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.text)
    .map((f) => relative(ROOT, f.path));
}

if (import.meta.main) {
  if (process.argv.includes('--write')) {
    for (const f of generatedFiles()) writeFileSync(f.path, f.text);
    console.log(`wrote ${generatedFiles().length} workflow files`);
  } else if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`out of date: ${stale.join(', ')}; run ${REGENERATE}`);
      process.exit(1);
    }
    console.log('workflow files are up to date');
  } else {
    console.error('usage: node scripts/workflows.ts --write | --check');
    process.exit(2);
  }
}
