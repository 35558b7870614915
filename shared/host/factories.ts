import type { Config } from '../config/config.ts';
import type { Clock } from '../ports/clock.ts';
import type { CloudInventory } from '../ports/cloud.ts';
import type { CostSource } from '../ports/cost.ts';
import type { Clusters } from '../ports/kube.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { SecretReader } from '../ports/secrets.ts';

/*
 * What a cloud host (functions/ on AWS, gcp-functions/ on GCP) plugs into the shared host kit: one
 * factory per reach, so each function's bundle carries only the clients of what it reaches.
 */

/** A function's environment. */
export type Env = Record<string, string | undefined>;

/** How a function reaches its clusters: the kubeconfig in a secret plus the discovered clusters. */
export type ClustersFactory = (config: Config, env: Env, secrets: SecretReader) => Promise<Clusters>;

/** Builds a function's notifier; undefined: alerts are recorded in the outbox but not sent. */
export type NotifierFactory = (env: Env, secrets: SecretReader, clock?: Clock) => Promise<Notifier | undefined>;

/** The clouds a function reaches (the cloud toolsets, cloud drift). */
export type CloudFactory = (config: Config, env: Env) => CloudInventory;

/** The spend sources a function reads (the cost toolset and check). */
export type CostSourcesFactory = (config: Config, env: Env) => readonly CostSource[];
