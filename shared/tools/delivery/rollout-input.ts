import * as z from 'zod';
import { args } from '../common/args.ts';

// Defaults (interval 60 s, count 3, failureLimit 0) are applied in code: schema defaults cost tools/list bytes.
const metric = z.object({
  name: z.string().max(128),
  query: z.string().max(4096).describe('PromQL, one number'),
  op: z.enum(['<', '<=', '>', '>=']),
  threshold: z.number(),
  intervalSeconds: z.number().int().min(1).max(3600).optional(),
  count: z.number().int().min(1).max(100).optional(),
  failureLimit: z.number().int().min(0).max(100).optional(),
});

/** The arguments every rollout tool shares (plan and start take the same request). */
export const rolloutInput = {
  cluster: args.cluster,
  namespace: args.namespace,
  name: args.name,
  image: z.string().max(512).optional().describe('New image; or give manifest'),
  container: z.string().max(63).optional().describe('Default: first'),
  manifest: z.string().optional().describe('Whole new Deployment'),
  strategy: z.enum(['rolling', 'blueGreen', 'canary']).default('rolling'),
  service: z.string().max(63).optional().describe('blueGreen: Service to switch'),
  steps: z.array(z.number().int().min(1).max(100)).max(10).optional().describe('canary weights, e.g. [10,50,100]'),
  pauseAfter: z.array(z.number().int().min(1).max(100)).optional().describe('canary: weights to pause after'),
  gates: z
    .object({
      maxRestarts: z.number().int().min(0).max(100).optional(),
      progressDeadlineSeconds: z.number().int().min(10).max(7200).optional(),
      metrics: z.array(metric).max(5).optional(),
    })
    .optional(),
};
