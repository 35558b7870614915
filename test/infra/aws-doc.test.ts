import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AWS_DOC, renderAwsDoc, toolFunctionsTable } from '../../cdk/aws-doc.ts';

describe("docs/aws.md's per-tool table", () => {
  it('is the one generated from the permission table (node cdk/aws-doc.ts --write)', () => {
    const doc = readFileSync(AWS_DOC, 'utf8');
    expect(renderAwsDoc(doc) === doc, 'docs/aws.md is stale: run `node cdk/aws-doc.ts --write`').toBe(true);
  });

  it('changes when a row changes: one line per tool, the gateway last', () => {
    const table = toolFunctionsTable([
      { name: 'ops_operations_get', toolset: 'ops', access: 'read' },
      { name: 'k8s_resources_apply', toolset: 'k8s', access: 'write' },
    ]);
    const rows = table.split('\n').filter((l) => l.startsWith('| `') || l.startsWith('| (gateway)'));
    expect(rows).toEqual([
      '| `ops_operations_get` | ops | `ToolOpsOperationsGet` | — | GetItem | — | 10 s, 512 MB | reads the operation record |',
      '| `k8s_resources_apply` | k8s | `ToolK8sResourcesApply` | write | UpdateItem | — | 27 s, 1024 MB | dry run and apply; records each applied object as a baseline |',
      expect.stringMatching(/^\| \(gateway\) \| — \| `Mcp` \| — \|/),
    ]);
    expect(() => renderAwsDoc('no markers here')).toThrow(/has no <!-- tool-functions:begin/);
  });
});
