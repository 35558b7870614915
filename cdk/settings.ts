import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadPolicy } from '../shared/config/policy-file.ts';
import { PriceConfigError, parseInstancePrices } from '../shared/domain/cost/prices.ts';
import { nextRun, parseSchedule, ScheduleError, toEventBridgeExpression } from '../shared/domain/schedule.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { functionEnvProblems } from './function-env.ts';
import { FUNCTION_LAYOUTS, type FunctionLayout } from './tool-functions.ts';

export type { DeploySettings };

/**
 * App-level CDK context the stacks are written for: the stateless stack imports the table from the
 * stateful stack as a strong reference (CloudFormation refuses to drop the export while it is used).
 */
export const APP_CONTEXT = { '@aws-cdk/core:defaultCrossStackReferences': 'strong' } as const;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export const CONTEXT_KEYS = [
  'publicUrl',
  'oauthIssuer',
  'oauthJwksUrl',
  'oauthAudience',
  'allowedOrigins',
  'kubeconfigSecretArn',
  'kubeconfigReadSecretArn',
  'k8sContexts',
  'prometheusUrl',
  'policyFile',
  'slackSigningSecretArn',
  'slackApprovers',
  'alarmEmail',
  'driftCheckSchedule',
  'slackAlertsSecretArn',
  'slackChannel',
  'toolsets',
  'awsAccounts',
  'awsRegions',
  'k8sImpersonate',
  'logRetentionDays',
  'logLevel',
  'functionLayout',
  'costCheckSchedule',
  'usageSampleSchedule',
  'costAws',
  'costTagKey',
  'costInstancePrices',
] as const;

/** A complete secret ARN ends with the 6-character suffix Secrets Manager adds; IAM needs it exactly. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Reads and checks the context. Every problem names its context key, so `cdk synth` fails before
 * anything is deployed.
 */
