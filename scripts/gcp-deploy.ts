/**
 * `npm run deploy:gcp [-- --var-file=<file.tfvars>] [-- -auto-approve]`: builds the bundles
 * (scripts/gcp-build.ts), then `terraform -chdir=terraform init` and `apply` with the given variables
 * (a tfvars file, terraform/terraform.tfvars, or TF_VAR_* in the environment), and prints the MCP
 * endpoint. Stops with what to do when terraform or Google credentials are missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { buildGcp } from './gcp-build.ts';

const ROOT = join(import.meta.dirname, '..');
const TF_DIR = join(ROOT, 'terraform');

export class DeployError extends Error {
  override name = 'DeployError';
}

/** Where Application Default Credentials may come from (google-auth-library's order, as terraform's provider reads them). */
export function hasGoogleCredentials(env: NodeJS.ProcessEnv = process.env, home = homedir()): boolean {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return existsSync(env.GOOGLE_APPLICATION_CREDENTIALS);
  if (env.GOOGLE_OAUTH_ACCESS_TOKEN || env.GOOGLE_CREDENTIALS) return true;
  const adc = env.CLOUDSDK_CONFIG
    ? join(env.CLOUDSDK_CONFIG, 'application_default_credentials.json')
    : join(home, '.config', 'gcloud', 'application_default_credentials.json');
  // On a Google Cloud VM or Cloud Shell the metadata server answers; terraform finds out itself.
  return existsSync(adc) || Boolean(env.CLOUD_SHELL) || Boolean(env.GCE_METADATA_HOST);
}

/** The `-var-file` arguments: those given, else terraform/terraform.tfvars (which terraform reads by itself). */
export function varFileArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const file = a.startsWith('--var-file=')
      ? a.slice('--var-file='.length)
      : a === '--var-file'
        ? argv[++i]
        : undefined;
    if (a === '--var-file' && file === undefined) throw new DeployError('--var-file needs a file');
    if (file === undefined) continue;
    const path = isAbsolute(file) ? file : resolve(process.cwd(), file);
    if (!existsSync(path)) throw new DeployError(`--var-file ${file}: no such file`);
    out.push(`-var-file=${path}`);
  }
  return out;
}

function terraform(args: string[], opts: { capture?: boolean } = {}): string {
  const res = spawnSync('terraform', [`-chdir=${TF_DIR}`, ...args], {
    stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new DeployError(
      'terraform is not installed (or not on PATH): install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)',
    );
  }
  if (res.status !== 0) throw new DeployError(`terraform ${args[0]} failed (exit ${res.status ?? res.signal})`);
  return res.stdout ?? '';
}

export async function deploy(argv: readonly string[]): Promise<string> {
  const varFiles = varFileArgs(argv);
  terraform(['version']);
  if (!hasGoogleCredentials()) {
    throw new DeployError(
      'no Google credentials: run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a key file)',
    );
  }
  if (varFiles.length === 0 && !existsSync(join(TF_DIR, 'terraform.tfvars')) && !process.env.TF_VAR_project) {
    throw new DeployError(
      'no variables: pass --var-file=<file.tfvars>, write terraform/terraform.tfvars, or set TF_VAR_project',
    );
  }
  const sizes = await buildGcp();
  console.log(`built ${sizes.length} bundles in dist/gcp/`);
  terraform(['init', '-input=false']);
  terraform(['apply', '-input=false', ...varFiles, ...(argv.includes('-auto-approve') ? ['-auto-approve'] : [])]);
  const url = terraform(['output', '-raw', 'mcp_url'], { capture: true }).trim();
  if (!url) throw new DeployError('terraform has no mcp_url output');
  return url;
}

if (import.meta.main) {
  try {
    const url = await deploy(process.argv.slice(2));
    console.log(`MCP endpoint: ${url}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
