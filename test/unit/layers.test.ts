// The layer rule (.dependency-cruiser.cjs, run by `npm run deps:check`) checked against a small tree with one
// deliberate breach per rule and the imports each layer is allowed: a rule that stops matching (a renamed folder, a
// parser that loses `import type`) fails here instead of silently passing the real code.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../../.dependency-cruiser.cjs', import.meta.url));

const fakePackage = (name: string): Record<string, string> => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', main: 'index.js' }),
  [`node_modules/${name}/index.js`]: 'export const x = 1;\n',
});

// Every file in the tree; the comment on a line names the rule it breaks (none: allowed).
const TREE: Record<string, string> = {
  ...fakePackage('zod'),
  ...fakePackage('pino'),
  ...fakePackage('@aws-sdk/client-dynamodb'),
  ...fakePackage('@google-cloud/firestore'),
  ...fakePackage('@kubernetes/client-node'),

  'shared/domain/model.ts': [
    "import { createHash } from 'node:crypto';",
    "import { z } from 'zod';",
    "import { helper } from './helper.ts';",
    'export type Model = { id: string };',
    'export const model = z.string().parse(helper + createHash("sha256").digest("hex"));',
  ].join('\n'),
  'shared/domain/helper.ts': 'export const helper = "h";\n',
  'shared/domain/impure.ts': "import { config } from '../config/config.ts';\nexport const impure = config;\n", // domain-imports-only-domain
  'shared/domain/cycle-a.ts': "import type { B } from './cycle-b.ts';\nexport type A = { b?: B };\n", // no-circular (type-only still counts)
  'shared/domain/cycle-b.ts': "import type { A } from './cycle-a.ts';\nexport type B = { a?: A };\n", // (one report per cycle)
  'shared/domain/orphan.ts': 'export const orphan = 1;\n', // no-orphans-in-shared

  'shared/ports/store.ts':
    "import type { Model } from '../domain/model.ts';\nexport interface Store { get(): Model }\n",
  'shared/ports/clock.ts':
    "import type { Store } from './store.ts';\nexport interface Clock { now(s: Store): number }\n",
  'shared/ports/runtime.ts': "import { helper } from '../domain/helper.ts';\nexport const runtime = helper;\n", // ports-no-runtime-imports
  'shared/ports/upward.ts': "import type { UseCase } from '../app/use-case.ts';\nexport type Upward = UseCase;\n", // ports-types-from-domain-only

  'shared/config/config.ts':
    "import { z } from 'zod';\nimport { helper } from '../domain/helper.ts';\nexport const config = z.string().parse(helper);\n",
  'shared/config/upward.ts': "import { useCase } from '../app/use-case.ts';\nexport const upward = useCase;\n", // config-logging-import-domain-only
  'shared/logging/logger.ts':
    "import { pino } from 'pino';\nimport { helper } from '../domain/helper.ts';\nexport const logger = [pino, helper];\n",

  'shared/app/use-case.ts': [
    "import type { Store } from '../ports/store.ts';",
    "import { config } from '../config/config.ts';",
    "import { logger } from '../logging/logger.ts';",
    "import { model } from '../domain/model.ts';",
    "import { step } from '../workflows/step.ts';",
    'export type UseCase = (s: Store) => string;',
    'export const useCase = [config, logger, model, step];',
  ].join('\n'),
  'shared/app/to-tools.ts': "import { tool } from '../tools/tool.ts';\nexport const toTools = tool;\n", // app-imports-core-only
  'shared/app/sdk.ts': "import { x } from '@aws-sdk/client-dynamodb';\nexport const sdk = x;\n", // cloud-sdks-only-in-adapters
  'shared/workflows/step.ts': "import { helper } from '../domain/helper.ts';\nexport const step = helper;\n",
  'shared/workflows/to-mcp.ts': "import { endpoint } from '../mcp/endpoint.ts';\nexport const toMcp = endpoint;\n", // app-imports-core-only

  'shared/tools/tool.ts': "import { useCase } from '../app/use-case.ts';\nexport const tool = useCase;\n",
  'shared/tools/to-mcp.ts': "import { endpoint } from '../mcp/endpoint.ts';\nexport const toMcp = endpoint;\n", // tools-not-to-mcp-or-adapters
  'shared/tools/gcp.ts': "import { x } from '@google-cloud/firestore';\nexport const gcp = x;\n", // cloud-sdks-only-in-adapters

  'shared/mcp/endpoint.ts':
    "import { tool } from '../tools/tool.ts';\nimport { useCase } from '../app/use-case.ts';\nexport const endpoint = [tool, useCase];\n",
  'shared/mcp/to-adapter.ts': "import { adapter } from '../adapters/kube.ts';\nexport const toAdapter = adapter;\n", // mcp-not-to-adapters, adapters-only-from-hosts

  'shared/channels/slack/actions.ts': [
    "import { useCase } from '../../app/use-case.ts';",
    "import { step } from '../../workflows/step.ts';",
    "import { logger } from '../../logging/logger.ts';",
    "import type { Store } from '../../ports/store.ts';",
    "import { helper } from '../../domain/helper.ts';",
    'export const actions = (s: Store) => [useCase, step, logger, helper, s];',
  ].join('\n'),
  'shared/channels/slack/to-tools.ts': "import { tool } from '../../tools/tool.ts';\nexport const toTools = tool;\n", // channels-import-app-and-below
  'shared/channels/slack/to-mcp.ts':
    "import { endpoint } from '../../mcp/endpoint.ts';\nexport const toMcp = endpoint;\n", // channels-import-app-and-below

  'shared/adapters/kube.ts': [
    "import { x } from '@kubernetes/client-node';",
    "import type { Store } from '../ports/store.ts';",
    "import { config } from '../config/config.ts';",
    "import { step } from '../workflows/step.ts';",
    "import { other } from './other.ts';",
    'export const adapter = (s: Store) => [x, config, step, other, s];',
  ].join('\n'),
  'shared/adapters/other.ts': "import { x } from '@aws-sdk/client-dynamodb';\nexport const other = x;\n",
  'shared/adapters/to-app.ts': "import { useCase } from '../app/use-case.ts';\nexport const toApp = useCase;\n", // adapters-not-to-upper-layers
  'shared/adapters/to-channel.ts':
    "import { actions } from '../channels/slack/actions.ts';\nexport const toChannel = actions;\n", // adapters-not-to-upper-layers

  'functions/handler.ts': [
    "import { adapter } from '../shared/adapters/kube.ts';",
    "import { endpoint } from '../shared/mcp/endpoint.ts';",
    "import { actions } from '../shared/channels/slack/actions.ts';",
    'export const h = [adapter, endpoint, actions];',
  ].join('\n'),
  'gcp-functions/handler.ts':
    "import { adapter } from '../shared/adapters/kube.ts';\nimport { kit } from '../shared/host/kit.ts';\nexport const g = [adapter, kit];\n",
  // The host kit composes adapters for the hosts (allowed); nothing below the hosts may import it.
  'shared/host/kit.ts': "import { adapter } from '../adapters/kube.ts';\nexport const kit = adapter;\n",
  'shared/app/to-host-kit.ts': "import { kit } from '../host/kit.ts';\nexport const k = kit;\n",
  'test/some.test.ts': "import { other } from '../shared/adapters/other.ts';\nexport const t = other;\n",
  'local/missing.ts': "import { gone } from './gone.ts';\nexport const m = gone;\n", // not-to-unresolvable
  'scripts/lonely.ts': 'export const lonely = 1;\n',
};

