import { describe, expect, it } from 'vitest';
import { alertMessage, SLACK_LIMITS, threadReply } from '../../shared/adapters/slack/message.ts';
import { boundAlert } from '../../shared/app/alerts/alerting.ts';
import type { Alert } from '../../shared/ports/notifier.ts';
import { sampleDriftAlert as driftAlert } from '../support/slack-receiver.ts';

type SectionBlock = { type: string; text?: { type: string; text: string }; elements?: Array<{ text: string }> };

const texts = (blocks: unknown[]) =>
  (blocks as SectionBlock[]).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text)]);

describe('Slack alert message', () => {
  it('opens with the summary, then object, field paths old → new, manager and the restore call', () => {
    const msg = alertMessage(boundAlert(driftAlert()), 'new');
    const [summary, ...rest] = msg.blocks as SectionBlock[];
    expect(summary?.text?.text).toBe(
      ':large_orange_circle: *FIRING · warning* · Deployment payments/web drifted: 2 fields changed by kubectl-edit',
    );
    const body = texts(rest).join('\n');
    expect(body.indexOf('Object')).toBeLessThan(body.indexOf('spec.template.spec.containers[web].image'));
    expect(body).toContain('registry.example.com/web:1.4.2 → registry.example.com/web:1.4.3-hotfix (by kubectl-edit)');
    expect(body).toContain('kubectl-edit');
    expect(body).toContain('k8s_resources_apply {"cluster":"prod"');
    expect(msg.text.startsWith('FIRING · warning: Deployment payments/web drifted')).toBe(true);
  });

  it('a resolved alert drops the restore call and says RESOLVED', () => {
    const msg = alertMessage(
      boundAlert(driftAlert({ status: 'resolved', endsAt: '2026-12-07T21:00:00.000Z' })),
      'resolve',
    );
    expect(msg.text.startsWith('RESOLVED')).toBe(true);
    expect(texts(msg.blocks).join('\n')).not.toContain('Restore with');
    expect(texts(msg.blocks).join('\n')).toContain('resolved 2026-12-07T21:00:00.000Z');
    expect(threadReply(driftAlert({ status: 'resolved' }), 'resolve').text).toMatch(/^:large_green_circle: Resolved/);
  });

  it('a huge alert stays within Slack limits, cut with visible markers', () => {
    const big = 'x'.repeat(50_000);
    const alert: Alert = driftAlert({
      summary: `S${big}`,
      fields: Array.from({ length: 80 }, (_, i) => ({
        label: `field ${i} ${big}`,
        value: `${'é'.repeat(5000)}\n${big}`,
      })),
      restore: { tool: 'k8s_resources_apply', arguments: { manifest: big } },
    });
    // Bounded at the use case (as stored) and again here, so the adapter is safe on any input.
    for (const a of [alert, boundAlert(alert)]) {
      const msg = alertMessage(a, 'new');
      expect(msg.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      expect(msg.text.length).toBeLessThanOrEqual(SLACK_LIMITS.textChars);
      for (const b of msg.blocks as SectionBlock[]) {
        const max = b.type === 'header' ? SLACK_LIMITS.headerChars : SLACK_LIMITS.sectionChars;
        if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(max);
        for (const e of b.elements ?? []) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
      }
      const all = texts(msg.blocks).join('\n');
      expect(all).toMatch(/…\[truncated \d+ bytes\]/);
      expect(all).toMatch(/more fields? omitted/);
    }
  });

  it('never shows a secret: values, summaries and the restore call are masked', () => {
    const token = 'xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx';
    const alert = driftAlert({
      summary: `env changed: DB_PASSWORD=hunter2hunter2 and ${token}`,
      fields: [
        {
          label: 'spec.template.spec.containers[web].env[API_TOKEN]',
          value: `password=s3cr3tValue99 → Bearer ${token}`,
        },
      ],
      restore: { tool: 'k8s_resources_apply', arguments: { args: [`--token=${token}`] } },
    });
    for (const a of [alert, boundAlert(alert)]) {
      const json = JSON.stringify(alertMessage(a, 'new'));
      expect(json).not.toContain(token);
      expect(json).not.toContain('hunter2hunter2');
      expect(json).not.toContain('s3cr3tValue99');
    }
  });

  it("escapes Slack's control characters so a value cannot become a mention or a link", () => {
    const msg = alertMessage(
      driftAlert({ fields: [{ label: 'label', value: '<!channel> <https://evil.example|click>' }] }),
      'new',
    );
    const all = texts(msg.blocks).join('\n');
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('&lt;!channel&gt;');
  });
});
