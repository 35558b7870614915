import { evaluateWrite, firstMatch, formatVerdict, type Verdict } from '../../domain/guardrails/index.ts';
import { buildPlan, changeHash, type Gates, type Strategy } from '../../domain/rollout-plan.ts';
import { quoted } from '../../domain/text.ts';
import type { KubeObject } from '../../ports/kube.ts';
import type { RolloutOpPlan } from '../../workflows/rollout-steps.ts';
import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { parseManifests } from '../k8s/manifests.ts';
import { type Target, target } from '../k8s/objects.ts';

/** A metric gate as asked for; interval 60 s, count 3 and failureLimit 0 unless given. */
export interface MetricGateRequest {
  name: string;
  /** PromQL giving one number. */
  query: string;
  op: '<' | '<=' | '>' | '>=';
  threshold: number;
  intervalSeconds?: number | undefined;
  count?: number | undefined;
  failureLimit?: number | undefined;
}

/** A rollout as asked for (plan and start take the same request). */
export interface RolloutRequest {
  cluster?: string | undefined;
  namespace?: string | undefined;
  /** The Deployment. */
  name: string;
  /** The new image; or give manifest. */
  image?: string | undefined;
  /** Default: the first container. */
  container?: string | undefined;
  /** The complete new Deployment, parsed through the call's ParseCache. */
  manifest?: string | undefined;
  strategy: 'rolling' | 'blueGreen' | 'canary';
  /** blueGreen: the Service to switch. */
  service?: string | undefined;
  /** canary weights. */
  steps?: number[] | undefined;
  /** canary: weights to pause after. */
  pauseAfter?: number[] | undefined;
  gates?:
    | {
        maxRestarts?: number | undefined;
        progressDeadlineSeconds?: number | undefined;
        metrics?: MetricGateRequest[] | undefined;
      }
    | undefined;
}

