/** Drift: compare a baseline with the live object, the rules of the policy's `drift:` section, adoption. */
export { adoptableObject } from './adopt.ts';
export type {
  CloudClusterFacts,
  CloudClusterRef,
  CloudCompareOptions,
  CloudDrift,
  EksAddonFacts,
  EksClusterFacts,
  EksNodegroupFacts,
  GkeAutoscalingFacts,
  GkeClusterFacts,
  GkeNodePoolFacts,
} from './cloud.ts';
export {
  CLOUD_FACT_LIMITS,
  cloudRestoreHint,
  compareCloudFacts,
  minorVersion,
  nodegroupText,
  poolText,
} from './cloud.ts';
export type { CompareOptions, DriftFieldChange, ObjectDrift } from './compare.ts';
export { ABSENT, compareWithBaseline, DRIFT_VALUE_MAX_CHARS } from './compare.ts';
export type { FieldOwner } from './ownership.ts';
export { readOwnership } from './ownership.ts';
export type { JqStep, PathSeg } from './paths.ts';
export { displayPath, jqMatches, parseJqPath, parseJsonPointer, pointerMatches } from './paths.ts';
export type {
  ControllerField,
  DriftCandidate,
  DriftCloudPolicy,
  DriftIgnoreRule,
  DriftPolicy,
  DriftRules,
  DriftTarget,
} from './policy.ts';
export {
  CONTROLLER_FIELDS,
  compileDriftRules,
  DriftPolicySchema,
  defaultDriftPolicy,
  driftPolicyDoc,
} from './policy.ts';
export { quantityKey, sameQuantity } from './quantity.ts';
