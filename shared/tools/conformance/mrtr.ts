import { acceptedContent, type InputRequests, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { type ClientInput, defineTool, fail, ok } from '../tool.ts';

/*
 * The multi-round-trip fixtures of the MCP conformance suite (input-required-result-*, SEP-2322):
 * tools that answer `input_required` with requests for their client and finish on the retry that
 * carries the answers, through ToolContext.clientInput (the tool wrapper seals and verifies their
 * requestState). Fixed, tiny payloads.
 */

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const askName = (message = 'What is your name?') =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });
const askConfirm = () =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  });
const askColor = () =>
  inputRequired.elicit({
    message: 'Step 2: What is your favorite color?',
    requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
  });
const askSampling = (text: string, maxTokens: number) =>
  inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens });

/** Bounded text of a client's answer, for echoing it back. */
const short = (v: unknown) => (typeof v === 'string' ? v.slice(0, 100) : undefined);

/** What a sampling answer says, when it is text. */
function sampledText(input: ClientInput, key: string): string | undefined {
  const view = inputResponse(input.responses, key);
  if (view.kind !== 'sampling') return undefined;
  const content = view.result.content;
  const first = Array.isArray(content) ? content[0] : content;
  return first?.type === 'text' ? short(first.text) : undefined;
}

/** The roots a roots/list answer names. */
function rootUris(input: ClientInput, key: string): string[] | undefined {
  const view = inputResponse(input.responses, key);
  return view.kind === 'roots' ? view.roots.slice(0, 20).map((r) => r.uri.slice(0, 200)) : undefined;
}

/** A fixture that takes no arguments and may ask its client; without clientInput (never here) it cannot. */
const asking = (name: string, description: string, run: (input: ClientInput) => ReturnType<ClientInput['ask']>) =>
  defineTool({
    name,
    title: `${name} (conformance fixture)`,
    description: `Conformance fixture: ${description}`,
    group: 'core',
    access: 'read',
    asksClient: true,
    input: z.object({}),
    annotations: readOnly,
    handler: async (_input, ctx) =>
      ctx.clientInput ? run(ctx.clientInput) : fail(`${name} needs a client that answers input requests.`),
  });

export const mrtrTools = [
  asking('test_input_required_result_elicitation', 'asks for a name (elicitation), then greets it.', (input) => {
    const name = short(acceptedContent(input.responses, 'user_name')?.name);
    // A missing, wrong or malformed answer is asked for again (never an error).
    return name === undefined ? input.ask({ user_name: askName() }) : ok(`Hello, ${name}!`);
  }),
  asking('test_input_required_result_sampling', 'asks its client to sample an answer.', (input) => {
    const text = sampledText(input, 'capital_question');
    return text === undefined
      ? input.ask({ capital_question: askSampling('What is the capital of France?', 100) })
      : ok(`The client's model answered: ${text}`);
  }),
  asking('test_input_required_result_list_roots', "asks for the client's roots.", (input) => {
    const roots = rootUris(input, 'client_roots');
    return roots === undefined
      ? input.ask({ client_roots: inputRequired.listRoots() })
      : ok(`The client has ${roots.length} root(s): ${roots.join(', ')}`);
  }),
  asking(
    'test_input_required_result_request_state',
    'asks for a confirmation with a sealed requestState, which the retry must echo.',
    (input) => {
      const confirmed = acceptedContent(input.responses, 'confirm');
      const state = input.state as { round?: unknown } | undefined;
      if (confirmed === undefined || state?.round !== 1) return input.ask({ confirm: askConfirm() }, { round: 1 });
      return ok('state-ok: the requestState came back intact and the confirmation with it.');
    },
  ),
  asking(
    'test_input_required_result_tampered_state',
    'asks for a confirmation with a sealed requestState; a tampered one is refused.',
    (input) => {
      const state = input.state as { round?: unknown } | undefined;
      if (acceptedContent(input.responses, 'confirm') === undefined || state?.round !== 1) {
        return input.ask({ confirm: askConfirm() }, { round: 1 });
      }
      return ok('state-ok');
    },
  ),
  asking(
    'test_input_required_result_multiple_inputs',
    'asks for a name, a sampled greeting and the roots in one round.',
    (input) => {
      const name = short(acceptedContent(input.responses, 'user_name')?.name);
      const greeting = sampledText(input, 'greeting');
      const roots = rootUris(input, 'client_roots');
      if (name !== undefined && greeting !== undefined && roots !== undefined && input.state !== undefined) {
        return ok(`${greeting} ${name} (${roots.length} root(s))`);
      }
      // Only what is still missing is asked again.
      const requests: InputRequests = {
        ...(name === undefined ? { user_name: askName() } : {}),
        ...(greeting === undefined ? { greeting: askSampling('Generate a greeting', 50) } : {}),
        ...(roots === undefined ? { client_roots: inputRequired.listRoots() } : {}),
      };
      return input.ask(Object.keys(requests).length ? requests : { user_name: askName() }, { round: 1 });
    },
  ),
  asking('test_input_required_result_multi_round', 'asks a name, then a colour, over two rounds.', (input) => {
    const state = input.state as { step?: unknown; name?: unknown } | undefined;
    if (state?.step === 2) {
      const color = short(acceptedContent(input.responses, 'step2')?.color);
      return color === undefined ? input.ask({ step2: askColor() }, state) : ok(`${short(state.name)} likes ${color}.`);
    }
    const name = short(acceptedContent(input.responses, 'step1')?.name);
    // The state changes every round: the next one proves the client echoed this round's.
    if (state?.step === 1 && name !== undefined) return input.ask({ step2: askColor() }, { step: 2, name });
    return input.ask({ step1: askName('Step 1: What is your name?') }, { step: 1 });
  }),
  asking(
    'test_input_required_result_capabilities',
    'asks only for what the request declares it can answer (sampling, elicitation, roots).',
    (input) => {
      const has = (c: string) => input.capabilities[c] !== undefined && input.capabilities[c] !== null;
      const answered = Object.keys(input.responses).length > 0;
      const requests: InputRequests = {
        ...(has('sampling') ? { question: askSampling('What is the capital of France?', 100) } : {}),
        ...(has('elicitation') ? { user_name: askName() } : {}),
        ...(has('roots') ? { client_roots: inputRequired.listRoots() } : {}),
      };
      if (answered || Object.keys(requests).length === 0) return ok('Answered with what the client can do.');
      return input.ask(requests);
    },
  ),
];
