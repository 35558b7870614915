import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { ClusterRegistry } from '../shared/adapters/kube/cluster-registry.ts';
import {
  type ClusterSourceFactories,
  clustersFromConfig,
  kubeconfigFromConfig,
  sourcesFromConfig,
} from '../shared/adapters/kube/index.ts';
import { KubeconfigClusters } from '../shared/adapters/kube/kubeconfig-clusters.ts';
import { LocalWorkflowEngine } from '../shared/adapters/local/local-workflow-engine.ts';
import { isLocalSecretName, LocalSecrets } from '../shared/adapters/local/secrets.ts';
import { PrometheusSource } from '../shared/adapters/prometheus.ts';
import { createSlackNotifier } from '../shared/adapters/slack/slack-notifier.ts';
import { deliverWithinBudget } from '../shared/app/alerts/settle.ts';
import type { DeliverResult } from '../shared/app/alerts/types.ts';
import { checkCost } from '../shared/app/cost/check.ts';
import { sampleUsage } from '../shared/app/cost/sample-usage.ts';
import type { Deps } from '../shared/app/deps.ts';
import { buildDeps } from '../shared/app/deps.ts';
import { checkDrift } from '../shared/app/drift/check.ts';
import { alertSettingsFromEnv, slackSettingsFromEnv } from '../shared/config/alerts.ts';
import { type Config, ConfigError, isLoopbackHost, isWildcardHost, loadConfig } from '../shared/config/config.ts';
import { loadPolicy } from '../shared/config/policy-file.ts';
import { createLogger, type Logger } from '../shared/logging/logger.ts';
import { createMcpEndpoint, type McpEndpoint } from '../shared/mcp/endpoint.ts';
import type { Clock } from '../shared/ports/clock.ts';
import type { CloudInventory } from '../shared/ports/cloud.ts';
import type { ClusterSource } from '../shared/ports/cluster-sources.ts';
import type { CostSource } from '../shared/ports/cost.ts';
import type { Clusters } from '../shared/ports/kube.ts';
import { SecretReadError } from '../shared/ports/secrets.ts';
import type { Store } from '../shared/ports/store.ts';
import type { StepEvent, WorkflowEngine } from '../shared/ports/workflow.ts';
import { toolsFor } from '../shared/tools/index.ts';
import type { AnyTool } from '../shared/tools/tool.ts';
import { dispatchStep } from '../shared/workflows/index.ts';
import { recoverInterruptedOperations, startRollbackReconciler } from '../shared/workflows/recovery.ts';
import { localCloud } from './cloud.ts';
import { localCostSources } from './cost.ts';
import { startScheduled } from './scheduled.ts';
import { openLocalStore } from './store.ts';

/** How long a scheduled drift run keeps delivering alerts that fall due after its check. */
const SETTLE_BUDGET_MS = 90_000;

/** An engine whose executions run in this process: the host stops them (and waits for their steps) on close. */
export type InProcessEngine = WorkflowEngine & { stopAll(): Promise<void> };
export type InProcessEngineFactory = (opts: {
  dispatch: (event: StepEvent) => Promise<Record<string, unknown>>;
  waitMs?: number;
}) => InProcessEngine;

export interface LocalServer {
  /** The MCP endpoint URL, e.g. http://127.0.0.1:8787/mcp */
  url: string;
  deps: Deps;
  endpoint: McpEndpoint;
  /** Settles once operations interrupted by the previous process's stop have been rolled back. */
  recovery: Promise<void>;
  /** The DRIFT_CHECK_SCHEDULE timer, when it is set. */
  driftTimer?: { nextAt(): number | undefined; runNow(): Promise<void> };
  /** The COST_CHECK_SCHEDULE timer, when it is set. */
  costTimer?: { nextAt(): number | undefined; runNow(): Promise<void> };
  /** The USAGE_SAMPLE_SCHEDULE timer, when it is set. */
  usageTimer?: { nextAt(): number | undefined; runNow(): Promise<void> };
  close(): Promise<void>;
}