export function readSettings(get: (key: string) => unknown, repoRoot: string): DeploySettings {
  const problems: string[] = [];
  const str = (key: (typeof CONTEXT_KEYS)[number]): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      problems.push(`${key}: must be a string`);
      return undefined;
    }
    return v.trim();
  };
  const url = (key: (typeof CONTEXT_KEYS)[number]) => {
    const v = str(key);
    if (v && !/^https:\/\/[^\s/]+/.test(v)) problems.push(`${key}: must be an https:// URL`);
    return v;
  };
  const secretArn = (key: (typeof CONTEXT_KEYS)[number]) => {
    const v = str(key);
    if (v && !SECRET_ARN.test(v)) {
      problems.push(
        `${key}: must be the complete secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)`,
      );
    }
    return v;
  };
  const s: DeploySettings = {
    logRetentionDays: 30,
    logLevel: 'info',
    functionLayout: 'perTool',
  };
  const set = <K extends keyof DeploySettings>(k: K, v: DeploySettings[K] | undefined) => {
    if (v !== undefined) s[k] = v;
  };
  const publicUrl = url('publicUrl');
  if (publicUrl && /^https:\/\/[^\s/]+/.test(publicUrl)) {
    let u: URL | undefined;
    try {
      u = new URL(publicUrl);
    } catch {}
    if (!u || publicUrl.includes(',') || u.pathname !== '/mcp' || u.search || u.hash || u.username) {
      problems.push('publicUrl: must be one URL, https://<custom domain>/mcp (/mcp is the only MCP route)');
    }
  }
  set('publicUrl', publicUrl);
  set('oauthIssuer', url('oauthIssuer'));
  set('oauthJwksUrl', url('oauthJwksUrl'));
  set('oauthAudience', str('oauthAudience'));
  set('allowedOrigins', str('allowedOrigins'));
  set('kubeconfigSecretArn', secretArn('kubeconfigSecretArn'));
  set('kubeconfigReadSecretArn', secretArn('kubeconfigReadSecretArn'));
  if (s.kubeconfigReadSecretArn && s.kubeconfigReadSecretArn === s.kubeconfigSecretArn) {
    problems.push(
      'kubeconfigReadSecretArn: is the write credential (kubeconfigSecretArn); name a read-only kubeconfig or leave it unset',
    );
  }
  set('k8sContexts', str('k8sContexts'));
  const prometheusUrl = str('prometheusUrl');
  if (prometheusUrl && !/^https?:\/\/[^\s/]+/.test(prometheusUrl)) {
    problems.push('prometheusUrl: must be an http:// or https:// URL (e.g. http://prometheus.monitoring:9090)');
  }
  set('prometheusUrl', prometheusUrl);
  set('slackSigningSecretArn', secretArn('slackSigningSecretArn'));
  set('slackApprovers', str('slackApprovers'));
  set('alarmEmail', str('alarmEmail'));
  /** A schedule as EventBridge takes it (a five-field cron rewritten), or a problem naming the key. */
  const schedule = (key: 'driftCheckSchedule' | 'costCheckSchedule' | 'usageSampleSchedule') => {
    const v = str(key);
    if (!v) return;
    try {
      const parsed = parseSchedule(v);
      if (nextRun(parsed, Date.now()) === undefined) problems.push(`${key}: never runs from now on`);
      else s[key] = toEventBridgeExpression(parsed);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      problems.push(`${key}: ${err.message}`);
    }
  };
  schedule('driftCheckSchedule');
  schedule('costCheckSchedule');
  schedule('usageSampleSchedule');
  const costAws = get('costAws');
  if (costAws !== undefined) {
    if (costAws === true || costAws === 'true') s.costAws = true;
    else if (costAws === false || costAws === 'false') s.costAws = false;
    else problems.push('costAws: true or false');
  }
  const tagKey = str('costTagKey');
  // AWS tag keys: 1-128 letters, digits, spaces and `_ . : / = + - @` (as the Cost Explorer source checks).
  if (tagKey && !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(tagKey)) {
    problems.push('costTagKey: an AWS tag key (1-128 letters, digits, spaces and _ . : / = + - @)');
  }
  set('costTagKey', tagKey);
  const prices = str('costInstancePrices');
  if (prices) {
    try {
      parseInstancePrices(prices);
      s.costInstancePrices = prices;
    } catch (err) {
      if (!(err instanceof PriceConfigError)) throw err;
      problems.push(`costInstancePrices: ${err.message}`);
    }
  }
  set('slackAlertsSecretArn', secretArn('slackAlertsSecretArn'));
  const channel = str('slackChannel');
  if (channel && !/^[CG][A-Z0-9]{8,20}$/.test(channel)) {
    problems.push('slackChannel: must be a channel ID such as C0123ABCD (channel details, at the bottom)');
  }
  set('slackChannel', channel);
  set('toolsets', str('toolsets'));
  // Checked as the functions' own config loader checks AWS_ACCOUNTS and AWS_REGIONS (functionEnvProblems).
  set('awsAccounts', str('awsAccounts'));
  set('awsRegions', str('awsRegions'));
  const impersonate = get('k8sImpersonate');
  if (impersonate !== undefined) {
    if (impersonate === true || impersonate === 'true') s.k8sImpersonate = true;
    else if (impersonate === false || impersonate === 'false') s.k8sImpersonate = false;
    else problems.push('k8sImpersonate: true or false');
  }
  if (s.slackChannel && !s.slackAlertsSecretArn) {
    problems.push('slackAlertsSecretArn: required when slackChannel is set (the secret holds the bot token)');
  }
  const level = str('logLevel');
  if (level) {
    if (['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) s.logLevel = level;
    else problems.push('logLevel: one of trace, debug, info, warn, error, fatal, silent');
  }
  const layout = str('functionLayout');
  if (layout) {
    if ((FUNCTION_LAYOUTS as readonly string[]).includes(layout)) s.functionLayout = layout as FunctionLayout;
    else problems.push(`functionLayout: one of ${FUNCTION_LAYOUTS.join(', ')}`);
  }
  const retention = get('logRetentionDays');
  if (retention !== undefined) {
    const n = Number(retention);
    if (RETENTION_DAYS.includes(n)) s.logRetentionDays = n;
    else problems.push(`logRetentionDays: one of ${RETENTION_DAYS.join(', ')}`);
  }
  if (s.oauthIssuer && !s.oauthJwksUrl) problems.push('oauthJwksUrl: required when oauthIssuer is set');
  if (s.oauthJwksUrl && !s.oauthIssuer) problems.push('oauthIssuer: required when oauthJwksUrl is set');
  if (s.driftCheckSchedule && !s.kubeconfigSecretArn && !s.kubeconfigReadSecretArn) {
    problems.push(
      'driftCheckSchedule: the drift check needs a cluster: set kubeconfigReadSecretArn (preferred) or kubeconfigSecretArn',
    );
  }
  if (s.usageSampleSchedule && !s.kubeconfigSecretArn && !s.kubeconfigReadSecretArn) {
    problems.push(
      'usageSampleSchedule: the usage sampler needs a cluster: set kubeconfigReadSecretArn (preferred) or kubeconfigSecretArn',
    );
  }
  if (s.costCheckSchedule && !s.costAws && !s.kubeconfigSecretArn && !s.kubeconfigReadSecretArn) {
    problems.push(
      'costCheckSchedule: the cost check has nothing to judge: set costAws (Cost Explorer) and/or a kubeconfig secret (namespace budgets from usage samples)',
    );
  }
  if (s.slackApprovers) {
    try {
      const parsed = JSON.parse(s.slackApprovers) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    } catch {
      problems.push('slackApprovers: must be a JSON object of Slack user id -> {"subject": ..., "name": ...}');
    }
    if (!s.slackSigningSecretArn) problems.push('slackSigningSecretArn: required when slackApprovers is set');
  }
  const policyFile = str('policyFile');
  if (policyFile) {
    const abs = isAbsolute(policyFile) ? policyFile : join(repoRoot, policyFile);
    if (!existsSync(abs)) problems.push(`policyFile: ${abs} does not exist`);
    else {
      try {
        loadPolicy(abs);
        s.policyFile = abs;
      } catch (err) {
        problems.push(`policyFile: ${(err as Error).message.replace(/\s+/g, ' ')}`);
      }
    }
  }
  // Last, what the functions themselves will make of it: each one's config loader on the exact
  // environment the stack gives it. A key already reported above is not reported twice.
  const reported = new Set(problems.map((p) => p.slice(0, p.indexOf(':'))));
  const flows = readdirSync(join(repoRoot, 'shared', 'workflows'))
    .filter((f) => f.endsWith('.asl.json'))
    .map((f) => f.replace(/\.asl\.json$/, ''));
  for (const p of functionEnvProblems(s, flows)) {
    if (!reported.has(p.slice(0, p.indexOf(':')))) problems.push(p);
  }
  if (problems.length) throw new SettingsError(`Invalid CDK context:\n  ${problems.join('\n  ')}`);
  return s;
}
