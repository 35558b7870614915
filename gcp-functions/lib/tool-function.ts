/**
 * A tool function on GCP: a private Cloud Function (gen2) the gateway POSTs one ToolInvocation to
 * (shared/adapters/gcp/cloud-function-tool-runner.ts), with an ID token for this function's URL. It
 * checks the token first (gcp-functions/lib/oidc.ts: 401/403, nothing parsed or run), then runs the
 * cloud-neutral core (shared/host/tool-function.ts) over Firestore and Secret Manager, and answers
 * 200 with the ToolRunResult for every tool outcome. Each toolset is one bundle
 * (gcp-functions/tools/<toolset>.ts) that imports only its own tools. The twin of
 * functions/lib/tool-function.ts.
 */
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import type { Deps } from '../../shared/app/deps.ts';
import { errorText } from '../../shared/domain/errors.ts';
import { createToolFunctionCore, type ToolFunctionReach } from '../../shared/host/tool-function.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import { gcpDeps } from './deps.ts';
import { type Env, GCP_REQUIRED_SETTINGS, hostLogger, loadGcpConfig } from './host.ts';
import { InvokerRejectedError, type OidcVerifier, oidcVerifierFromEnv } from './oidc.ts';

export interface GcpToolFunctionOptions extends ToolFunctionReach {
  env: Env;
  /** Default: an engine that refuses; the delivery toolset passes Cloud Workflows (gcp-functions/lib/workflows.ts). */
  workflows?: (deps: Deps, env: Env) => WorkflowEngine;
}

/** The largest invocation read (the gateway's own request bounds keep real ones far smaller). */
const MAX_INVOCATION_BYTES = 6 * 1024 * 1024;

const refuse = (res: Response, status: number, error: string, headers: Record<string, string> = {}) => {
  res.status(status).set(headers).json({ error });
};

export function createGcpToolFunction(tools: readonly AnyTool[], opts: GcpToolFunctionOptions): HttpFunction {
  const { env, workflows, ...reach } = opts;
  const logger = hostLogger(env, 'tool');
  const core = createToolFunctionCore(tools, {
    env,
    log: {
      warn: (message, details) => logger.warn(details, message),
      error: (message, err) => logger.error({ err: errorText(err) }, message),
    },
    loadConfig: (e) => loadGcpConfig(e, GCP_REQUIRED_SETTINGS.toolFunction),
    deps: (config) =>
      gcpDeps(config, env, { ...reach, workflows: workflows && ((deps: Deps) => workflows(deps, env)) }),
  });
  let verifier: OidcVerifier | undefined;

  return async (req: Request, res: Response) => {
    if (req.method !== 'POST') return refuse(res, 405, 'POST a tool invocation', { allow: 'POST' });
    try {
      verifier ??= oidcVerifierFromEnv(env);
      await verifier.verify(req.get('authorization'));
    } catch (err) {
      if (err instanceof InvokerRejectedError) {
        logger.warn({ status: err.status, reason: err.message }, 'invoker refused');
        const challenge: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
        return refuse(res, err.status, err.status === 401 ? 'unauthenticated' : 'forbidden', challenge);
      }
      logger.error({ err: errorText(err) }, 'invoker check failed');
      return refuse(res, 503, 'the function could not check its caller; its log says why');
    }
    const raw = req.rawBody ?? Buffer.alloc(0);
    if (raw.length > MAX_INVOCATION_BYTES) return refuse(res, 413, `at most ${MAX_INVOCATION_BYTES} bytes`);
    let event: unknown;
    try {
      event = JSON.parse(raw.toString('utf8'));
    } catch {
      event = undefined; // The core answers a malformed invocation as a tool result.
    }
    res.status(200).json(await core(event));
  };
}
