import { describe, expect, it } from 'vitest';
import {
  BASELINE_CAPABILITIES,
  defaultPolicy,
  evaluateWrite,
  type Finding,
  type Policy,
  parsePolicy,
  RESTRICTED_VOLUME_TYPES,
  RULE_IDS,
  SAFE_SYSCTLS,
  unpinnedReason,
  type WriteIntent,
} from '../../shared/domain/guardrails/index.ts';
import { DANGEROUS_OBJECTS } from './guardrails-kinds.ts';

type Obj = Record<string, unknown>;

const BASELINE: Policy = defaultPolicy();
const RESTRICTED: Policy = parsePolicy('podSecurity: restricted\n');

const RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };

/** A container that passes every rule, restricted included; `sc` is merged into its securityContext. */
const container = (over: Obj = {}, sc: Obj = {}): Obj => ({
  name: 'app',
  image: 'registry.example.com/app:1.4.2',
  resources: RESOURCES,
  ...over,
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...sc },
});

/** A pod spec that passes every rule; `podSc` is merged into the pod securityContext. */
const spec = (over: Obj = {}, podSc: Obj = {}): Obj => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, ...podSc },
  containers: [container()],
  ...over,
});

const pod = (podSpec: Obj, annotations?: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'x', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: podSpec,
});

const write = (kind: string, object: Obj, apiVersion?: string): WriteIntent => ({
  verb: 'apply',
  cluster: 'dev',
  kind,
  ...(apiVersion ? { apiVersion } : {}),
  namespaced: true,
  namespace: 'default',
  name: 'x',
  object,
});

const findingsFor = (object: Obj, policy: Policy, kind = 'Pod'): Finding[] =>
  evaluateWrite(write(kind, object), policy).findings;
/** [ruleId, path] of each finding: what a rule found and exactly where. */
const where = (object: Obj, policy: Policy, kind = 'Pod') =>
  findingsFor(object, policy, kind).map((f) => [f.ruleId, f.path]);

describe('the compliant fixtures', () => {
  it('pass every rule at the restricted level, so each case below isolates one rule', () => {
    expect(findingsFor(pod(spec()), RESTRICTED)).toEqual([]);
    expect(evaluateWrite(write('Pod', pod(spec())), RESTRICTED).allowed).toBe(true);
  });
});

