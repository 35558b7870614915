/**
 * The workflow steps, registered on import. Hosts import dispatchStep from here so every step
 * handler is known before a Task state calls one.
 */
import './rollout-steps.ts';

export { dispatchStep, type StepEvent, stepNames, TransientStepError } from './steps.ts';