const violations = (result: ICruiseResult): string[] =>
  result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();

describe('layer rule (.dependency-cruiser.cjs)', () => {
  let root = '';
  let result: ICruiseResult;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'layers-'));
    for (const [path, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const options = await extractDepcruiseOptions(CONFIG);
    const reported = await cruise(['.'], { ...options, baseDir: root });
    if (typeof reported.output === 'string') throw new Error(`dependency-cruiser reported text: ${reported.output}`);
    result = reported.output;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('parses every fixture file as TypeScript', () => {
    const sources = result.modules.map((m) => m.source).filter((s) => s.endsWith('.ts'));
    expect(sources).toEqual(expect.arrayContaining(Object.keys(TREE).filter((p) => p.endsWith('.ts'))));
    // swc marks `import type`, which the ports rules need
    const store = result.modules.find((m) => m.source === 'shared/ports/store.ts');
    expect(store?.dependencies.map((d) => [d.resolved, d.dependencyTypes.includes('type-only')])).toEqual([
      ['shared/domain/model.ts', true],
    ]);
  });

  it('reports each deliberate breach under its rule, and nothing that a layer may import', () => {
    expect(violations(result)).toEqual(
      [
        'adapters-not-to-upper-layers: shared/adapters/to-app.ts -> shared/app/use-case.ts',
        'adapters-not-to-upper-layers: shared/adapters/to-channel.ts -> shared/channels/slack/actions.ts',
        'adapters-only-from-hosts: shared/mcp/to-adapter.ts -> shared/adapters/kube.ts',
        'app-imports-core-only: shared/app/to-host-kit.ts -> shared/host/kit.ts',
        'app-imports-core-only: shared/app/to-tools.ts -> shared/tools/tool.ts',
        'host-kit-only-from-hosts: shared/app/to-host-kit.ts -> shared/host/kit.ts',
        'app-imports-core-only: shared/workflows/to-mcp.ts -> shared/mcp/endpoint.ts',
        'channels-import-app-and-below: shared/channels/slack/to-mcp.ts -> shared/mcp/endpoint.ts',
        'channels-import-app-and-below: shared/channels/slack/to-tools.ts -> shared/tools/tool.ts',
        'cloud-sdks-only-in-adapters: shared/app/sdk.ts -> node_modules/@aws-sdk/client-dynamodb/index.js',
        'cloud-sdks-only-in-adapters: shared/tools/gcp.ts -> node_modules/@google-cloud/firestore/index.js',
        'config-logging-import-domain-only: shared/config/upward.ts -> shared/app/use-case.ts',
        'domain-imports-only-domain: shared/domain/impure.ts -> shared/config/config.ts',
        'mcp-not-to-adapters: shared/mcp/to-adapter.ts -> shared/adapters/kube.ts',
        'no-circular: shared/domain/cycle-a.ts -> shared/domain/cycle-b.ts',
        'no-orphans-in-shared: shared/domain/orphan.ts -> shared/domain/orphan.ts',
        'not-to-unresolvable: local/missing.ts -> ./gone.ts',
        'ports-no-runtime-imports: shared/ports/runtime.ts -> shared/domain/helper.ts',
        'ports-types-from-domain-only: shared/ports/upward.ts -> shared/app/use-case.ts',
        'tools-not-to-mcp-or-adapters: shared/tools/to-mcp.ts -> shared/mcp/endpoint.ts',
      ].sort(),
    );
  });

  it('covers every rule in the configuration with a breach', async () => {
    const options = await extractDepcruiseOptions(CONFIG);
    const ruleNames = (options.ruleSet?.forbidden ?? []).map((r) => r.name).sort();
    const caught = [...new Set(result.summary.violations.map((v) => v.rule.name))].sort();
    expect(caught).toEqual(ruleNames);
  });
});
