#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ApiKeyNameTakenError, ApiKeys } from '../shared/app/repos/api-keys.ts';
import { ConfigError, loadConfig, RoleSchema } from '../shared/config/config.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { VERSION } from '../shared/version.ts';
import { startLocalServer } from './server.ts';
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
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      // A second signal does not wait for the requests in flight.
      if (stopping) {
        console.error(`${signal} again: exiting without waiting for requests in flight`);
        process.exit(1);
      }
      stopping = true;
      try {
        await server.close();
      } catch (err) {
        console.error(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      }
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof ApiKeyNameTakenError) console.error(err.message);
  else console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.exit(1);
});
