#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { createSlackNotifier } from '../shared/adapters/slack/slack-notifier.ts';
import { AlertingService } from '../shared/app/alerts/alerting.ts';
import { checkCost, costExitCode } from '../shared/app/cost/check.ts';
import { sampleUsage } from '../shared/app/cost/sample-usage.ts';
import type { CostCheckReport } from '../shared/app/cost/types.ts';
import { checkDrift } from '../shared/app/drift/check.ts';
import type { DriftCheckReport } from '../shared/app/drift/types.ts';
import { AppError } from '../shared/app/errors.ts';
import { ApiKeyNameTakenError, ApiKeys } from '../shared/app/repos/api-keys.ts';
import { Baselines } from '../shared/app/repos/baselines.ts';
import { DriftFindings } from '../shared/app/repos/drift-findings.ts';
import { UsageSamples } from '../shared/app/repos/usage-samples.ts';
import { alertSettingsFromEnv, slackSettingsFromEnv } from '../shared/config/alerts.ts';
import { ConfigError, loadConfig, RoleSchema } from '../shared/config/config.ts';
import { loadPolicy } from '../shared/config/policy-file.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { UnknownClusterError } from '../shared/ports/kube.ts';
import { VERSION } from '../shared/version.ts';
import { localCloud } from './cloud.ts';
import { localCostSources } from './cost.ts';
import { costReportText } from './cost-report.ts';
import { driftExitCode, driftReportText } from './drift-report.ts';
import { localClusters, startLocalServer } from './server.ts';
import { stopOnSignals } from './signals.ts';
import { openLocalStore } from './store.ts';

const program = new Command()
  .name('cloudops-mcp')
  .description('MCP server for operating Kubernetes, AWS and GCP safely')
  .version(VERSION);

program
  .command('serve', { isDefault: true })
  .description('serve the MCP endpoint (HOST, PORT and the other settings come from the environment)')
  .action(async () => {
    const server = await startLocalServer(process.env);
    console.log(`MCP endpoint: ${server.url}`);
    // A second signal does not wait for the requests in flight.
    stopOnSignals(() => server.close(), 'exiting without waiting for requests in flight');
  });

const keys = program.command('keys').description('manage API keys (stored hashed; a key is shown once)');

async function withKeys<T>(fn: (keys: ApiKeys) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  if (config.store.kind === 'memory') {
    // A memory store ends with this command: a key created in it would be printed but never kept.
    throw new ConfigError(
      'STORE=memory: the keys commands need a store that outlives them. Use STORE=embedded (the default, ' +
        'with the DATA_DIR of the server) or STORE=dynamodb (with DYNAMODB_TABLE).',
    );
  }
  const store = await openLocalStore(config, { shareRunning: true });
  try {
    return await fn(new ApiKeys(store, systemClock));
  } finally {
    await store.close();
  }
}

keys
  .command('create')
  .description('create an API key and print it once')
  .addOption(new Option('--role <role>', 'role of the key').choices(RoleSchema.options).makeOptionMandatory())
  .option('--name <name>', 'a name to recognise the key by')
  .option('--json', 'print JSON')
  .action(async (opts: { role: (typeof RoleSchema.options)[number]; name?: string; json?: boolean }) => {
    const { key, info } = await withKeys((k) =>
      k.create({ role: opts.role, ...(opts.name ? { name: opts.name } : {}) }),
    );
    if (opts.json) console.log(JSON.stringify({ key, ...info }));
    else
      console.log(`Created ${info.role} key "${info.name}" (id ${info.id}). It is shown once, store it now:\n${key}`);
  });