describe('Pod Security Standards, baseline', () => {
  it('host-namespaces: hostNetwork, hostPID and hostIPC', () => {
    expect(where(pod(spec({ hostNetwork: true, hostPID: true, hostIPC: true })), BASELINE)).toEqual([
      ['pss-baseline/host-namespaces', 'spec.hostNetwork'],
      ['pss-baseline/host-namespaces', 'spec.hostPID'],
      ['pss-baseline/host-namespaces', 'spec.hostIPC'],
    ]);
    expect(where(pod(spec({ hostNetwork: false, hostPID: false, hostIPC: false })), RESTRICTED)).toEqual([]);
  });

  it('privileged: names the container and says how to fix it', () => {
    const [f, ...rest] = findingsFor(pod(spec({ containers: [container({}, { privileged: true })] })), BASELINE);
    expect(rest).toEqual([]);
    expect(f).toEqual({
      ruleId: 'pss-baseline/privileged',
      mode: 'enforce',
      path: 'spec.containers[0].securityContext.privileged',
      message: 'container "app" runs privileged, with full access to the node',
      fix: 'remove securityContext.privileged or set it to false',
    });
    expect(where(pod(spec({ containers: [container({}, { privileged: false })] })), RESTRICTED)).toEqual([]);
  });

  it('capabilities: only additions outside the baseline allow-list', () => {
    const add = (caps: string[]) => pod(spec({ containers: [container({}, { capabilities: { add: caps } })] }));
    expect(where(add(['NET_BIND_SERVICE', 'SYS_ADMIN', 'CHOWN', 'NET_RAW']), BASELINE)).toEqual([
      ['pss-baseline/capabilities', 'spec.containers[0].securityContext.capabilities.add[1]'],
      ['pss-baseline/capabilities', 'spec.containers[0].securityContext.capabilities.add[3]'],
    ]);
    expect(findingsFor(add(['SYS_ADMIN']), BASELINE)[0]?.message).toBe(
      'container "app" adds capability SYS_ADMIN, which is outside the baseline allow-list',
    );
    // The exact allow-list of the standard, no more and no less.
    expect([...BASELINE_CAPABILITIES].sort()).toEqual(
      [
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
      ].sort(),
    );
    expect(where(add([...BASELINE_CAPABILITIES]), BASELINE)).toEqual([]);
  });

  it('host-path: hostPath volumes, by index', () => {
    const volumes = [
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'docker', hostPath: { path: '/var/run/docker.sock' } },
    ];
    const found = findingsFor(pod(spec({ volumes })), BASELINE);
    expect(found.map((f) => [f.ruleId, f.path])).toEqual([['pss-baseline/host-path', 'spec.volumes[1].hostPath']]);
    expect(found[0]?.message).toContain('volume "docker" mounts /var/run/docker.sock');
    expect(where(pod(spec({ volumes: [volumes[0]] })), RESTRICTED)).toEqual([]);
  });

  it('host-ports: any hostPort but 0', () => {
    const ports = (p: Obj[]) => pod(spec({ containers: [container({ ports: p })] }));
    expect(where(ports([{ containerPort: 80 }, { containerPort: 443, hostPort: 8443 }]), BASELINE)).toEqual([
      ['pss-baseline/host-ports', 'spec.containers[0].ports[1].hostPort'],
    ]);
    expect(where(ports([{ containerPort: 80, hostPort: 0 }, { containerPort: 81 }]), RESTRICTED)).toEqual([]);
  });

  it('host-probes: probes and lifecycle hooks aimed at another host', () => {
    const bad = container({
      livenessProbe: { httpGet: { path: '/healthz', port: 80, host: '169.254.169.254' } },
      readinessProbe: { tcpSocket: { port: 80 } },
      lifecycle: { preStop: { tcpSocket: { port: 5432, host: 'db.internal' } } },
    });
    expect(where(pod(spec({ containers: [bad] })), BASELINE)).toEqual([
      ['pss-baseline/host-probes', 'spec.containers[0].livenessProbe.httpGet.host'],
      ['pss-baseline/host-probes', 'spec.containers[0].lifecycle.preStop.tcpSocket.host'],
    ]);
    const ok = container({
      livenessProbe: { httpGet: { path: '/healthz', port: 80, host: '' } },
      startupProbe: { httpGet: { path: '/', port: 80 } },
      lifecycle: { postStart: { exec: { command: ['true'] } } },
    });
    expect(where(pod(spec({ containers: [ok] })), RESTRICTED)).toEqual([]);
  });

  it('apparmor: profile fields at pod and container level, and the legacy annotation', () => {
    const bad = pod(
      spec(
        { containers: [container({}, { appArmorProfile: { type: 'Unconfined' } })] },
        { appArmorProfile: { type: 'Unconfined' } },
      ),
      {
        'container.apparmor.security.beta.kubernetes.io/app': 'unconfined',
        // A localhost profile needs a name: `localhost/<profile>`.
        'container.apparmor.security.beta.kubernetes.io/side': 'localhost',
        team: 'a',
      },
    );
    expect(where(bad, BASELINE)).toEqual([
      ['pss-baseline/apparmor', 'spec.securityContext.appArmorProfile.type'],
      ['pss-baseline/apparmor', 'spec.containers[0].securityContext.appArmorProfile.type'],
      ['pss-baseline/apparmor', 'metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]'],
      ['pss-baseline/apparmor', 'metadata.annotations["container.apparmor.security.beta.kubernetes.io/side"]'],
    ]);
    const ok = pod(
      spec(
        { containers: [container({}, { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-nginx' } })] },
        { appArmorProfile: { type: 'RuntimeDefault' } },
      ),
      {
        'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default',
        'container.apparmor.security.beta.kubernetes.io/side': 'localhost/k8s-nginx',
      },
    );
    expect(where(ok, RESTRICTED)).toEqual([]);
  });

  it('selinux: types outside the container types, and any user or role', () => {
    const bad = pod(
      spec(
        { containers: [container({}, { seLinuxOptions: { user: 'system_u', role: 'system_r' } })] },
        { seLinuxOptions: { type: 'spc_t' } },
      ),
    );
    expect(where(bad, BASELINE)).toEqual([
      ['pss-baseline/selinux', 'spec.securityContext.seLinuxOptions.type'],
      ['pss-baseline/selinux', 'spec.containers[0].securityContext.seLinuxOptions.user'],
      ['pss-baseline/selinux', 'spec.containers[0].securityContext.seLinuxOptions.role'],
    ]);
    const ok = pod(
      spec(
        {
          containers: [
            container({}, { seLinuxOptions: { type: 'container_engine_t' } }),
            container({ name: 'b' }, { seLinuxOptions: { type: 'container_init_t', user: '', role: '' } }),
            container({ name: 'c' }, { seLinuxOptions: { type: 'container_kvm_t' } }),
          ],
        },
        { seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' } },
      ),
    );
    expect(where(ok, RESTRICTED)).toEqual([]);
  });

  it('proc-mount: anything but Default', () => {
    expect(where(pod(spec({ containers: [container({}, { procMount: 'Unmasked' })] })), BASELINE)).toEqual([
      ['pss-baseline/proc-mount', 'spec.containers[0].securityContext.procMount'],
    ]);
    expect(where(pod(spec({ containers: [container({}, { procMount: 'Default' })] })), RESTRICTED)).toEqual([]);
  });

  it('seccomp: Unconfined at pod or container level; unset is fine at baseline', () => {
    const bad = pod(
      spec(
        { containers: [container({}, { seccompProfile: { type: 'Unconfined' } })] },
        { seccompProfile: { type: 'Unconfined' } },
      ),
    );
    expect(where(bad, BASELINE)).toEqual([
      ['pss-baseline/seccomp', 'spec.securityContext.seccompProfile.type'],
      ['pss-baseline/seccomp', 'spec.containers[0].securityContext.seccompProfile.type'],
    ]);
    expect(where(pod({ containers: [{ name: 'app', image: 'app:1', resources: RESOURCES }] }), BASELINE)).toEqual([]);
    const localhost = pod(spec({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } }));
    expect(where(localhost, RESTRICTED)).toEqual([]);
  });

  it('sysctls: only the safe set', () => {
    const sysctls = [
      { name: 'net.ipv4.tcp_keepalive_time', value: '600' },
      { name: 'kernel.msgmax', value: '65536' },
    ];
    const found = findingsFor(pod(spec({}, { sysctls })), BASELINE);
    expect(found.map((f) => [f.ruleId, f.path])).toEqual([
      ['pss-baseline/sysctls', 'spec.securityContext.sysctls[1].name'],
    ]);
    expect(found[0]?.message).toBe('the pod sets sysctl kernel.msgmax, which is not in the safe set');
    // The safe set of the standard (through the v1.32 additions), no more and no less.
    const standard = [
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
    ];
    expect([...SAFE_SYSCTLS].sort()).toEqual([...standard].sort());
    const allSafe = standard.map((name) => ({ name, value: '1' }));
    expect(where(pod(spec({}, { sysctls: allSafe })), RESTRICTED)).toEqual([]);
    // Namespaced is not enough: net.core.somaxconn is namespaced but not in the safe set.
    expect(where(pod(spec({}, { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] })), BASELINE)).toEqual([
      ['pss-baseline/sysctls', 'spec.securityContext.sysctls[0].name'],
    ]);
  });

  it('windows-host-process: hostProcess at pod or container level', () => {
    const bad = pod(
      spec(
        { initContainers: [container({ name: 'setup' }, { windowsOptions: { hostProcess: true } })] },
        { windowsOptions: { hostProcess: true } },
      ),
    );
    expect(where(bad, BASELINE)).toEqual([
      ['pss-baseline/windows-host-process', 'spec.securityContext.windowsOptions.hostProcess'],
      ['pss-baseline/windows-host-process', 'spec.initContainers[0].securityContext.windowsOptions.hostProcess'],
    ]);
    const ok = pod(spec({}, { windowsOptions: { hostProcess: false, runAsUserName: 'ContainerUser' } }));
    expect(where(ok, RESTRICTED)).toEqual([]);
  });
});

describe('Pod Security Standards, restricted', () => {
  const bare = () => pod({ containers: [{ name: 'app', image: 'app:1.0', resources: RESOURCES }] });

  it('does not run at the baseline level', () => {
    expect(where(bare(), BASELINE)).toEqual([]);
    expect(where(bare(), RESTRICTED)).toEqual([
      ['pss-restricted/privilege-escalation', 'spec.containers[0].securityContext.allowPrivilegeEscalation'],
      ['pss-restricted/run-as-non-root', 'spec.securityContext.runAsNonRoot'],
      ['pss-restricted/seccomp', 'spec.securityContext.seccompProfile.type'],
      ['pss-restricted/capabilities', 'spec.containers[0].securityContext.capabilities.drop'],
    ]);
  });

  it('volume-types: only the eight allowed sources', () => {
    const volumes = [
      { name: 'share', nfs: { server: 'nfs.local', path: '/export' } },
      { name: 'tmp', emptyDir: {} },
      { name: 'disk', gcePersistentDisk: { pdName: 'd1' } },
    ];
    const found = findingsFor(pod(spec({ volumes })), RESTRICTED);
    expect(found.map((f) => [f.ruleId, f.path])).toEqual([
      ['pss-restricted/volume-types', 'spec.volumes[0].nfs'],
      ['pss-restricted/volume-types', 'spec.volumes[2].gcePersistentDisk'],
    ]);
    expect(found[0]?.message).toBe('volume "share" is of type nfs, which the restricted level does not allow');
    expect(where(pod(spec({ volumes })), BASELINE)).toEqual([]);
    const allowed = [...RESTRICTED_VOLUME_TYPES].map((type, i) => ({ name: `v${i}`, [type]: {} }));
    expect(allowed).toHaveLength(8);
    expect(where(pod(spec({ volumes: allowed })), RESTRICTED)).toEqual([]);
  });

  it('volume-types and host-path both report a hostPath volume at the restricted level', () => {
    expect(where(pod(spec({ volumes: [{ name: 'h', hostPath: { path: '/' } }] })), RESTRICTED)).toEqual([
      ['pss-baseline/host-path', 'spec.volumes[0].hostPath'],
      ['pss-restricted/volume-types', 'spec.volumes[0].hostPath'],
    ]);
  });

  it('privilege-escalation: every container must set allowPrivilegeEscalation: false', () => {
    const unset = { ...container(), securityContext: { capabilities: { drop: ['ALL'] } } };
    const found = findingsFor(
      pod(spec({ containers: [container(), unset, container({ name: 'c' }, { allowPrivilegeEscalation: true })] })),
      RESTRICTED,
    );
    expect(found.map((f) => [f.ruleId, f.path])).toEqual([
      ['pss-restricted/privilege-escalation', 'spec.containers[1].securityContext.allowPrivilegeEscalation'],
      ['pss-restricted/privilege-escalation', 'spec.containers[2].securityContext.allowPrivilegeEscalation'],
    ]);
    expect(found[0]?.message).toBe(
      'container "app" does not set allowPrivilegeEscalation: false (it defaults to true)',
    );
    expect(found[1]?.message).toBe('container "c" sets allowPrivilegeEscalation: true');
  });

  it('run-as-non-root: pod level covers unset containers; an explicit false anywhere fails', () => {
    const withPodSc = (podSc: Obj, containers: Obj[]) => pod({ securityContext: podSc, containers });
    const seccomp = { seccompProfile: { type: 'RuntimeDefault' } };
    // Set nowhere: one finding at pod level naming every container that lacks it.
    const nowhere = findingsFor(
      withPodSc(seccomp, [
        container(),
        container({ name: 'side' }, { runAsNonRoot: true }),
        container({ name: 'log' }),
      ]),
      RESTRICTED,
    );
    expect(nowhere.map((f) => [f.ruleId, f.path])).toEqual([
      ['pss-restricted/run-as-non-root', 'spec.securityContext.runAsNonRoot'],
    ]);
    expect(nowhere[0]?.message).toBe(
      'runAsNonRoot is set neither at pod level nor in container "app", container "log"',
    );
    // Set in every container: fine without the pod level.
    expect(where(withPodSc(seccomp, [container({}, { runAsNonRoot: true })]), RESTRICTED)).toEqual([]);
    // Pod true, one container false.
    expect(
      where(withPodSc({ ...seccomp, runAsNonRoot: true }, [container({}, { runAsNonRoot: false })]), RESTRICTED),
    ).toEqual([['pss-restricted/run-as-non-root', 'spec.containers[0].securityContext.runAsNonRoot']]);
    // Pod false: reported once, at pod level, even with containers unset.
    expect(where(withPodSc({ ...seccomp, runAsNonRoot: false }, [container()]), RESTRICTED)).toEqual([
      ['pss-restricted/run-as-non-root', 'spec.securityContext.runAsNonRoot'],
    ]);
  });

  it('run-as-user: UID 0 at pod or container level', () => {
    expect(where(pod(spec({ containers: [container({}, { runAsUser: 0 })] }, { runAsUser: 0 })), RESTRICTED)).toEqual([
      ['pss-restricted/run-as-user', 'spec.securityContext.runAsUser'],
      ['pss-restricted/run-as-user', 'spec.containers[0].securityContext.runAsUser'],
    ]);
    expect(
      where(pod(spec({ containers: [container({}, { runAsUser: 10001 })] }, { runAsUser: 1000 })), RESTRICTED),
    ).toEqual([]);
  });

  it('seccomp: RuntimeDefault or Localhost, at pod level or in every container', () => {
    const noPodSeccomp = (containers: Obj[]) => pod({ securityContext: { runAsNonRoot: true }, containers });
    expect(where(noPodSeccomp([container()]), RESTRICTED)).toEqual([
      ['pss-restricted/seccomp', 'spec.securityContext.seccompProfile.type'],
    ]);
    const each = noPodSeccomp([
      container({}, { seccompProfile: { type: 'RuntimeDefault' } }),
      container({ name: 'b' }, { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }),
    ]);
    expect(where(each, RESTRICTED)).toEqual([]);
    const override = pod(spec({ containers: [container({}, { seccompProfile: { type: 'Unconfined' } })] }));
    expect(where(override, RESTRICTED)).toEqual([
      ['pss-baseline/seccomp', 'spec.containers[0].securityContext.seccompProfile.type'],
      ['pss-restricted/seccomp', 'spec.containers[0].securityContext.seccompProfile.type'],
    ]);
  });

  it('capabilities: drop ALL, add back at most NET_BIND_SERVICE', () => {
    const caps = (c: Obj) => pod(spec({ containers: [container({}, { capabilities: c })] }));
    expect(where(caps({ drop: ['NET_RAW'] }), RESTRICTED)).toEqual([
      ['pss-restricted/capabilities', 'spec.containers[0].securityContext.capabilities.drop'],
    ]);
    expect(where(caps({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] }), RESTRICTED)).toEqual([]);
    // CHOWN is fine at baseline, not at restricted.
    expect(where(caps({ drop: ['ALL'], add: ['CHOWN'] }), RESTRICTED)).toEqual([
      ['pss-restricted/capabilities', 'spec.containers[0].securityContext.capabilities.add[0]'],
    ]);
    expect(where(caps({ drop: ['ALL'], add: ['CHOWN'] }), BASELINE)).toEqual([]);
  });

  it('Windows pods are exempt from the Linux-only controls but not from runAsNonRoot', () => {
    const windows = (podSc: Obj) =>
      pod({
        os: { name: 'windows' },
        securityContext: podSc,
        containers: [{ name: 'app', image: 'app:1.0', resources: RESOURCES }],
      });
    expect(where(windows({ runAsNonRoot: true }), RESTRICTED)).toEqual([]);
    expect(where(windows({}), RESTRICTED)).toEqual([
      ['pss-restricted/run-as-non-root', 'spec.securityContext.runAsNonRoot'],
    ]);
  });
});

describe('every kind of container, and every workload kind', () => {
  it('checks init and ephemeral containers and names them', () => {
    const found = findingsFor(
      pod(
        spec({
          initContainers: [container({ name: 'setup' }, { privileged: true })],
          ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', securityContext: { privileged: true } }],
        }),
      ),
      BASELINE,
    );
    expect(found.map((f) => [f.path, f.message])).toEqual([
      [
        'spec.initContainers[0].securityContext.privileged',
        'init container "setup" runs privileged, with full access to the node',
      ],
      [
        'spec.ephemeralContainers[0].securityContext.privileged',
        'ephemeral container "debugger" runs privileged, with full access to the node',
      ],
    ]);
  });

  it('restricted rules cover ephemeral containers too', () => {
    const debug = { name: 'debugger', image: 'busybox:1.36', securityContext: { capabilities: { drop: ['ALL'] } } };
    expect(where(pod(spec({ ephemeralContainers: [debug] })), RESTRICTED)).toEqual([
      ['pss-restricted/privilege-escalation', 'spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation'],
    ]);
  });

  const privileged = () => spec({ containers: [container({}, { privileged: true })] });

  it.each([
    ['Deployment', 'apps/v1'],
    ['ReplicaSet', 'apps/v1'],
    ['StatefulSet', 'apps/v1'],
    ['DaemonSet', 'apps/v1'],
    ['Job', 'batch/v1'],
    ['ReplicationController', 'v1'],
  ])('%s: paths point into spec.template.spec', (kind, apiVersion) => {
    const object = {
      apiVersion,
      kind,
      metadata: { name: 'x' },
      spec: { replicas: 2, template: { spec: privileged() } },
    };
    expect(where(object, BASELINE, kind)).toEqual([
      ['pss-baseline/privileged', 'spec.template.spec.containers[0].securityContext.privileged'],
    ]);
  });

  it('CronJob: paths point into spec.jobTemplate.spec.template', () => {
    const object = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: {
          spec: {
            template: {
              metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } },
              spec: { ...privileged(), hostPID: true },
            },
          },
        },
      },
    };
    expect(where(object, BASELINE, 'CronJob')).toEqual([
      ['pss-baseline/host-namespaces', 'spec.jobTemplate.spec.template.spec.hostPID'],
      ['pss-baseline/privileged', 'spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged'],
      [
        'pss-baseline/apparmor',
        'spec.jobTemplate.spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]',
      ],
    ]);
  });

  it('PodTemplate: paths point into template.spec', () => {
    expect(
      where({ apiVersion: 'v1', kind: 'PodTemplate', template: { spec: privileged() } }, BASELINE, 'PodTemplate'),
    ).toEqual([['pss-baseline/privileged', 'template.spec.containers[0].securityContext.privileged']]);
  });

  it('reads AppArmor annotations from the pod template, not from the workload', () => {
    const annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' };
    const onWorkload = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { annotations },
      spec: { template: { spec: spec() } },
    };
    expect(where(onWorkload, BASELINE, 'Deployment')).toEqual([]);
    const onTemplate = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: { template: { metadata: { annotations }, spec: spec() } },
    };
    expect(where(onTemplate, BASELINE, 'Deployment')).toEqual([
      [
        'pss-baseline/apparmor',
        'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]',
      ],
    ]);
  });

  it('matches kinds case-insensitively', () => {
    const object = { apiVersion: 'apps/v1', spec: { template: { spec: privileged() } } };
    expect(where(object, BASELINE, 'deployment')).toHaveLength(1);
  });

  it('leaves kinds without a pod template alone, including custom resources that reuse a workload kind name', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', data: { spec: 'privileged: true' } };
    expect(where(configMap, BASELINE, 'ConfigMap')).toEqual([]);
    const crd = { apiVersion: 'example.com/v1', kind: 'Deployment', spec: { template: { spec: privileged() } } };
    expect(where(crd, BASELINE, 'Deployment')).toEqual([]);
    expect(
      evaluateWrite(write('Deployment', { spec: { template: { spec: privileged() } } }, 'example.com/v1'), BASELINE)
        .findings,
    ).toEqual([]);
    // The same object as apps/v1 is checked.
    expect(
      evaluateWrite(write('Deployment', { spec: { template: { spec: privileged() } } }, 'apps/v1'), BASELINE).allowed,
    ).toBe(false);
  });

  it('survives malformed objects without throwing', () => {
    const odd: Obj[] = [
      { spec: null },
      { spec: { template: 'x' } },
      { spec: { template: { spec: { containers: 'nope', volumes: {}, securityContext: 'x' } } } },
      {
        spec: {
          template: { spec: { containers: [null, 7, { name: 'a', securityContext: 'x', ports: 'y', image: 3 }] } },
        },
      },
      {
        spec: {
          template: { metadata: { annotations: 'x' }, spec: { securityContext: { sysctls: [null, { value: 1 }] } } },
        },
      },
    ];
    for (const object of odd) {
      expect(() => evaluateWrite(write('Deployment', object), RESTRICTED)).not.toThrow();
    }
    // A sysctl entry without a name is not a safe sysctl.
    const noName = { spec: { template: { spec: { securityContext: { sysctls: [{ value: '1' }] }, containers: [] } } } };
    expect(where(noName, BASELINE, 'Deployment')).toEqual([
      ['pss-baseline/sysctls', 'spec.template.spec.securityContext.sysctls[0].name'],
    ]);
  });
});

