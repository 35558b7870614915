import * as z from 'zod';

/*
 * The events EventBridge Scheduler sends the cost-check and usage-sample functions: the input the
 * stack gives each schedule's target (cdk/stateless-stack.ts), with Scheduler's context attributes
 * filled in, each as a string; the same shape as the drift check's (functions/lib/drift-event.ts).
 * One definition for both sides, so the stack cannot send what a function refuses.
 * Reference: docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 */

const scheduleInput = <C extends string>(check: C) =>
  ({
    check,
    scheduleArn: '<aws.scheduler.schedule-arn>',
    scheduledTime: '<aws.scheduler.scheduled-time>',
    executionId: '<aws.scheduler.execution-id>',
    attemptNumber: '<aws.scheduler.attempt-number>',
  }) as const;

const scheduledEvent = <C extends string>(check: C) =>
  z.object({
    check: z.literal(check),
    scheduleArn: z.string().min(1).max(2048),
    scheduledTime: z.string().min(1).max(64),
    executionId: z.string().min(1).max(128),
    attemptNumber: z.string().max(16).optional(),
  });

/** The cost check's target input as the stack sets it: Scheduler replaces each `<aws.scheduler.…>` placeholder. */
export const COST_SCHEDULE_INPUT = scheduleInput('cost');
/** The usage sampler's target input. */
export const USAGE_SAMPLE_SCHEDULE_INPUT = scheduleInput('usage-sample');

/** What the cost-check function accepts. */
export const ScheduledCostEvent = scheduledEvent('cost');
export type ScheduledCostEvent = z.infer<typeof ScheduledCostEvent>;

/** What the usage-sample function accepts. */
export const ScheduledUsageSampleEvent = scheduledEvent('usage-sample');
export type ScheduledUsageSampleEvent = z.infer<typeof ScheduledUsageSampleEvent>;
