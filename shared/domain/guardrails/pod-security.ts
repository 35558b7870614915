/**
 * The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards, latest
 * version of each control) as pure checks over a pod spec. The field names, allowed values and the
 * pod-level / container-level interplay follow the standard and the Pod Security Admission
 * controller that implements it, so a pod this module passes is one PSA admits at the same level.
 */
import { child, dig, list, type Rec, rec, str } from './object-access.ts';
import type { ContainerRef, PodContext } from './pod-spec.ts';
import type { ObjectRuleId } from './rules.ts';
import type { RawFinding } from './types.ts';

export type PodCheck = (pod: PodContext) => RawFinding[];

/** Capabilities the baseline level lets a container add (the container runtime's default set). */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Safe, namespaced sysctls (PSS baseline, up to the v1.32 additions tcp_rmem and tcp_wmem). */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

/** SELinux types a container may run as ('' counts as unset). */
export const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** Volume sources the restricted level allows. */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const CONFINED_PROFILE_TYPES = new Set(['RuntimeDefault', 'Localhost']);

/** The pod-level security context plus every container's, each with its path and a label for messages. */
interface SecurityContextRef {
  path: string;
  label: string;
  sc: Rec | undefined;
}

function securityContexts(pod: PodContext): SecurityContextRef[] {
  return [
    { path: child(pod.specPath, 'securityContext'), label: 'the pod', sc: pod.securityContext },
    ...pod.containers.map((c) => ({ path: child(c.path, 'securityContext'), label: c.label, sc: c.securityContext })),
  ];
}

const scPath = (c: ContainerRef, ...keys: (string | number)[]) =>
  keys.reduce<string>((p, k) => child(p, k), child(c.path, 'securityContext'));

const hostNamespaces: PodCheck = (pod) =>
  (
    [
      ['hostNetwork', 'network'],
      ['hostPID', 'process (PID)'],
      ['hostIPC', 'IPC'],
    ] as const
  )
    .filter(([field]) => pod.spec[field] === true)
    .map(([field, what]) => ({
      ruleId: 'pss-baseline/host-namespaces',
      path: child(pod.specPath, field),
      message: `the pod shares the node's ${what} namespace (${field}: true)`,
      fix: `remove ${field} or set it to false`,
    }));

const privileged: PodCheck = (pod) =>
  pod.containers
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => ({
      ruleId: 'pss-baseline/privileged',
      path: scPath(c, 'privileged'),
      message: `${c.label} runs privileged, with full access to the node`,
      fix: 'remove securityContext.privileged or set it to false',
    }));

const baselineCapabilities: PodCheck = (pod) =>
  pod.containers.flatMap((c) =>
    list(dig(c.securityContext, ['capabilities', 'add'])).flatMap((cap, i) =>
      typeof cap === 'string' && BASELINE_CAPABILITIES.has(cap)
        ? []
        : [
            {
              ruleId: 'pss-baseline/capabilities' as const,
              path: scPath(c, 'capabilities', 'add', i),
              message: `${c.label} adds capability ${String(cap)}, which is outside the baseline allow-list`,
              fix: `remove ${String(cap)} from securityContext.capabilities.add (baseline allows only ${[...BASELINE_CAPABILITIES].join(', ')})`,
            },
          ],
    ),
  );

const hostPath: PodCheck = (pod) =>
  list(pod.spec.volumes).flatMap((v, i) => {
    const source = rec(dig(v, ['hostPath']));
    if (!source) return [];
    const name = JSON.stringify(str(dig(v, ['name'])) ?? `#${i}`);
    return [
      {
        ruleId: 'pss-baseline/host-path' as const,
        path: child(child(child(pod.specPath, 'volumes'), i), 'hostPath'),
        message: `volume ${name} mounts ${str(source.path) ?? 'a path'} from the node's filesystem (hostPath)`,
        fix: `replace hostPath in volume ${name} with emptyDir, configMap, secret or a persistentVolumeClaim`,
      },
    ];
  });

const hostPorts: PodCheck = (pod) =>
  pod.containers.flatMap((c) =>
    list(c.container.ports).flatMap((port, i) => {
      const hp = dig(port, ['hostPort']);
      if (hp === undefined || hp === null || hp === 0) return [];
      return [
        {
          ruleId: 'pss-baseline/host-ports' as const,
          path: child(child(child(c.path, 'ports'), i), 'hostPort'),
          message: `${c.label} binds port ${String(hp)} on the node (hostPort)`,
          fix: `remove ports[${i}].hostPort from ${c.label} and reach the port through a Service`,
        },
      ];
    }),
  );

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HOOKS = ['postStart', 'preStop'] as const;
const HANDLERS = ['httpGet', 'tcpSocket'] as const;

