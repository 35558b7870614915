import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Ceilings for a hung test, not speed checks: with both CPUs busy elsewhere, a test that starts
    // child hosts and the CLI several times takes 30 s or more where it takes 10 s on an idle machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default on 2 CPUs is one worker, and most of this suite waits (on child processes,
    // sockets, workflow timers) rather than computes: three workers overlap the waits. Tests wait on
    // conditions, never on how fast the machine is, so they hold on a busy 2-CPU machine too.
    maxWorkers: 3,
    // One module cache per worker, not per test file: the suite imports the same large graph (the
    // MCP SDK, the AWS SDK clients, client-node) in every file, which cost about 230 s of its 360 s
    // on 2 CPUs. Test files restore what they change (process.env, fake timers) in their own hooks.
    isolate: false,
    reporters: ['default'],
  },
});
