/** Checks that are good practice rather than Pod Security Standards. */
import { child, dig } from './object-access.ts';
import type { PodCheck } from './pod-security.ts';
import type { ObjectRuleId } from './rules.ts';

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * `resources/requests-limits`: every container (and init container) states what it needs — cpu
 * and memory requests — and caps memory with a limit, so the scheduler places it honestly and a
 * leak kills the container instead of starving the node.
 *
 * A CPU limit is deliberately NOT required: CPU limits are enforced by CFS quota, which throttles
 * a container even while the node has idle CPU, adding latency spikes for no benefit; the CPU
 * request already guarantees each container its share under contention.
 *
 * A request left out next to a limit counts as set, because the API server defaults a missing
 * request to the limit. Pod-level resources (spec.resources), when set, cover every container.
 * Ephemeral containers cannot have resources and are not checked.
 */
export const requestsLimits: PodCheck = (pod) =>
  pod.containers
    .filter((c) => c.group !== 'ephemeralContainers')
    .flatMap((c) => {
      const has = (kind: 'requests' | 'limits', resource: 'cpu' | 'memory'): boolean =>
        present(dig(c.container, ['resources', kind, resource])) ||
        present(dig(pod.spec, ['resources', kind, resource])) ||
        (kind === 'requests' && has('limits', resource));
      const missing = [
        has('requests', 'cpu') ? undefined : 'requests.cpu',
        has('requests', 'memory') ? undefined : 'requests.memory',
        has('limits', 'memory') ? undefined : 'limits.memory',
      ].filter((m): m is string => m !== undefined);
      if (missing.length === 0) return [];
      const fields = missing.map((m) => `resources.${m}`);
      const joined = fields.length > 1 ? `${fields.slice(0, -1).join(', ')} and ${fields.at(-1)}` : fields.join('');
      return [
        {
          ruleId: 'resources/requests-limits' as const,
          path: child(c.path, 'resources'),
          message: `${c.label} has no ${fields.join(', ')}`,
          fix: `set ${joined} in ${c.label} (requests: what it needs; memory limit: the most it may use); a CPU limit is not needed and throttles`,
        },
      ];
    });

const DIGEST = /@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Why an image reference is not pinned, or undefined when it is (a digest, or a tag other than latest). */
export function unpinnedReason(image: string): 'latest' | 'untagged' | undefined {
  if (DIGEST.test(image)) return undefined;
  const withoutDigest = image.includes('@') ? image.slice(0, image.indexOf('@')) : image;
  // The tag follows the last ':' after the last '/'; a ':' before it belongs to a registry port.
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0 || colon === lastSegment.length - 1) return 'untagged';
  return lastSegment.slice(colon + 1) === 'latest' ? 'latest' : undefined;
}

/** `images/pinned`: no `:latest`, no tag-less image; a digest pins it whatever the tag. */
export const pinnedImages: PodCheck = (pod) =>
  pod.containers.flatMap((c) => {
    const image = c.container.image;
    if (typeof image !== 'string') return [];
    const reason = unpinnedReason(image);
    if (!reason) return [];
    const repo = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
    return [
      {
        ruleId: 'images/pinned' as const,
        path: child(c.path, 'image'),
        message:
          reason === 'latest'
            ? `${c.label} uses image ${image}, and latest moves`
            : `${c.label} uses image ${image} with no tag, which means latest`,
        fix: `use a specific version tag or a digest, e.g. ${repo}:<version> or ${repo}@sha256:<digest>`,
      },
    ];
  });

export const BEST_PRACTICE_CHECKS = {
  'resources/requests-limits': requestsLimits,
  'images/pinned': pinnedImages,
} as const satisfies Partial<Record<ObjectRuleId, PodCheck>>;
