import * as z from 'zod';
import { quoted } from '../../domain/text.ts';
import { defineTool, fail, ok } from '../tool.ts';

export const alertsChannelTestTool = defineTool({
  name: 'alerts_channel_test',
  title: 'Send a test alert',
  description: 'Send a test message to the alert channel (Slack) now, to check it is reachable and configured.',
  group: 'alerts',
  access: 'write',
  input: z.object({}),
  output: z.object({ channel: z.string(), messageId: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(_input, ctx) {
    if (!ctx.deps.alerting.channel) {
      return fail(
        'No alert channel is configured: set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL (on AWS: the slackAlertsSecretArn context).',
      );
    }
    try {
      const receipt = await ctx.deps.alerting.sendTest(ctx.identity.name || ctx.identity.subject);
      return ok(`Test message delivered to ${receipt.channel} (${receipt.messageId}).`, { ...receipt });
    } catch (err) {
      // The channel's own answer (a 404 webhook, channel_not_found, a 5xx): what to fix. Adapters never
      // put a token or webhook URL in their errors; the message is bounded anyway.
      const e = err instanceof Error ? err : new Error(String(err));
      return fail(`The alert channel did not take the test message: ${quoted(`${e.name}: ${e.message}`, 300)}`);
    }
  },
});