export interface PreparedRollout {
  t: Target;
  namespace: string;
  live: KubeObject;
  plan: RolloutOpPlan;
  verdict: Verdict;
  changeHash: string;
  approvalRequired: boolean;
  approvalReason?: string;
  summary: string;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/**
 * Works out a rollout without changing anything: the new template, guardrail verdict, server-side
 * dry run, plan, change hash and whether it needs approval. Shared by plan and start, so what a
 * plan shows is exactly what start does.
 */
export async function prepareRollout(
  deps: Deps,
  call: Pick<Call, 'parsed'>,
  input: RolloutRequest,
): Promise<PreparedRollout> {
  const t = await target(deps, input.cluster);
  const namespace = input.namespace ?? t.defaultNamespace;
  if (!input.image === !input.manifest) throw new AppError('give either image (with optional container) or manifest');
  if (input.strategy === 'blueGreen' && !input.service)
    throw new AppError('a blueGreen rollout needs `service`: the Service whose traffic moves');
  if (input.strategy !== 'canary' && (input.steps || input.pauseAfter))
    throw new AppError('`steps` and `pauseAfter` apply to canary rollouts only');
  for (const w of input.pauseAfter ?? []) {
    if (!(input.steps ?? [10, 50, 100]).includes(w)) throw new AppError(`pauseAfter ${w} is not one of the steps`);
  }
  const deployments = await t.client.resolve('Deployment', 'apps/v1');
  const live = await t.client.get(deployments, input.name, namespace);
  const liveTemplate = rec(rec(live.spec).template);

  let template: Obj;
  if (input.image) {
    template = structuredClone(liveTemplate);
    const containers = (rec(template.spec).containers as Obj[] | undefined) ?? [];
    const target = input.container ? containers.find((c) => c.name === input.container) : containers[0];
    if (!target) {
      throw new AppError(
        `container "${quoted(input.container ?? '')}" not in deployment ${input.name}; containers: ${quoted(containers.map((c) => String(c.name)).join(', '))}`,
      );
    }
    if (target.image === input.image) throw new AppError(`${input.name} already runs ${quoted(input.image)}`);
    target.image = input.image;
  } else {
    const [doc, ...more] = parseManifests(input.manifest as string, call.parsed);
    if (more.length || doc?.kind !== 'Deployment') throw new AppError('manifest must be one Deployment');
    if (doc.metadata?.name !== input.name || (doc.metadata?.namespace && doc.metadata.namespace !== namespace)) {
      throw new AppError(
        `manifest is for ${quoted(String(doc.metadata?.namespace ?? namespace))}/${quoted(String(doc.metadata?.name))}, not ${namespace}/${input.name}`,
      );
    }
    template = rec(rec(doc.spec).template);
    const liveLabels = rec(rec(liveTemplate.metadata).labels);
    const newLabels = rec(rec(template.metadata).labels);
    const selector = rec(rec(rec(live.spec).selector).matchLabels);
    for (const [key, value] of Object.entries(selector)) {
      if (newLabels[key] !== value)
        throw new AppError(
          `the new template must keep the selector label ${key}=${String(value)} (live: ${String(liveLabels[key])})`,
        );
    }
  }
  const desired: KubeObject = { ...live, spec: { ...rec(live.spec), template } };

  const judge = (object: KubeObject) =>
    evaluateWrite(
      {
        verb: 'apply',
        cluster: t.cluster,
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        namespaced: deployments.namespaced,
        namespace,
        name: input.name,
        object,
      },
      deps.policy,
    );
  let verdict = judge(desired);
  if (verdict.allowed) {
    // The API server validates the new template now, not minutes into the rollout; and the pods the
    // rollout makes are those of the template as the server would store it (defaults and mutating
    // admission included), so that result is judged too.
    const dry = await t.client.patch(
      deployments,
      input.name,
      namespace,
      [{ op: 'replace', path: '/spec/template', value: template }],
      'json',
      { dryRun: true },
    );
    const server = judge(dry);
    const seen = new Set(verdict.findings.map((f) => `${f.ruleId}|${f.path}`));
    verdict = {
      allowed: server.allowed,
      findings: [...verdict.findings, ...server.findings.filter((f) => !seen.has(`${f.ruleId}|${f.path}`))],
    };
  }
  if (input.strategy === 'blueGreen') {
    const services = await t.client.resolve('Service', 'v1');
    const svc = await t.client.get(services, input.service as string, namespace);
    const selector = rec(rec(svc.spec).selector);
    const podLabels = rec(rec(liveTemplate.metadata).labels);
    if (!Object.keys(selector).length || Object.entries(selector).some(([key, v]) => podLabels[key] !== v)) {
      throw new AppError(`Service ${input.service} does not select the pods of deployment ${input.name}`);
    }
    // Green runs the new template: the switch would leave the Service without pods if it lost a selected label.
    const newLabels = rec(rec(template.metadata).labels);
    const missing = Object.entries(selector).filter(([key, v]) => newLabels[key] !== v);
    if (missing.length) {
      throw new AppError(
        `the new template's pod labels must keep Service ${input.service}'s selector (${missing
          .map(([key, v]) => `${key}=${String(v)}`)
          .join(', ')} missing or different): after the switch the Service would select no pods`,
      );
    }
  }
  const strategy = input.strategy as Strategy;
  const pauses = new Set(input.pauseAfter ?? []);
  const steps = input.steps?.map((weight) => ({ weight, pause: pauses.has(weight) }));
  const metrics = (input.gates?.metrics ?? []).map((m) => ({ intervalSeconds: 60, count: 3, failureLimit: 0, ...m }));
  const gates: Partial<Gates> = { ...input.gates, metrics } as Partial<Gates>;
  const plan: RolloutOpPlan = {
    ...buildPlan({ strategy, ...(steps ? { steps } : {}), gates }),
    template,
    ...(input.service ? { service: input.service } : {}),
  };
  const hash = changeHash({
    cluster: t.cluster,
    namespace,
    name: input.name,
    template,
    strategy,
    steps: plan.steps,
    service: input.service ?? null,
    gates: plan.gates,
  });
  const approvals = deps.policy.approvals;
  const nsRule = firstMatch(namespace, approvals.rolloutNamespaces);
  const clusterRule = firstMatch(t.cluster, approvals.rolloutClusters);
  const approvalReason = nsRule
    ? `rollouts to namespaces matching ${nsRule} need approval`
    : clusterRule
      ? `rollouts on cluster ${t.cluster} need approval`
      : undefined;
  const change = input.image ? `image ${quoted(input.image)}` : 'a new template';
  return {
    t,
    namespace,
    live,
    plan,
    verdict,
    changeHash: hash,
    approvalRequired: approvalReason !== undefined,
    ...(approvalReason ? { approvalReason } : {}),
    summary: `${strategy} rollout of ${change} to deployment ${namespace}/${input.name} on ${t.cluster} (${plan.steps.map((s) => s.name).join(' → ')})`,
  };
}

export function refusalText(p: PreparedRollout): string {
  return `${formatVerdict(p.verdict)}\nNothing was changed on ${p.t.cluster}.`;
}
