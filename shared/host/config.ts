import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import type { Env } from './factories.ts';

/** A setting whose value must take the cloud's own form (an ARN, a resource name). */
export interface SettingForm {
  name: string;
  value: (config: Config, env: Env) => string | undefined;
  form: RegExp;
  what: string;
}

/**
 * Config for a cloud function: the shared schema over `env` with `forced` settings laid over it (the
 * store, AUTH), then the settings the function cannot run without (`required`; `present` says when
 * one counts as given) and the cloud's forms of its identifiers, each failure named with `cloud`
 * (`X: required on AWS`, `X: must be … on GCP`). `problems` adds a host's own checks. Every missing
 * or bad setting is reported at once.
 */
export function loadHostConfig(
  env: Env,
  opts: {
    cloud: string;
    forced: Env;
    required: readonly string[];
    present?: (name: string) => boolean;
    forms: readonly SettingForm[];
    problems?: (config: Config) => string[];
  },
): Config {
  const present = opts.present ?? ((name: string) => Boolean(env[name]?.trim()));
  const missing = opts.required.filter((name) => !present(name)).map((name) => `${name}: required on ${opts.cloud}`);
  let config: Config;
  try {
    config = loadConfig({ ...env, ...opts.forced });
  } catch (err) {
    if (err instanceof ConfigError && missing.length)
      throw new ConfigError(`${err.message}\n  ${missing.join('\n  ')}`);
    throw err;
  }
  const problems = [
    ...missing,
    ...(opts.problems?.(config) ?? []),
    ...opts.forms
      .filter((f) => {
        const v = f.value(config, env);
        return v !== undefined && !f.form.test(v);
      })
      .map((f) => `${f.name}: must be ${f.what} on ${opts.cloud}`),
  ];
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
