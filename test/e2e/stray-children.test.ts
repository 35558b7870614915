import { once } from 'node:events';
import { expect, it } from 'vitest';
import { killStrayChildren, runCli, spawnLocalHost } from '../support/local-host.ts';

// A test that times out never reaches its own `finally`: the setup file's afterAll calls
// killStrayChildren, so the hosts it started do not outlive the test file (issue 9, item 12).
it('killStrayChildren ends every host still running, and only those', async () => {
  const host = await spawnLocalHost({ PORT: '0', STORE: 'memory' });
  const done = await runCli(['--help'], {});
  expect(done.code).toBe(0);
  const exited = once(host.proc, 'exit');
  expect(killStrayChildren()).toBe(1);
  await exited;
  expect(host.proc.signalCode).toBe('SIGKILL');
  expect(killStrayChildren()).toBe(0);
});
