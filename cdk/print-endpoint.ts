/** After `cdk deploy --outputs-file cdk.out/deploy-outputs.json`: prints the MCP endpoint and how to connect. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const file = join(import.meta.dirname, '..', 'cdk.out', 'deploy-outputs.json');
const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
const stack = outputs.CloudopsMcpStateless ?? {};
const url = stack.McpUrl;
if (!url) {
  console.error(`No McpUrl output in ${file}; did the CloudopsMcpStateless stack deploy?`);
  process.exit(1);
}
console.log(`\nMCP endpoint: ${url}`);
if (stack.SlackActionsUrl) console.log(`Slack interactivity request URL: ${stack.SlackActionsUrl}`);
console.log(
  `Connect Claude Code: claude mcp add --transport http cloudops ${url} --header "Authorization: Bearer <key>"`,
);
