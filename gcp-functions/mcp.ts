/**
 * The MCP gateway on GCP: a public Cloud Function (gen2) -> the shared MCP gateway
 * (shared/host/gateway.ts). Serves POST /mcp (both protocol eras), GET/DELETE /mcp (405) and the
 * OAuth protected resource metadata at /.well-known/oauth-protected-resource{,/mcp}; it authenticates
 * its callers itself (OAUTH_*), as the internet reaches it. It holds no tool and no cluster
 * credential: tools/list comes from the build-time manifest less the toolsets not deployed on GCP,
 * and each tools/call is an HTTPS call of the tool's own function (TOOL_FUNCTIONS: tool name ->
 * function URL) with an ID token of the gateway's service account. The twin of functions/mcp.ts.
 */
import { http, type Request, type Response } from '@google-cloud/functions-framework';
import { CloudFunctionToolRunner, parseToolFunctions } from '../shared/adapters/gcp/cloud-function-tool-runner.ts';
import { isLoopbackHost } from '../shared/config/config.ts';
import { errorText } from '../shared/domain/errors.ts';
import { cloudGateway, GATEWAY_INTERNAL_ERROR } from '../shared/host/gateway.ts';
import { createLogger } from '../shared/logging/logger.ts';
import type { ToolManifest } from '../shared/mcp/catalog.ts';
import type { ToolRunner } from '../shared/ports/tool-runner.ts';
import manifestJson from '../shared/tools/manifest.json' with { type: 'json' };
import { NOT_ON_GCP } from './layout.ts';
import {
  type Env,
  GCP_REQUIRED_SETTINGS,
  gcpStore,
  hostLogger,
  type LocalEmulation,
  loadGcpConfig,
  perColdStart,
} from './lib/host.ts';
import { requestFromHttp, sendResponse } from './lib/http.ts';

export interface GcpMcpHandlerOptions {
  env: Env;
  /**
   * Runs the tools. Default: CloudFunctionToolRunner over TOOL_FUNCTIONS; with neither, a cold start
   * fails.
   */
  runner?: ToolRunner;
  /** An ID token for a function URL (tests: one signed by a loopback issuer). Default: google-auth-library's. */
  idToken?: (audience: string) => Promise<string>;
  /** Default: the build-time manifest. */
  manifest?: ToolManifest;
  /** `npm run start:gcp` only (local/gcp.ts): authentication as `npm start` has it on loopback. */
  localEmulation?: LocalEmulation;
}

/** The manifest's tools this host can deploy: every toolset but those NOT_ON_GCP names (aws). */
export function gcpManifest(manifest: ToolManifest): ToolManifest {
  return { tools: manifest.tools.filter((t) => !NOT_ON_GCP.has(t.group)) };
}

export function createGcpMcpHandler(opts: GcpMcpHandlerOptions) {
  const logger = hostLogger(opts.env, 'mcp');
  const app = perColdStart(async () => {
    const started = performance.now();
    const config = loadGcpConfig(opts.env, GCP_REQUIRED_SETTINGS.mcp, { localEmulation: opts.localEmulation });
    const endpoint = await cloudGateway({
      config,
      store: gcpStore(config),
      loopback: opts.localEmulation !== undefined && isLoopbackHost(opts.localEmulation.listensOn),
      env: opts.env,
      log: createLogger(config.logLevel, undefined, { severity: true }),
      manifest: gcpManifest(opts.manifest ?? (manifestJson as unknown as ToolManifest)),
      parseFunctions: parseToolFunctions,
      runner: (functions, timeoutMs) => {
        if (opts.runner || !functions) return opts.runner;
        return new CloudFunctionToolRunner({
          functions,
          timeoutMs,
          ...(opts.idToken ? { idToken: opts.idToken } : {}),
        });
      },
      runnerRequired: 'TOOL_FUNCTIONS: required on GCP (a JSON object of tool name -> function URL)',
    });
    logger.info({ initMs: Math.round(performance.now() - started), publicUrl: config.publicUrls[0]?.href }, 'ready');
    return endpoint;
  });

  return async (req: Request, res: Response): Promise<void> => {
    try {
      const endpoint = await app();
      const response = await endpoint.fetch(requestFromHttp(req), {
        ...(req.executionId ? { requestId: req.executionId } : {}),
      });
      await sendResponse(res, response);
    } catch (err) {
      logger.error({ err: errorText(err) }, 'invocation failed');
      if (res.headersSent) {
        res.end();
        return;
      }
      res.status(500).type('application/json').send(GATEWAY_INTERNAL_ERROR);
    }
  };
}

export const handler = createGcpMcpHandler({ env: process.env });
http('mcp', handler);