describe('resources/requests-limits', () => {
  const withResources = (resources: Obj | undefined, extra: Obj = {}) =>
    pod(spec({ containers: [{ ...container(), resources }], ...extra }));

  it('asks for cpu and memory requests and a memory limit, naming what is missing', () => {
    const [f, ...rest] = findingsFor(withResources(undefined), BASELINE);
    expect(rest).toEqual([]);
    expect(f?.ruleId).toBe('resources/requests-limits');
    expect(f?.path).toBe('spec.containers[0].resources');
    expect(f?.message).toBe(
      'container "app" has no resources.requests.cpu, resources.requests.memory, resources.limits.memory',
    );
    expect(f?.fix).toContain(
      'set resources.requests.cpu, resources.requests.memory and resources.limits.memory in container "app"',
    );
    expect(f?.fix).toContain('a CPU limit is not needed');
    const noLimit = findingsFor(withResources({ requests: { cpu: '1', memory: '1Gi' } }), BASELINE);
    expect(noLimit.map((x) => x.message)).toEqual(['container "app" has no resources.limits.memory']);
  });

  it('does not require a CPU limit', () => {
    expect(
      where(withResources({ requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } }), BASELINE),
    ).toEqual([]);
  });

  it('counts a limit as the request the API server will default from it', () => {
    expect(where(withResources({ limits: { cpu: '1', memory: '1Gi' } }), BASELINE)).toEqual([]);
    expect(where(withResources({ requests: { cpu: '1' }, limits: { memory: '1Gi' } }), BASELINE)).toEqual([]);
    // ...but a CPU limit alone does not stand in for the memory ones.
    expect(findingsFor(withResources({ limits: { cpu: '1' } }), BASELINE).map((x) => x.message)).toEqual([
      'container "app" has no resources.requests.memory, resources.limits.memory',
    ]);
  });

  it('checks init containers, not ephemeral ones (which cannot have resources)', () => {
    const object = pod(
      spec({
        initContainers: [{ ...container({ name: 'migrate' }), resources: {} }],
        ephemeralContainers: [
          {
            name: 'debugger',
            image: 'busybox:1.36',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      }),
    );
    expect(where(object, RESTRICTED)).toEqual([['resources/requests-limits', 'spec.initContainers[0].resources']]);
  });

  it('accepts pod-level resources for every container', () => {
    expect(where(withResources(undefined, { resources: RESOURCES }), BASELINE)).toEqual([]);
  });
});

describe('images/pinned', () => {
  it.each([
    ['nginx', 'untagged'],
    ['nginx:latest', 'latest'],
    ['docker.io/library/nginx:latest', 'latest'],
    ['reg:5000/app', 'untagged'],
    ['reg:5000/team/app:latest', 'latest'],
    ['nginx:', 'untagged'],
    ['nginx@sha256:abc', 'untagged'],
    ['nginx:1.27.3', undefined],
    ['reg:5000/app:2.1', undefined],
    ['ghcr.io/org/app:v1.2.3-alpine', undefined],
    ['nginx:LATEST', undefined],
    [`nginx@sha256:${'a'.repeat(64)}`, undefined],
    [`nginx:latest@sha256:${'0f'.repeat(32)}`, undefined],
    [`reg:5000/app@sha256:${'b'.repeat(64)}`, undefined],
  ])('%s -> %s', (image, reason) => {
    expect(unpinnedReason(image)).toBe(reason);
  });

  it('reports every container kind at its image path, with a fix for that repository', () => {
    const object = pod(
      spec({
        containers: [container({ image: 'nginx:latest' })],
        initContainers: [container({ name: 'setup', image: 'reg:5000/tools' })],
        ephemeralContainers: [{ name: 'debugger', image: 'busybox', securityContext: {} }],
      }),
    );
    const found = findingsFor(object, BASELINE).filter((f) => f.ruleId === 'images/pinned');
    expect(found.map((f) => [f.path, f.message, f.fix])).toEqual([
      [
        'spec.containers[0].image',
        'container "app" uses image nginx:latest, and latest moves',
        'use a specific version tag or a digest, e.g. nginx:<version> or nginx@sha256:<digest>',
      ],
      [
        'spec.initContainers[0].image',
        'init container "setup" uses image reg:5000/tools with no tag, which means latest',
        'use a specific version tag or a digest, e.g. reg:5000/tools:<version> or reg:5000/tools@sha256:<digest>',
      ],
      [
        'spec.ephemeralContainers[0].image',
        'ephemeral container "debugger" uses image busybox with no tag, which means latest',
        'use a specific version tag or a digest, e.g. busybox:<version> or busybox@sha256:<digest>',
      ],
    ]);
  });
});

describe('rule coverage', () => {
  it('every rule in the catalogue fires on some write (no rule without a working check)', () => {
    const everythingWrong = pod(
      {
        hostNetwork: true,
        securityContext: {
          runAsUser: 0,
          seccompProfile: { type: 'Unconfined' },
          seLinuxOptions: { type: 'spc_t' },
          sysctls: [{ name: 'kernel.msgmax', value: '1' }],
          windowsOptions: { hostProcess: true },
        },
        volumes: [{ name: 'h', hostPath: { path: '/' } }],
        containers: [
          {
            name: 'app',
            image: 'nginx',
            ports: [{ containerPort: 80, hostPort: 80 }],
            livenessProbe: { tcpSocket: { port: 80, host: '10.0.0.1' } },
            securityContext: {
              privileged: true,
              procMount: 'Unmasked',
              runAsNonRoot: false,
              appArmorProfile: { type: 'Unconfined' },
              capabilities: { add: ['SYS_ADMIN'] },
            },
          },
        ],
      },
      undefined,
    );
    const fired = new Set<string>([
      ...findingsFor(everythingWrong, RESTRICTED).map((f) => f.ruleId),
      ...evaluateWrite(write('Pod', pod(spec())), parsePolicy('readOnly: true\n')).findings.map((f) => f.ruleId),
      ...evaluateWrite({ ...write('Pod', pod(spec())), namespace: 'kube-system' }, BASELINE).findings.map(
        (f) => f.ruleId,
      ),
      ...evaluateWrite(write('Pod', pod(spec())), parsePolicy('namespaces: { deny: [default] }\n')).findings.map(
        (f) => f.ruleId,
      ),
      ...evaluateWrite(
        { verb: 'delete', cluster: 'dev', kind: 'Pod', namespaced: true, namespace: 'default', count: 1000 },
        BASELINE,
      ).findings.map((f) => f.ruleId),
      ...evaluateWrite(
        { verb: 'apply', cluster: 'dev', kind: 'ClusterRoleBinding', namespaced: false, name: 'x' },
        BASELINE,
      ).findings.map((f) => f.ruleId),
    ]);
    // Cluster-access rules: the dangerous variant of each kind, with cluster-scoped kinds let past
    // clusterScoped.deny so that their own rule is reached.
    const open = parsePolicy(
      `clusterScoped: { allow: [ClusterRole, ClusterRoleBinding, ValidatingWebhookConfiguration] }\n`,
    );
    for (const { kind, namespaced, object } of DANGEROUS_OBJECTS) {
      const intent: WriteIntent = { verb: 'apply', cluster: 'dev', kind, namespaced, name: 'x', object };
      for (const f of evaluateWrite(namespaced ? { ...intent, namespace: 'default' } : intent, open).findings)
        fired.add(f.ruleId);
    }
    expect([...fired].sort()).toEqual([...RULE_IDS].sort());
  });
});
