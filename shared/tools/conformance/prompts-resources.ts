import { acceptedContent, inputRequired, type McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { PNG_1X1 } from './content.ts';

/**
 * The prompt and resource fixtures of the MCP conformance suite (prompts-*, resources-*, and the
 * prompts/resources checks of `caching`). This server has no prompts or resources of its own: they
 * exist, and the capabilities are declared, only on a fixture host (MCP_CONFORMANCE_FIXTURES=1 on
 * loopback). Fixed, tiny contents.
 */
export function registerFixturePromptsAndResources(server: McpServer): void {
  server.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple prompt (conformance fixture)', description: 'A prompt without arguments.' },
    () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments (conformance fixture)',
      description: 'A prompt with two required arguments.',
      argsSchema: z.object({ arg1: z.string().max(1000), arg2: z.string().max(1000) }),
    },
    (args) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` },
        },
      ],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt with an embedded resource (conformance fixture)',
      description: 'A prompt that embeds the resource it is given.',
      argsSchema: z.object({ resourceUri: z.string().max(1000) }),
    },
    (args) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: args.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt with an image (conformance fixture)', description: 'A prompt with an image.' },
    () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: PNG_1X1, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }),
  );
  // Multi-round-trip on prompts/get (input-required-result-non-tool-request): asks for a context
  // first. The SDK checks the request declares elicitation; nothing is sealed, so no state to verify.
  server.registerPrompt(
    'test_input_required_result_prompt',
    {
      title: 'Prompt that asks its client (conformance fixture)',
      description: 'Asks the client for a context (elicitation), then uses it.',
    },
    (ctx) => {
      const context = acceptedContent(ctx.mcpReq.inputResponses, 'user_context')?.context;
      if (typeof context !== 'string') {
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
            }),
          },
        });
      }
      return {
        messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${context.slice(0, 1000)}` } }],
      };
    },
  );

  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text (conformance fixture)', mimeType: 'text/plain' },
    (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    }),
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary (conformance fixture)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1X1 }] }),
  );
  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template data (conformance fixture)', mimeType: 'application/json' },
    (uri, variables) => {
      const id = String(variables.id).slice(0, 100);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      };
    },
  );
}
