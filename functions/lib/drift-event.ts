import * as z from 'zod';

/*
 * The event EventBridge Scheduler sends the drift-check function: the input the stack gives the
 * schedule's target (cdk/stateless-stack.ts), with Scheduler's context attributes filled in, each as
 * a string. One definition for both sides, so the stack cannot send what the function refuses.
 * Reference: docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 */

/** The target input as the stack sets it: Scheduler replaces each `<aws.scheduler.…>` placeholder. */
export const DRIFT_SCHEDULE_INPUT = {
  check: 'drift',
  scheduleArn: '<aws.scheduler.schedule-arn>',
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
  attemptNumber: '<aws.scheduler.attempt-number>',
} as const;

/** What the function accepts. */
export const ScheduledDriftEvent = z.object({
  check: z.literal('drift'),
  scheduleArn: z.string().min(1).max(2048),
  scheduledTime: z.string().min(1).max(64),
  executionId: z.string().min(1).max(128),
  attemptNumber: z.string().max(16).optional(),
});
export type ScheduledDriftEvent = z.infer<typeof ScheduledDriftEvent>;