const hostProbes: PodCheck = (pod) =>
  pod.containers.flatMap((c) => {
    const handlers: { keys: string[]; what: string }[] = [
      ...PROBES.map((p) => ({ keys: [p], what: p })),
      ...HOOKS.map((h) => ({ keys: ['lifecycle', h], what: `lifecycle.${h} hook` })),
    ];
    return handlers.flatMap(({ keys, what }) =>
      HANDLERS.flatMap((handler) => {
        const host = dig(c.container, [...keys, handler, 'host']);
        if (host === undefined || host === null || host === '') return [];
        return [
          {
            ruleId: 'pss-baseline/host-probes' as const,
            path: [...keys, handler, 'host'].reduce((p, k) => child(p, k), c.path),
            message: `${c.label} points its ${what} at host ${String(host)} instead of the pod`,
            fix: `remove ${[...keys, handler, 'host'].join('.')} so the ${what} targets the pod's own IP`,
          },
        ];
      }),
    );
  });

const appArmor: PodCheck = (pod) => {
  const out: RawFinding[] = [];
  for (const ref of securityContexts(pod)) {
    const type = dig(ref.sc, ['appArmorProfile', 'type']);
    if (typeof type === 'string' && !CONFINED_PROFILE_TYPES.has(type)) {
      out.push({
        ruleId: 'pss-baseline/apparmor',
        path: child(child(ref.path, 'appArmorProfile'), 'type'),
        message: `${ref.label} sets AppArmor profile ${type}`,
        fix: 'set appArmorProfile.type to RuntimeDefault (or Localhost with a profile loaded on the nodes), or remove it',
      });
    }
  }
  const annotations = rec(pod.metadata?.annotations) ?? {};
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    if (value === 'runtime/default' || (typeof value === 'string' && value.startsWith('localhost/'))) continue;
    const container = key.slice(APPARMOR_ANNOTATION_PREFIX.length);
    out.push({
      ruleId: 'pss-baseline/apparmor',
      path: child(child(pod.metadataPath, 'annotations'), key),
      message: `the AppArmor annotation for container ${JSON.stringify(container)} sets profile ${String(value)}`,
      fix: 'remove the annotation, or set it to runtime/default (prefer securityContext.appArmorProfile.type: RuntimeDefault)',
    });
  }
  return out;
};

const seLinux: PodCheck = (pod) =>
  securityContexts(pod).flatMap((ref) => {
    const opts = rec(ref.sc?.seLinuxOptions);
    if (!opts) return [];
    const base = child(ref.path, 'seLinuxOptions');
    const out: RawFinding[] = [];
    const type = opts.type;
    if (type !== undefined && type !== null && !(typeof type === 'string' && ALLOWED_SELINUX_TYPES.has(type))) {
      out.push({
        ruleId: 'pss-baseline/selinux',
        path: child(base, 'type'),
        message: `${ref.label} runs as SELinux type ${String(type)}`,
        fix: 'remove seLinuxOptions.type, or use container_t (container_init_t, container_kvm_t and container_engine_t are also allowed)',
      });
    }
    for (const field of ['user', 'role'] as const) {
      const v = opts[field];
      if (v === undefined || v === null || v === '') continue;
      out.push({
        ruleId: 'pss-baseline/selinux',
        path: child(base, field),
        message: `${ref.label} sets a custom SELinux ${field} (${String(v)})`,
        fix: `remove seLinuxOptions.${field}`,
      });
    }
    return out;
  });

const procMount: PodCheck = (pod) =>
  pod.containers.flatMap((c) => {
    const v = c.securityContext?.procMount;
    if (v === undefined || v === null || v === 'Default') return [];
    return [
      {
        ruleId: 'pss-baseline/proc-mount' as const,
        path: scPath(c, 'procMount'),
        message: `${c.label} mounts /proc ${String(v)}, without the default masking`,
        fix: 'remove securityContext.procMount or set it to Default',
      },
    ];
  });

