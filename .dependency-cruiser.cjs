// The layer rule of docs/architecture.md, checked by `npm run deps:check` (part of `npm test`).
// test/unit/layers.test.ts runs these rules on a small fixture tree so that a rule that stops matching fails a test.
//
//   domain    shared/domain                imports only domain (+ pure npm libraries)
//   ports     shared/ports                 nothing at run time; type-only imports of domain
//   config, logging                        import domain only (within the project)
//   app       shared/app, shared/workflows imports domain, ports, config, logging
//   tools     shared/tools                 imports app and below; not mcp, not adapters
//   mcp       shared/mcp                   imports tools and below; not adapters
//   channels  shared/channels              the other channels (Slack's buttons) beside mcp: import app and below;
//                                          not tools, mcp or adapters
//   adapters  shared/adapters              imports ports, domain, config, logging, workflow definitions;
//                                          imported only by hosts
//   host kit  shared/host                  what every cloud host composes the same way (cold starts, deps,
//                                          the tool function, scheduled checks): imports any shared layer
//                                          and adapters, but no cloud SDK itself; imported only by hosts
//   hosts     functions, gcp-functions, local, scripts, cdk, test, bench: may import anything
//   no cycles anywhere; cloud SDKs only in adapters and hosts.

const HOSTS = '^(functions|gcp-functions|local|scripts|cdk|test|bench)/';
// What the layers below the hosts may use from npm: the pure libraries only. Anything else (cloud SDKs,
// the Kubernetes client, databases, the workflow runtime) belongs behind a port, in an adapter.
const CLOUD_SDKS = [
  '(^|/)node_modules/@aws-sdk/',
  '(^|/)node_modules/@aws-lambda-powertools/',
  '(^|/)node_modules/@google-cloud/',
  '(^|/)node_modules/googleapis/',
  '(^|/)node_modules/google-auth-library/',
  '(^|/)node_modules/@kubernetes/',
  '(^|/)node_modules/aws-local-stepfunctions/',
  '(^|/)node_modules/dynalite/',
  '(^|/)node_modules/classic-level/',
  '(^|/)node_modules/@middy/',
  '(^|/)node_modules/@slack/',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Modules must not depend on each other in a circle, type-only imports included: move the shared part down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment:
        'The domain is pure: it imports other domain modules, pure libraries (zod, yaml) and node:crypto (hashing) only.',
      from: { path: '^shared/domain/' },
      to: { pathNot: ['^shared/domain/', '(^|/)node_modules/(zod|yaml)/', '^(node:)?crypto$'] },
    },
    {
      name: 'ports-no-runtime-imports',
      severity: 'error',
      comment: 'A port is an interface: it imports nothing at run time (write `import type`).',
      from: { path: '^shared/ports/' },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ports-types-from-domain-only',
      severity: 'error',
      comment: 'A port may name domain types (and other ports), nothing else.',
      from: { path: '^shared/ports/' },
      to: { pathNot: ['^shared/(domain|ports)/'] },
    },
    {
      name: 'config-logging-import-domain-only',
      severity: 'error',
      comment: 'Config and logging sit just above the domain: within the project they import only the domain.',
      from: { path: '^shared/(config|logging)/' },
      to: { path: '^shared/', pathNot: ['^shared/domain/', '^shared/config/', '^shared/logging/'] },
    },
    {
      name: 'app-imports-core-only',
      severity: 'error',
      comment:
        'Use cases (shared/app, shared/workflows) use domain, ports, config and logging; never tools, mcp or adapters.',
      from: { path: '^shared/(app|workflows)/' },
      to: {
        path: '^shared/',
        pathNot: ['^shared/(app|workflows|domain|ports|config|logging)/', '^shared/version[.]ts$'],
      },
    },
    {
      name: 'tools-not-to-mcp-or-adapters',
      severity: 'error',
      comment: 'Tools are protocol-neutral and cloud-neutral: they call use cases, not the MCP endpoint or an adapter.',
      from: { path: '^shared/tools/' },
      to: { path: '^shared/(mcp|adapters)/' },
    },
    {
      name: 'mcp-not-to-adapters',
      severity: 'error',
      comment: 'The MCP endpoint gets its ports from the host (Deps); it never builds an adapter itself.',
      from: { path: '^shared/mcp/' },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'channels-import-app-and-below',
      severity: 'error',
      comment:
        'A channel (Slack) parses its requests, calls a use case and words the answer: app, domain, ports, config and logging only.',
      from: { path: '^shared/channels/' },
      to: {
        path: '^shared/',
        pathNot: ['^shared/(channels|app|workflows|domain|ports|config|logging)/', '^shared/version[.]ts$'],
      },
    },
    {
      name: 'adapters-not-to-upper-layers',
      severity: 'error',
      comment: 'An adapter implements a port over ports, domain, config, logging and the workflow definitions.',
      from: { path: '^shared/adapters/' },
      to: { path: '^shared/(app|tools|mcp|channels)/' },
    },
    {
      name: 'adapters-only-from-hosts',
      severity: 'error',
      comment: 'Only a host chooses adapters (and passes them in as Deps); shared code never imports one.',
      from: { pathNot: [HOSTS, '^shared/adapters/', '^shared/host/'] },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'host-kit-only-from-hosts',
      severity: 'error',
      comment: "shared/host is the hosts' common composition: only hosts (and the kit itself) import it.",
      from: { pathNot: [HOSTS, '^shared/host/'] },
      to: { path: '^shared/host/' },
    },
    {
      name: 'cloud-sdks-only-in-adapters',
      severity: 'error',
      comment: 'Cloud SDKs and infrastructure clients are used behind a port, in shared/adapters or a host.',
      from: { path: '^shared/', pathNot: '^shared/adapters/' },
      to: { path: CLOUD_SDKS },
    },
    {
      name: 'no-orphans-in-shared',
      severity: 'error',
      comment:
        'A module in shared/ that nothing imports and that imports nothing is dead code: use it (a port, from Deps) or remove it.',
      // The cost port is a contract issue 10 asked for ahead of its adapters (Cost Explorer and
      // BigQuery in issue 14): the issue that adds them removes its entry here.
      from: {
        orphan: true,
        path: '^shared/',
        pathNot: ['[.]d[.]ts$', '[.]json$', '^shared/ports/cost[.]ts$'],
      },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that cannot be resolved would also escape every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // The project's TypeScript (7.0) has no compiler API for dependency-cruiser, so swc parses the .ts files.
    // swc always reports type-only imports, marked 'type-only' (what tsPreCompilationDeps does for tsc, which
    // this option would otherwise demand); the ports rules rely on that mark.
    parser: 'swc',
    // `depcruise .` checks every source folder, so a new host folder (gcp-functions) is covered when it appears.
    exclude: { path: ['^(cdk[.]out|coverage|docs|bench/results)/', '(^|/)[.][^/]+/'] },
    doNotFollow: { path: '(^|/)node_modules/' },
    // Imports name their .ts file (Node type stripping); these extensions cover the rest (json, .d.ts).
    enhancedResolveOptions: {
      extensions: ['.ts', '.d.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
