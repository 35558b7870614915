/**
 * The HTTP API's routes and the function behind each: the CDK stack creates exactly these, and
 * the handler tests route their API Gateway events through the same table.
 *
 * GET and DELETE /mcp reach the mcp function so it can answer `405 Allow: POST` as the MCP
 * transport requires (a client probing for an SSE stream must get 405); without the routes API
 * Gateway itself would answer 404.
 */
export type FunctionName = 'mcp' | 'slackActions';

export interface HttpRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  fn: FunctionName;
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: 'POST', path: '/mcp', fn: 'mcp' },
  { method: 'GET', path: '/mcp', fn: 'mcp' },
  { method: 'DELETE', path: '/mcp', fn: 'mcp' },
  { method: 'GET', path: '/.well-known/oauth-protected-resource', fn: 'mcp' },
  { method: 'GET', path: '/.well-known/oauth-protected-resource/mcp', fn: 'mcp' },
  { method: 'POST', path: '/slack/actions', fn: 'slackActions' },
];

export const routeKey = (r: HttpRoute) => `${r.method} ${r.path}`;
