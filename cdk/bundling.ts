import type { BuildOptions } from 'esbuild';

/**
 * The esbuild settings of every Lambda bundle, in one place: the stateless stack hands them to
 * NodejsFunction, and bench/bundles.bench.ts builds with the very same values to measure size and
 * cold module initialization.
 */
export const FUNCTION_ENTRIES = {
  mcp: 'functions/mcp.ts',
  workflowStep: 'functions/workflow-step.ts',
  slackActions: 'functions/slack-actions.ts',
  driftCheck: 'functions/drift-check.ts',
  costCheck: 'functions/cost-check.ts',
  usageSample: 'functions/usage-sample.ts',
} as const;

export type FunctionKey = keyof typeof FUNCTION_ENTRIES;

export const BUNDLE = {
  /** ESM: the code base is ESM (import.meta, top-level imports), and Node 22 runs .mjs handlers natively. */
  format: 'esm',
  target: 'node22',
  minify: true,
  /** Source maps would double the bundle and slow every cold start (--enable-source-maps); stacks are logged minified. */
  sourceMap: false,
  /** Prefer packages' ESM builds. */
  mainFields: ['module', 'main'],
  /**
   * Bundle the AWS SDK v3 too instead of using the runtime's copy: the functions then run the exact
   * client versions the tests ran, and one file loads faster than the runtime's unbundled SDK.
   */
  externalModules: [] as string[],
  /**
   * Import paths replaced at bundling (esbuild --alias; paths relative to the project root): the MCP
   * SDK's Node shim, whose default JSON Schema validator is Ajv, by one whose default is the
   * @cfworker/json-schema engine every server is given (shared/mcp/json-schema-validator.ts), so no
   * bundle carries Ajv (about 150 KB of the gateway's).
   */
  alias: { '@modelcontextprotocol/server/_shims': './functions/lib/mcp-sdk-shims.ts' } as Record<string, string>,
  /** CommonJS dependencies bundled into an ESM file still call require() for Node built-ins. */
  banner:
    "import { createRequire as __cmCreateRequire } from 'node:module'; const require = __cmCreateRequire(import.meta.url);",
} as const;

/**
 * esbuild's options for one bundle of `entry` (a path) with the settings above, as `npm run
 * build:gcp`, `npm run bench:bundles` and the bundle tests build them (the CDK passes BUNDLE to its
 * own bundling). `external` replaces BUNDLE.externalModules.
 */
export function esbuildOptions(entry: string, root: string, external: readonly string[] = BUNDLE.externalModules) {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    mainFields: [...BUNDLE.mainFields],
    external: [...external],
    alias: { ...BUNDLE.alias },
    absWorkingDir: root,
    banner: { js: BUNDLE.banner },
    metafile: true,
    logLevel: 'error',
  } satisfies BuildOptions;
}