const baselineSeccomp: PodCheck = (pod) =>
  securityContexts(pod).flatMap((ref) =>
    dig(ref.sc, ['seccompProfile', 'type']) === 'Unconfined'
      ? [
          {
            ruleId: 'pss-baseline/seccomp' as const,
            path: child(child(ref.path, 'seccompProfile'), 'type'),
            message: `${ref.label} runs without a seccomp profile (Unconfined)`,
            fix: 'set seccompProfile.type to RuntimeDefault (or Localhost), or remove it',
          },
        ]
      : [],
  );

const sysctls: PodCheck = (pod) =>
  list(pod.securityContext?.sysctls).flatMap((s, i) => {
    const name = dig(s, ['name']);
    if (typeof name === 'string' && SAFE_SYSCTLS.has(name)) return [];
    return [
      {
        ruleId: 'pss-baseline/sysctls' as const,
        path: child(child(child(child(pod.specPath, 'securityContext'), 'sysctls'), i), 'name'),
        message: `the pod sets sysctl ${String(name)}, which is not in the safe set`,
        fix: `remove sysctl ${String(name)} from securityContext.sysctls (safe ones: ${[...SAFE_SYSCTLS].join(', ')})`,
      },
    ];
  });

const windowsHostProcess: PodCheck = (pod) =>
  securityContexts(pod).flatMap((ref) =>
    dig(ref.sc, ['windowsOptions', 'hostProcess']) === true
      ? [
          {
            ruleId: 'pss-baseline/windows-host-process' as const,
            path: child(child(ref.path, 'windowsOptions'), 'hostProcess'),
            message: `${ref.label} runs as a Windows HostProcess, with full access to the node`,
            fix: 'remove windowsOptions.hostProcess or set it to false',
          },
        ]
      : [],
  );

const volumeTypes: PodCheck = (pod) =>
  list(pod.spec.volumes).flatMap((v, i) => {
    const volume = rec(v);
    if (!volume) return [];
    const name = JSON.stringify(str(volume.name) ?? `#${i}`);
    return Object.keys(volume)
      .filter((k) => k !== 'name' && !RESTRICTED_VOLUME_TYPES.has(k) && volume[k] !== undefined && volume[k] !== null)
      .map((k) => ({
        ruleId: 'pss-restricted/volume-types' as const,
        path: child(child(child(pod.specPath, 'volumes'), i), k),
        message: `volume ${name} is of type ${k}, which the restricted level does not allow`,
        fix: `replace ${k} in volume ${name} with one of ${[...RESTRICTED_VOLUME_TYPES].join(', ')} (a persistentVolumeClaim can reach the same storage)`,
      }));
  });

const privilegeEscalation: PodCheck = (pod) =>
  pod.windows
    ? []
    : pod.containers.flatMap((c) => {
        const v = c.securityContext?.allowPrivilegeEscalation;
        if (v === false) return [];
        return [
          {
            ruleId: 'pss-restricted/privilege-escalation' as const,
            path: scPath(c, 'allowPrivilegeEscalation'),
            message:
              v === true
                ? `${c.label} sets allowPrivilegeEscalation: true`
                : `${c.label} does not set allowPrivilegeEscalation: false (it defaults to true)`,
            fix: `set securityContext.allowPrivilegeEscalation: false in ${c.label}`,
          },
        ];
      });

/**
 * A field the restricted level requires at pod level or in every container (runAsNonRoot, seccomp):
 * a bad pod-level value and every bad container value are findings; containers that leave it unset
 * are findings only when the pod level does not set it well, and are reported together at the pod
 * level, where one setting fixes them all.
 */
function podOrEveryContainer(
  pod: PodContext,
  keys: readonly string[],
  isGood: (v: unknown) => boolean,
  report: {
    ruleId: ObjectRuleId;
    bad: (label: string, v: unknown) => string;
    unset: (labels: string) => string;
    fix: string;
  },
): RawFinding[] {
  const out: RawFinding[] = [];
  const podValue = dig(pod.securityContext, keys);
  const podPath = keys.reduce((p, k) => child(p, k), child(pod.specPath, 'securityContext'));
  if (podValue !== undefined && podValue !== null && !isGood(podValue)) {
    out.push({ ruleId: report.ruleId, path: podPath, message: report.bad('the pod', podValue), fix: report.fix });
  }
  const podSet = podValue !== undefined && podValue !== null;
  const unset: ContainerRef[] = [];
  for (const c of pod.containers) {
    const v = dig(c.securityContext, keys);
    if (v === undefined || v === null) {
      // A bad pod-level value is already reported, and fixing it fixes these containers too.
      if (!podSet) unset.push(c);
    } else if (!isGood(v)) {
      out.push({ ruleId: report.ruleId, path: scPath(c, ...keys), message: report.bad(c.label, v), fix: report.fix });
    }
  }
  if (unset.length > 0) {
    out.push({
      ruleId: report.ruleId,
      path: podPath,
      message: report.unset(unset.map((c) => c.label).join(', ')),
      fix: report.fix,
    });
  }
  return out;
}

