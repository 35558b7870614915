/**
 * The workflow steps and the engine-neutral definitions that call them. Hosts import dispatchStep
 * from here; the step table is explicit (STEPS), so nothing depends on import order.
 */
export { TransientStepError, UnknownStepError } from './step-contract.ts';
export { dispatchStep, STEPS, type StepEvent, type StepHandler, type StepTable, stepNames } from './steps.ts';
