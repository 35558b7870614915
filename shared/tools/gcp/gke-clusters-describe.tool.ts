import * as z from 'zod';
import { CLOUD_PATTERNS, gcpProject } from '../../app/cloud/scope.ts';
import { AppError } from '../../app/errors.ts';
import type { GkeNodePoolSummary } from '../../ports/cloud.ts';
import { clip, cloudArgs, shaped } from '../common/cloud-render.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

/** GKE cluster names: 1-40 characters, RFC 1035 (the Container API's rule). */
const GKE_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;

export const gcpGkeClustersDescribeTool = defineTool({
  name: 'gcp_gke_clusters_describe',
  title: 'Describe a GKE cluster',
  description:
    'One GKE cluster: versions, status, release channel, Autopilot, node count, node pools (machine type, version, autoscaling, zones). Use before an upgrade or to check capacity. Give cluster (a gke: id) or location and name.',
  group: 'gcp',
  access: 'read',
  input: z.object({
    cluster: z
      .string()
      .max(200)
      .refine((v) => /^gke:[^/]+\/[^/]+\/[^/]+$/.test(v), 'must be a gke:<project>/<location>/<name> id')
      .optional(),
    project: cloudArgs.project,
    location: shaped(40, CLOUD_PATTERNS.location, 'a region or zone like us-central1').optional(),
    name: shaped(40, GKE_NAME, 'a GKE cluster name').optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const ref = target(input);
      const { gcp, project } = gcpProject(ctx.deps.cloud, ref.project);
      const c = await gcp.describeGkeCluster({ project, location: ref.location, name: ref.name }, ctx.signal);
      const pools = c.nodePools.length + c.nodePoolsOmitted;
      const heading =
        `GKE cluster ${c.name} (${c.id}): ${c.status}${c.statusMessage ? ` (${clip(c.statusMessage, 200)})` : ''}` +
        `, master ${c.version ?? '?'}, nodes ${c.nodeVersion ?? '?'}` +
        `, channel ${c.releaseChannel ?? 'none'}${c.autopilot ? ', Autopilot' : ''}` +
        `${c.currentNodeCount !== undefined ? `, ${c.currentNodeCount} nodes` : ''}, ${pools} node pools`;
      const body = c.nodePools.length
        ? table(
            ['name', 'status', 'machineType', 'version', 'autoscaling', 'zones'],
            c.nodePools.map((p) => ({
              name: p.name,
              status: p.status,
              machineType: p.machineType ?? '-',
              version: p.version ?? '-',
              autoscaling: autoscaling(p),
              zones: p.zones.join(',') || '-',
            })),
          )
        : '';
      const omitted = c.nodePoolsOmitted ? `${c.nodePoolsOmitted} more node pools not shown` : '';
      return fitRecord(
        [heading, body, omitted].filter(Boolean).join('\n'),
        { ...c },
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});

/** "1-5/zone", "total 3-9", or "off". */
function autoscaling(p: GkeNodePoolSummary): string {
  const a = p.autoscaling;
  if (!a) return 'off';
  if (a.totalMinNodeCount !== undefined || a.totalMaxNodeCount !== undefined)
    return `total ${a.totalMinNodeCount ?? 0}-${a.totalMaxNodeCount ?? '?'}`;
  return `${a.minNodeCount ?? 0}-${a.maxNodeCount ?? '?'}/zone`;
}

/** Project, location and name: a gke: id, or location and name (project optional), never both. */
function target(input: {
  cluster?: string | undefined;
  project?: string | undefined;
  location?: string | undefined;
  name?: string | undefined;
}): { project?: string; location: string; name: string } {
  if (input.cluster !== undefined) {
    if (input.project !== undefined || input.location !== undefined || input.name !== undefined) {
      throw new AppError('give either `cluster` (a gke: id) or `location` and `name` (with `project`), not both');
    }
    const [project, location, name] = input.cluster.slice(4).split('/') as [string, string, string];
    if (!CLOUD_PATTERNS.project.test(project) || !CLOUD_PATTERNS.location.test(location) || !GKE_NAME.test(name)) {
      throw new AppError(
        `cluster ${clip(input.cluster, 200)} is not a GKE id: expected gke:<project>/<location>/<name>`,
      );
    }
    return { project, location, name };
  }
  if (input.location === undefined || input.name === undefined) {
    throw new AppError(
      'name the cluster: `cluster` (a gke: id from k8s_clusters_list) or `location` and `name` (with `project`)',
    );
  }
  return {
    location: input.location,
    name: input.name,
    ...(input.project !== undefined ? { project: input.project } : {}),
  };
}
