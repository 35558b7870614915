import * as z from 'zod';

/**
 * Argument schemas shared by every tool, so names and meanings never drift apart. Every string is
 * bounded where it comes in, at the sizes Kubernetes itself allows (names 253, namespaces 63);
 * manifest text is bounded by the parser (PARSE_LIMITS), which says which limit it met.
 */
export const args = {
  // Their defaults (the default cluster, the context's namespace) are said once, by k8s_clusters_list.
  cluster: z.string().max(253).optional(),
  apiVersion: z.string().max(253).optional(),
  kind: z.string().min(1).max(253).describe('Kind, plural or short name'),
  namespace: z.string().max(63).optional(),
  allNamespaces: z.boolean().optional(),
  name: z.string().min(1).max(253),
  labelSelector: z.string().max(4096).optional(),
  fieldSelector: z.string().max(4096).optional().describe('e.g. status.phase=Running'),
  limit: z.number().int().min(1).max(1000).optional(),
  continue: z.string().max(8192).optional(),
  manifest: z.string().min(1).describe('YAML or JSON, one or more documents'),
  dryRun: z.boolean().optional(),
  /** Ids this server issues (`op-` and a UUID) are far shorter. */
  operationId: z.string().min(1).max(128),
  /** Store cursors this server issues are a few dozen characters. */
  cursor: z.string().max(1024).optional(),
};
