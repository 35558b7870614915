import { readFileSync } from 'node:fs';
import { defaultPolicy, type Policy, parsePolicy } from '../domain/guardrails/index.ts';
import { ConfigError } from './config.ts';

/** The guardrail policy for a host: POLICY_FILE when set, else the built-in default. */
export function loadPolicy(path: string | undefined): Policy {
  if (!path) return defaultPolicy();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  POLICY_FILE: cannot read ${path} (${(err as Error).message})`);
  }
  try {
    return parsePolicy(text);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  POLICY_FILE ${path}: ${(err as Error).message}`);
  }
}
