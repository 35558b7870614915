import { type CallToolResult, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { defineTool, fail, ok } from '../tool.ts';

/*
 * The synchronous fixtures of the MCP conformance suite: a greeting (the tasks scenarios' sync-only
 * tool) and one tool per content type of the tools-call-* scenarios. Fixed, tiny payloads.
 */

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** A 1x1 transparent PNG. */
export const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
/** A WAV header with no samples (44 bytes): valid audio/wav, silent. */
const WAV_EMPTY = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([36, 0, 0, 0]),
  Buffer.from('WAVEfmt '),
  Buffer.from([16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]),
  Buffer.from('data'),
  Buffer.from([0, 0, 0, 0]),
]).toString('base64');

const EMBEDDED = {
  type: 'resource' as const,
  resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'An embedded text resource.' },
};

const fixed = (name: string, description: string, result: () => CallToolResult) =>
  defineTool({
    name,
    title: `${name} (conformance fixture)`,
    description: `Conformance fixture: ${description}`,
    group: 'core',
    access: 'read',
    input: z.object({}),
    annotations: readOnly,
    handler: async () => result(),
  });

export const greetTool = defineTool({
  name: 'greet',
  title: 'Greet (conformance fixture)',
  description: 'Conformance fixture: a synchronous tool that greets `name`.',
  group: 'core',
  access: 'read',
  input: z.object({ name: z.string().max(200).default('World') }),
  annotations: readOnly,
  handler: async (input) => ok(`Hello, ${input.name}!`),
});

/**
 * Needs the client's sampling capability (declared through the tool wrapper's
 * `requiresClientCapabilities`, shared/mcp/tool-call.ts): without it the call is refused with -32021
 * before the handler runs. This server never sends sampling requests, so with it the fixture only
 * says that the declaration was seen.
 */
export const missingCapabilityTool = {
  ...defineTool({
    name: 'test_missing_capability',
    title: 'test_missing_capability (conformance fixture)',
    description: 'Conformance fixture: needs the client to declare the sampling capability.',
    group: 'core',
    access: 'read',
    input: z.object({}),
    annotations: readOnly,
    handler: async () => ok('The request declares the sampling capability.'),
  }),
  requiresClientCapabilities: { sampling: {} },
};

/**
 * Asks the client for input before it answers (ToolContext.clientInput): a 2026-07-28
 * multi-round-trip elicitation, never a request of its own on the response stream.
 */
export const streamingElicitationTool = {
  ...defineTool({
    name: 'test_streaming_elicitation',
    title: 'test_streaming_elicitation (conformance fixture)',
    description: 'Conformance fixture: asks the client for a name (elicitation) before it answers.',
    group: 'core',
    access: 'read',
    asksClient: true,
    input: z.object({}),
    annotations: readOnly,
    handler: async (_input, ctx) => {
      if (ctx.clientInput && inputResponse(ctx.clientInput.responses, 'name').kind === 'missing') {
        return ctx.clientInput.ask({
          name: inputRequired.elicit({
            message: 'What is your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
          }),
        });
      }
      return ok('The client answered the elicitation.');
    },
  }),
  requiresClientCapabilities: { elicitation: {} },
};

/**
 * Reports progress 0, 50 and 100 of 100, 50 ms apart, when the client asked for it
 * (ToolContext.progress: a progress token, on a host that streams); otherwise only waits.
 */
export const progressTool = defineTool({
  name: 'test_tool_with_progress',
  title: 'test_tool_with_progress (conformance fixture)',
  description: 'Conformance fixture: reports progress (0, 50, 100 of 100) while it runs.',
  group: 'core',
  access: 'read',
  input: z.object({}),
  annotations: readOnly,
  handler: async (_input, ctx) => {
    for (const step of [0, 50, 100]) {
      if (step > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      await ctx.progress?.(step, 100);
    }
    return ok(ctx.progress ? 'Done; progress reported.' : 'Done; no progress was asked for.');
  },
});

export const contentTools = [
  fixed('test_simple_text', 'returns one text block.', () => ok('This is a simple text response for testing.')),
  fixed('test_image_content', 'returns one image block (PNG).', () => ({
    content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }],
  })),
  fixed('test_audio_content', 'returns one audio block (WAV).', () => ({
    content: [{ type: 'audio', data: WAV_EMPTY, mimeType: 'audio/wav' }],
  })),
  fixed('test_embedded_resource', 'returns one embedded text resource.', () => ({ content: [EMBEDDED] })),
  fixed('test_multiple_content_types', 'returns text, an image and an embedded resource.', () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
      EMBEDDED,
    ],
  })),
  fixed('test_error_handling', 'always fails with a tool error.', () =>
    fail('This tool intentionally returns an error for testing.'),
  ),
  fixed('test_logging_tool', 'would log to the client; this server sends no log notifications.', () =>
    ok('Done. This server declares no logging capability and sends no notifications/message.'),
  ),
];