const runAsNonRoot: PodCheck = (pod) =>
  podOrEveryContainer(pod, ['runAsNonRoot'], (v) => v === true, {
    ruleId: 'pss-restricted/run-as-non-root',
    bad: (label) => `${label} sets runAsNonRoot: false`,
    unset: (labels) => `runAsNonRoot is set neither at pod level nor in ${labels}`,
    fix: 'set securityContext.runAsNonRoot: true at pod level (or in every container) and remove any runAsNonRoot: false; the image must then run as a non-zero UID',
  });

const runAsUser: PodCheck = (pod) =>
  securityContexts(pod).flatMap((ref) =>
    ref.sc?.runAsUser === 0
      ? [
          {
            ruleId: 'pss-restricted/run-as-user' as const,
            path: child(ref.path, 'runAsUser'),
            message: `${ref.label} runs as UID 0 (root)`,
            fix: 'set runAsUser to a non-zero UID (e.g. 10001), or remove it and let the image choose a non-root user',
          },
        ]
      : [],
  );

const restrictedSeccomp: PodCheck = (pod) =>
  pod.windows
    ? []
    : podOrEveryContainer(
        pod,
        ['seccompProfile', 'type'],
        (v) => typeof v === 'string' && CONFINED_PROFILE_TYPES.has(v),
        {
          ruleId: 'pss-restricted/seccomp',
          bad: (label, v) => `${label} sets seccompProfile.type ${String(v)}`,
          unset: (labels) => `no seccomp profile is set at pod level or in ${labels}`,
          fix: 'set securityContext.seccompProfile.type: RuntimeDefault at pod level (or Localhost with a profile on the nodes)',
        },
      );

const restrictedCapabilities: PodCheck = (pod) =>
  pod.windows
    ? []
    : pod.containers.flatMap((c) => {
        const out: RawFinding[] = [];
        const drop = list(dig(c.securityContext, ['capabilities', 'drop']));
        if (!drop.includes('ALL')) {
          out.push({
            ruleId: 'pss-restricted/capabilities',
            path: scPath(c, 'capabilities', 'drop'),
            message: `${c.label} does not drop ALL capabilities`,
            fix: `set securityContext.capabilities.drop: [ALL] in ${c.label}`,
          });
        }
        list(dig(c.securityContext, ['capabilities', 'add'])).forEach((cap, i) => {
          if (cap === 'NET_BIND_SERVICE') return;
          out.push({
            ruleId: 'pss-restricted/capabilities',
            path: scPath(c, 'capabilities', 'add', i),
            message: `${c.label} adds capability ${String(cap)}; the restricted level allows only NET_BIND_SERVICE`,
            fix: `remove ${String(cap)} from securityContext.capabilities.add`,
          });
        });
        return out;
      });

/** The pod security checks, by rule id. */
export const POD_SECURITY_CHECKS = {
  'pss-baseline/host-namespaces': hostNamespaces,
  'pss-baseline/privileged': privileged,
  'pss-baseline/capabilities': baselineCapabilities,
  'pss-baseline/host-path': hostPath,
  'pss-baseline/host-ports': hostPorts,
  'pss-baseline/host-probes': hostProbes,
  'pss-baseline/apparmor': appArmor,
  'pss-baseline/selinux': seLinux,
  'pss-baseline/proc-mount': procMount,
  'pss-baseline/seccomp': baselineSeccomp,
  'pss-baseline/sysctls': sysctls,
  'pss-baseline/windows-host-process': windowsHostProcess,
  'pss-restricted/volume-types': volumeTypes,
  'pss-restricted/privilege-escalation': privilegeEscalation,
  'pss-restricted/run-as-non-root': runAsNonRoot,
  'pss-restricted/run-as-user': runAsUser,
  'pss-restricted/seccomp': restrictedSeccomp,
  'pss-restricted/capabilities': restrictedCapabilities,
} as const satisfies Partial<Record<ObjectRuleId, PodCheck>>;