keys
  .command('list')
  .description('list API keys (never the keys themselves)')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const list = await withKeys((k) => k.list());
    if (opts.json) return console.log(JSON.stringify(list));
    if (list.length === 0) return console.log('No API keys.');
    for (const k of list) {
      const state = k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`;
      console.log(`${k.id}  ${k.role.padEnd(8)}  ${k.name}  created ${k.createdAt}  ${state}`);
    }
  });

keys
  .command('revoke')
  .description('revoke an API key by id or name')
  .argument('<idOrName>')
  .action(async (idOrName: string) => {
    const revoked = await withKeys((k) => k.revoke(idOrName));
    if (!revoked) {
      console.error(`No API key with id or name "${idOrName}". See: cloudops-mcp keys list`);
      process.exitCode = 1;
      return;
    }
    console.log(`Revoked ${revoked.id} (${revoked.name}) at ${revoked.revokedAt}`);
  });

const check = program
  .command('check')
  .description(
    'run a check once and exit: 0 nothing found, 2 found (drift), 1 error (like terraform plan -detailed-exitcode)',
  );

check
  .command('drift')
  .description(
    'compare baselined objects with the clusters now; records findings and (unless --no-alerts) sends alerts. ' +
      'Exit 0 clean, 2 drift found, 1 error (also when an object could not be compared)',
  )
  .option('--cluster <name>', 'one cluster (default: every configured cluster)')
  .option('--namespace <name>', 'one namespace (default: every baselined namespace)')
  .option('--no-alerts', 'record findings but neither queue nor send alerts')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { cluster?: string; namespace?: string; alerts: boolean; json?: boolean }) => {
    const report = await runDriftCheck(opts);
    if (opts.json) console.log(JSON.stringify(report));
    else console.log(driftReportText(report, opts.alerts));
    process.exitCode = driftExitCode(report);
  });

/**
 * What a check run from the CLI works with: the settings, policy and clusters of the environment, the
 * store (a running server's embedded store is shared: its findings, spend cache, samples and alert
 * states are the same ones), and, unless `--no-alerts`, the alerting with Slack when it is set.
 */
async function withCheckContext<T>(
  opts: { alerts: boolean },
  run: (c: {
    env: NodeJS.ProcessEnv;
    config: ReturnType<typeof loadConfig>;
    log: ReturnType<typeof createLogger>;
    policy: ReturnType<typeof loadPolicy>;
    clusters: Awaited<ReturnType<typeof localClusters>>;
    store: Awaited<ReturnType<typeof openLocalStore>>;
    clock: typeof systemClock;
    alerting?: AlertingService;
  }) => Promise<T>,
): Promise<T> {
  const env = process.env;
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const policy = loadPolicy(config.policyFile);
  const alertSettings = alertSettingsFromEnv(env);
  const slack = slackSettingsFromEnv(env);
  const clusters = await localClusters(config, env);
  const store = await openLocalStore(config, { shareRunning: true });
  try {
    const clock = systemClock;
    const alerting = opts.alerts
      ? new AlertingService({
          store,
          clock,
          log,
          settings: alertSettings,
          ...(slack ? { notifier: createSlackNotifier(slack, clock) } : {}),
        })
      : undefined;
    return await run({ env, config, log, policy, clusters, store, clock, ...(alerting ? { alerting } : {}) });
  } finally {
    await store.close();
  }
}

async function runDriftCheck(opts: {
  cluster?: string;
  namespace?: string;
  alerts: boolean;
}): Promise<DriftCheckReport> {
  return withCheckContext(opts, ({ env, config, log, policy, clusters, store, clock, alerting }) =>
    checkDrift(
      {
        clusters,
        baselines: new Baselines(store, clock),
        store,
        clock,
        log,
        policy,
        driftFindings: new DriftFindings(store, clock),
        // Cloud baselines (EKS, GKE) are checked with the clusters' objects.
        cloud: localCloud(config, env),
        ...(alerting ? { alerting } : {}),
      },
      {
        ...(opts.cluster ? { cluster: opts.cluster } : {}),
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        trigger: 'cli',
        requestId: `cli:${randomUUID()}`,
      },
    ),
  );
}

check
  .command('cost')
  .description(
    'judge spend against the budgets of the policy and look for anomalies; records and (unless --no-alerts) sends alerts. ' +
      'Exit 0 within budget and no anomaly, 2 a budget threshold crossed or an anomaly, 1 error (a source failed, a budget not evaluated)',
  )
  .option('--no-alerts', 'neither queue nor send alerts')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { alerts: boolean; json?: boolean }) => {
    const report = await runCostCheck(opts);
    if (opts.json) console.log(JSON.stringify(report));
    else console.log(costReportText(report, opts.alerts));
    process.exitCode = costExitCode(report);
  });

async function runCostCheck(opts: { alerts: boolean }): Promise<CostCheckReport> {
  return withCheckContext(opts, ({ env, config, log, policy, clusters, store, clock, alerting }) =>
    checkCost(
      {
        config,
        store,
        clock,
        log,
        policy,
        costSources: localCostSources(config, env),
        clusters,
        usageSamples: new UsageSamples(store, clock, { retentionDays: config.cost.usageRetentionDays }),
        ...(alerting ? { alerting } : {}),
      },
      { trigger: 'cli', requestId: `cli:${randomUUID()}` },
    ),
  );
}

program
  .command('sample')
  .description('take a sample now')
  .command('usage')
  .description(
    'store one metrics.k8s.io usage sample of every cluster (or one), for cost per workload and right-sizing. Exit 1 when a cluster could not be sampled',
  )
  .option('--cluster <name>', 'one cluster (default: every configured cluster)')
  .option('--json', 'print the reports as JSON')
  .action(async (opts: { cluster?: string; json?: boolean }) => {
    const env = process.env;
    const config = loadConfig(env);
    const log = createLogger(config.logLevel);
    const clusters = await localClusters(config, env);
    const names = opts.cluster ? [opts.cluster] : (await clusters.list()).map((c) => c.name);
    const store = await openLocalStore(config, { shareRunning: true });
    try {
      const clock = systemClock;
      const usageSamples = new UsageSamples(store, clock, { retentionDays: config.cost.usageRetentionDays });
      const reports = [];
      for (const cluster of names) reports.push(await sampleUsage({ clusters, usageSamples, clock, log }, { cluster }));
      if (opts.json) console.log(JSON.stringify(reports));
      else if (reports.length === 0) console.log('No clusters configured.');
      for (const r of opts.json ? [] : reports) {
        console.log(
          r.status === 'stored'
            ? `${r.cluster}: stored a sample of ${r.pods} pods on ${r.nodes} nodes at ${r.at}${r.podsWithoutMetrics ? ` (${r.podsWithoutMetrics} without a metrics reading)` : ''}`
            : `${r.cluster}: ${r.status === 'no-metrics' ? 'no metrics' : 'error'}: ${r.message}`,
        );
      }
      process.exitCode = reports.some((r) => r.status !== 'stored') ? 1 : 0;
    } finally {
      await store.close();
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof ApiKeyNameTakenError ||
    err instanceof AppError ||
    err instanceof UnknownClusterError
  )
    console.error(err.message);
  else console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.exit(1);
});