/**
 * The local host: one Node HTTP server in front of the shared MCP endpoint, with the embedded
 * store. It refuses to listen beyond loopback unless authentication is configured.
 */
export async function startLocalServer(
  env: Record<string, string | undefined>,
  opts: {
    log?: Logger;
    /**
     * The Store to serve with instead of the one STORE names (tests and benches inject a wrapped one,
     * e.g. a throttling DynamoDB client). The server owns it: close() closes it.
     */
    store?: Store;
    /** The clock of every part (default: the system clock); tests that must not depend on time pass a fake. */
    clock?: Clock;
    /** The workflow engine instead of the local one (tests run the same scenarios on another engine). */
    workflows?: InProcessEngineFactory;
    /** The EKS/GKE sources to build from AWS_ACCOUNTS/AWS_REGIONS and GCP_PROJECTS (default localClusterSources). */
    clusterSources?: ClusterSourceFactories;
    /** The AWS and GCP inventory instead of the one the settings build (default localCloud). */
    cloud?: CloudInventory;
    /** The spend sources instead of the ones the settings build (default localCostSources). */
    costSources?: readonly CostSource[];
  } = {},
): Promise<LocalServer> {
  const config: Config = loadConfig(env);
  // Before listening: a TOOLSETS naming a toolset without tools is refused at start.
  const tools = toolsFor(config.toolsets);
  const loopback = isLoopbackHost(config.host);
  if (!loopback && !config.authRequired) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without authentication. Set AUTH=required (API keys) and/or ` +
        'OAUTH_ISSUER/OAUTH_JWKS_URL, or bind to 127.0.0.1.',
    );
  }
  // A public URL on another host means a tunnel or proxy forwards to this loopback port: without
  // authentication that would hand everyone who reaches the URL the local admin.
  const remote = config.publicUrls.find((u) => !isLoopbackHost(u.hostname));
  if (remote && !config.authRequired) {
    throw new ConfigError(
      `Refusing to serve PUBLIC_URL ${remote.href} without authentication: a request through it would act as the ` +
        'local admin. Set AUTH=required (API keys) and/or OAUTH_ISSUER/OAUTH_JWKS_URL, or leave PUBLIC_URL unset.',
    );
  }
  // Clients send the host they reach the server by; on a wildcard address the server cannot know it,
  // and a default of 0.0.0.0 would refuse every real client's Host header.
  if (isWildcardHost(config.host) && config.publicUrls.length === 0) {
    throw new ConfigError(
      `PUBLIC_URL is required when HOST is ${config.host || '(empty)'} (every interface): the server accepts only ` +
        'requests addressed to its public URL (Host header), and a wildcard address is no host a client can use. ' +
        'Set PUBLIC_URL to the URL clients use, e.g. https://mcp.example.com/mcp.',
    );
  }
  const log = opts.log ?? createLogger(config.logLevel);
  const policy = loadPolicy(config.policyFile);
  // Alert settings and the Slack channel fail at start, named, like every other setting.
  const alertSettings = alertSettingsFromEnv(env);
  const slack = slackSettingsFromEnv(env);
  const clusters = await localClusters(config, env, opts.clusterSources);
  if (clusters.kubeconfig instanceof KubeconfigClusters && clusters.kubeconfig.skipped.length > 0) {
    log.warn({ skipped: clusters.kubeconfig.skipped }, 'KUBECONFIG: skipped files that do not exist');
  }
  const store = opts.store ?? (await openLocalStore(config, { shareRunning: false }));
  try {
    return await serve({
      config,
      tools,
      log,
      policy,
      clusters,
      cloud: opts.cloud ?? localCloud(config, env),
      costSources: opts.costSources ?? localCostSources(config, env),
      store,
      loopback,
      alertSettings,
      ...(slack ? { slack } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.workflows ? { workflows: opts.workflows } : {}),
    });
  } catch (err) {
    // Nothing may stay open when the server does not start: the store (and its advert file) included.
    await store.close().catch((e: unknown) => log.error({ err: String(e) }, 'closing the store failed'));
    throw err;
  }
}

/**
 * The cloud cluster sources: AWS_ACCOUNTS (roles to assume; none: the local credentials' account) and
 * AWS_REGIONS → EKS, with AWS_ENDPOINT_URL for the EKS and STS calls; GCP_PROJECTS → GKE with
 * Application Default Credentials. Each adapter is imported on the source's first use: the GKE
 * client library alone takes about half a second to import, which a server without GCP_PROJECTS (and
 * every test that starts one) should not pay.
 */
export function localClusterSources(env: Record<string, string | undefined>): ClusterSourceFactories {
  return {
    eks: ({ roleArns, regions }) =>
      lazySource('eks', async () => {
        const { EksClusterSource } = await import('../shared/adapters/aws/eks-source.ts');
        return new EksClusterSource({
          accounts: roleArns.length > 0 ? roleArns.map((roleArn) => ({ roleArn })) : [{}],
          regions,
          ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
        });
      }),
    gke: ({ projects }) =>
      lazySource('gke', async () => {
        const { GkeClusterSource } = await import('../shared/adapters/gcp/gke-cluster-source.ts');
        return new GkeClusterSource({ projects, timeoutMs: 15_000 });
      }),
  };
}

/** A source whose adapter is loaded (and built) on first use; a failed load is the source's error, retried next time. */
function lazySource(kind: ClusterSource['kind'], load: () => Promise<ClusterSource>): ClusterSource {
  let loading: Promise<ClusterSource> | undefined;
  const source = () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  return {
    kind,
    discover: async (signal) => (await source()).discover(signal),
    token: async (cluster, signal) => (await source()).token(cluster, signal),
  };
}

/**
 * The clusters: the kubeconfig KUBECONFIG_SECRET names (env:<VARIABLE> or file:<path>, e.g. a
 * mounted container secret) when it is set, else KUBECONFIG, ~/.kube/config or in-cluster; plus the
 * EKS and GKE clusters the settings ask to discover.
 */
export async function localClusters(
  config: Config,
  env: Record<string, string | undefined>,
  factories: ClusterSourceFactories = localClusterSources(env),
): Promise<ClusterRegistry> {
  const sources = sourcesFromConfig(config, env, factories);
  const name = config.kubeconfigSecret;
  if (!name) return clustersFromConfig(config, env, sources);
  const bad = (why: string, cause?: unknown) =>
    new ConfigError(`Invalid configuration:\n  KUBECONFIG_SECRET: ${why}`, cause ? { cause } : undefined);
  if (!isLocalSecretName(name)) throw bad('the local host reads env:<VARIABLE> or file:<path>');
  let yaml: string;
  try {
    yaml = await new LocalSecrets(env).read(name);
  } catch (err) {
    if (err instanceof SecretReadError) throw bad(err.message, err);
    throw err;
  }
  // The kubeconfig loader reads files: a private copy, loaded at once and removed, leaves no
  // credentials behind on disk.
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-'));
  const path = join(dir, 'kubeconfig');
  try {
    writeFileSync(path, yaml, { mode: 0o600 });
    const kubeconfig = kubeconfigFromConfig(
      { ...config, kube: { ...config.kube, kubeconfig: path } },
      { ...env, KUBECONFIG: path },
    );
    return clustersFromConfig(config, env, sources, kubeconfig);
  } catch (err) {
    throw bad(`the secret's value is not a usable kubeconfig (${(err as Error).message})`, err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serve(opts: {
  config: Config;
  tools: readonly AnyTool[];
  log: Logger;
  policy: ReturnType<typeof loadPolicy>;
  clusters: Clusters;
  cloud: CloudInventory;
  costSources: readonly CostSource[];
  store: Store;
  loopback: boolean;
  alertSettings: ReturnType<typeof alertSettingsFromEnv>;
  slack?: NonNullable<ReturnType<typeof slackSettingsFromEnv>>;
  clock?: Clock;
  workflows?: InProcessEngineFactory;
}): Promise<LocalServer> {
  const { config, tools, log, policy, clusters, store, loopback } = opts;
  let engine: InProcessEngine | undefined;
  const deps = buildDeps(config, store, log, {
    metrics: new PrometheusSource(config.prometheusUrl),
    clusters,
    cloud: opts.cloud,
    costSources: opts.costSources,
    policy,
    alertSettings: opts.alertSettings,
    ...(opts.slack ? { notifier: createSlackNotifier(opts.slack, opts.clock) } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    workflows: (d) => {
      const waitMs = config.localWorkflowWaitMs;
      engine =
        opts.workflows?.({ dispatch: (event) => dispatchStep(event, d), ...(waitMs ? { waitMs } : {}) }) ??
        new LocalWorkflowEngine({ dispatch: (event) => dispatchStep(event, d), log, ...(waitMs ? { waitMs } : {}) });
      return engine;
    },
  });

  let endpoint: McpEndpoint | undefined;
  const node = toNodeHandler(
    { fetch: (req: Request) => (endpoint as McpEndpoint).fetch(req) },
    {
      maxRequestBodySize: config.maxBodyBytes,
      onerror: (err) => log.error({ err: err.message }, 'http adapter error'),
    },
  );
  // Requests being served, so a stop lets them finish (and leave their audit record) first.
  let inFlight = 0;
  let stopping = false;
  const drained: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const done of drained.splice(0)) done();
    });
    // A request that arrives on a kept-alive connection while stopping is served, then its connection closed.
    if (stopping) res.setHeader('connection', 'close');
    node(req, res).catch((err: unknown) => {
      log.error({ err: String(err) }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await engine?.stopAll();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ConfigError(
        `PORT ${config.port} on ${config.host} is already in use: stop what listens there or set another PORT.`,
      );
    }
    if (code === 'EACCES') throw new ConfigError(`PORT ${config.port} on ${config.host}: permission denied.`);
    if (code === 'EADDRNOTAVAIL') throw new ConfigError(`HOST ${config.host} is not an address of this machine.`);
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/mcp`;
  const publicUrls = config.publicUrls.length ? config.publicUrls : [new URL(url)];
  endpoint = createMcpEndpoint({ deps, tools, publicUrls, loopback, streaming: true });

  // The local engine's executions died with the previous process: end what they left running. Not
  // with a shared DynamoDB table, where another replica may be running them.
  let closing: Promise<void> | undefined;
  const recovery =
    config.store.kind === 'embedded'
      ? recoverInterruptedOperations(deps).then(
          (r) => {
            if (r.recovered.length || r.failed.length)
              log.warn(r, 'rolled back operations left running when this server last stopped');
          },
          (err: unknown) => log.error({ err: String(err) }, 'recovery of interrupted operations failed'),
        )
      : Promise.resolve();
  // Rollbacks that could not finish (API server down past the step retries) are retried on a
  // schedule until their targets are restored; recovery above already made a first pass.
  const reconciler = startRollbackReconciler(deps, { everyMs: 60_000 });
  // DRIFT_CHECK_SCHEDULE: the drift check over every cluster, which ends by delivering the alert
  // outbox (its own alerts and any an earlier run could not send); one run at a time. Off when unset.
  const driftSchedule = config.driftCheckSchedule;
  const shutdown = new AbortController();
  /**
   * A scheduled check that alerts (drift, cost): if it fails, alerts queued by earlier runs still go
   * out, then the failure is the timer's to log; if it ran, alerts falling due soon after it (a new
   * group's wait, a Slack retry) go out in this run rather than the next; shutting down stops the
   * wait (the outbox keeps them).
   */
  const checkThenDeliver = async <R extends { alerts?: { deliver: DeliverResult } }>(check: () => Promise<R>) => {
    const report = await check().catch(async (err: unknown) => {
      await deps.alerting.deliver().catch(() => undefined);
      throw err;
    });
    const deliver = report.alerts
      ? await deliverWithinBudget(deps.alerting, {
          first: report.alerts.deliver,
          budgetMs: SETTLE_BUDGET_MS,
          now: () => deps.clock.now(),
          sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
          signal: shutdown.signal,
        })
      : undefined;
    return { report, deliver };
  };
  const driftTimer = driftSchedule
    ? startScheduled({
        name: 'drift check',
        schedule: driftSchedule,
        clock: deps.clock,
        log,
        run: async () => {
          const { report: r, deliver } = await checkThenDeliver(() =>
            checkDrift(deps, { trigger: 'schedule', requestId: `schedule:${randomUUID()}` }),
          );
          log.info(
            {
              clusters: r.clusters,
              counts: r.counts,
              apiCalls: r.apiCalls,
              alerts: r.alerts && { ...r.alerts, deliver },
            },
            'drift check',
          );
        },
      })
    : undefined;
  // COST_CHECK_SCHEDULE: the cost check (spend through its cache, budgets, anomalies), then the
  // outbox, as the drift timer does; USAGE_SAMPLE_SCHEDULE: a usage sample of every cluster, for cost
  // per workload and right-sizing. Each one run at a time; off when unset.
  const costSchedule = config.costCheckSchedule;
  const costTimer = costSchedule
    ? startScheduled({
        name: 'cost check',
        schedule: costSchedule,
        clock: deps.clock,
        log,
        run: async () => {
          const { report: r, deliver } = await checkThenDeliver(() =>
            checkCost(deps, { trigger: 'schedule', requestId: `schedule:${randomUUID()}` }),
          );
          log.info(
            {
              pages: Object.fromEntries(r.sources.map((s) => [s.scope, s.pages])),
              budgetFindings: r.budgetFindings.length,
              anomalies: r.anomalies.length,
              errors: r.errors.slice(0, 5),
              alerts: r.alerts && { ...r.alerts, deliver },
            },
            'cost check',
          );
        },
      })
    : undefined;
  const usageSchedule = config.usageSampleSchedule;
  const usageTimer = usageSchedule
    ? startScheduled({
        name: 'usage sample',
        schedule: usageSchedule,
        clock: deps.clock,
        log,
        run: async () => {
          const clusters = (await deps.clusters.list()).map((c) => c.name);
          for (const cluster of clusters) {
            if (shutdown.signal.aborted) break;
            // One cluster failing is its report (sampleUsage never throws for a cluster it cannot read).
            const r = await sampleUsage(deps, { cluster }).catch((err: unknown) => ({
              cluster,
              status: 'error' as const,
              message: err instanceof Error ? err.message : String(err),
            }));
            if (r.status === 'stored') log.debug({ cluster, pods: r.pods, nodes: r.nodes }, 'usage sample stored');
            else log.warn({ cluster, status: r.status, message: r.message }, 'usage sample not stored');
          }
        },
      })
    : undefined;

  return {
    url,
    deps,
    endpoint,
    recovery,
    ...(driftTimer ? { driftTimer } : {}),
    ...(costTimer ? { costTimer } : {}),
    ...(usageTimer ? { usageTimer } : {}),
    close() {
      closing ??= (async () => {
        stopping = true;
        shutdown.abort();
        // Stop accepting, end idle connections, and give the requests being served time to finish.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          log.info({ inFlight, graceMs: config.shutdownGraceMs }, 'stopping: waiting for requests in flight');
          let timer: NodeJS.Timeout | undefined;
          const finished = await Promise.race([
            new Promise<true>((resolve) => drained.push(() => resolve(true))),
            new Promise<false>((resolve) => {
              timer = setTimeout(() => resolve(false), config.shutdownGraceMs);
            }),
          ]);
          clearTimeout(timer);
          if (!finished) log.warn({ inFlight }, 'stopping: grace period over, cutting requests still in flight');
        }
        server.closeAllConnections();
        await closed;
        await recovery;
        await reconciler.stop();
        await driftTimer?.stop();
        await costTimer?.stop();
        await usageTimer?.stop();
        const unwritten = await deps.audit.flush();
        if (unwritten > 0) log.error({ unwritten }, 'stopping with audit records unwritten (logged in full above)');
        await engine?.stopAll();
        await endpoint?.close();
        await store.close();
      })();
      return closing;
    },
  };
}
