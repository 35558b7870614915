import { Document } from 'yaml';
import {
  assertValid,
  pathKeys,
  type RetryPolicy,
  type State,
  type StatePath,
  type WorkflowDefinition,
} from './model.ts';

/**
 * Google Cloud Workflows. Each task is an authenticated (OIDC) `http.post` of `{ step, input }` to
 * the workflow-step function, whose URL the deployment sets as the workflow's WORKFLOW_STEP_URL
 * environment variable. The function answers 200 with the step's output, or an error status with
 * `{ "Error": <name>, "Cause": <message> }` (the names Step Functions sees), so retries and catches
 * decide on the same error names on both clouds:
 *   - transient: the step's TransientError (predicate `transient_error`);
 *   - platform: no step answer at all: HTTP 429 or 5xx without an Error body, or no connection
 *     (predicate `platform_error`);
 *   - catch: `try`/`except`, the error stored as `{ Error, Cause }` (subworkflow `step_error`).
 * Choices become `switch`, waits `sys.sleep`, Succeed `return`, Fail `raise`. Workflows has no
 * execution timeout to set per definition: the steps' own deadline (ROLLOUT_LIMITS) ends a rollout.
 */
export const STEP_URL_ENV = 'WORKFLOW_STEP_URL';

const PREDICATES: Record<RetryPolicy['on'], string> = { transient: 'transient_error', platform: 'platform_error' };

type Step = Record<string, unknown>;

const expr = (e: string) => `\${${e}}`;

/** `$.a.b` -> `state.a.b` (an expression over the execution's state variable). */
function ref(path: StatePath): string {
  return ['state', ...pathKeys(path)].join('.');
}

function backoff(r: RetryPolicy) {
  return {
    predicate: expr(PREDICATES[r.on]),
    max_retries: r.maxAttempts,
    backoff: {
      initial_delay: r.intervalSeconds,
      // The longest delay the policy reaches (Step Functions has no cap; Workflows requires one).
      max_delay: r.intervalSeconds * r.backoffRate ** Math.max(0, r.maxAttempts - 1),
      multiplier: r.backoffRate,
    },
  };
}

function taskSteps(name: string, s: Extract<State, { type: 'task' }>): Step[] {
  const call: Step = {
    call: 'http.post',
    args: {
      url: expr('stepUrl'),
      auth: { type: 'OIDC' },
      timeout: s.timeoutSeconds,
      body: {
        step: s.step,
        input: Object.fromEntries(Object.entries(s.input).map(([k, p]) => [k, expr(ref(p))])),
      },
    },
    result: 'response',
  };
  // One try per retry policy, the first outermost: each retries only what its predicate matches,
  // with its own counter, as Step Functions' Retry list does.
  const n = s.retry.length;
  let outer: Step = { try: call, retry: backoff(s.retry[n - 1] as RetryPolicy) };
  for (let i = n - 2; i >= 0; i--) {
    outer = { try: { steps: [{ [`${name}Retry${i + 1}`]: outer }] }, retry: backoff(s.retry[i] as RetryPolicy) };
  }
  const caught = ref(s.catch.resultPath);
  return [
    {
      [name]: {
        ...outer,
        except: {
          as: 'e',
          steps: [
            { [`${name}Error`]: { call: 'step_error', args: { e: expr('e') }, result: 'caught' } },
            { [`${name}Caught`]: { assign: [{ [caught]: expr('caught') }], next: s.catch.next } },
          ],
        },
      },
    },
    {
      [`${name}Done`]: {
        assign: [{ [ref(s.resultPath)]: expr('response.body') }],
        ...(s.end ? {} : { next: s.next }),
      },
    },
    ...(s.end ? [{ [`${name}End`]: { return: expr('state') } }] : []),
  ];
}

function steps(name: string, s: State): Step[] {
  switch (s.type) {
    case 'task':
      return taskSteps(name, s);
    case 'choice':
      return [
        {
          [name]: {
            switch: s.choices.map((c) => ({
              condition: expr(`${ref(c.variable)} == ${JSON.stringify(c.equals)}`),
              next: c.next,
            })),
            next: s.default,
          },
        },
      ];
    case 'wait':
      return [
        {
          [name]: {
            call: 'sys.sleep',
            args: { seconds: typeof s.seconds === 'number' ? s.seconds : expr(ref(s.seconds)) },
            next: s.next,
          },
        },
      ];
    case 'succeed':
      return [{ [name]: { return: expr('state') } }];
    case 'fail':
      return [{ [name]: { raise: { Error: s.error, Cause: s.cause } } }];
  }
}

/** The subworkflows every generated workflow uses: the two retry predicates and the catch's error shape. */
const SUBWORKFLOWS = {
  transient_error: {
    params: ['e'],
    steps: [{ check: { return: expr('map.get(e, ["body", "Error"]) == "TransientError"') } }],
  },
  platform_error: {
    params: ['e'],
    steps: [
      {
        check: {
          switch: [
            // The step answered: its own error decides (transient_error), not the status code.
            { condition: expr('map.get(e, ["body", "Error"]) != null'), return: false },
            { condition: expr('"ConnectionError" in default(map.get(e, "tags"), [])'), return: true },
            { condition: expr('"ConnectionFailedError" in default(map.get(e, "tags"), [])'), return: true },
            { condition: expr('default(map.get(e, "code"), 0) == 429'), return: true },
            { condition: expr('default(map.get(e, "code"), 0) >= 500'), return: true },
          ],
        },
      },
      { otherwise: { return: false } },
    ],
  },
  step_error: {
    params: ['e'],
    steps: [
      {
        check: {
          switch: [
            {
              condition: expr('map.get(e, ["body", "Error"]) != null'),
              return: { Error: expr('e.body.Error'), Cause: expr('default(map.get(e, ["body", "Cause"]), "")') },
            },
          ],
        },
      },
      {
        other: {
          return: {
            Error: expr('default(map.get(e, "tags"), ["UnknownError"])[0]'),
            Cause: expr('default(map.get(e, "message"), "")'),
          },
        },
      },
    ],
  },
};

/** The Cloud Workflows definition of a flow, as data (what the YAML holds). */
export function toCloudWorkflows(def: WorkflowDefinition): Record<string, unknown> {
  assertValid(def);
  return {
    main: {
      params: ['args'],
      steps: [
        {
          init: {
            assign: [{ state: expr('args') }, { stepUrl: expr(`sys.get_env("${STEP_URL_ENV}")`) }],
            next: def.startAt,
          },
        },
        ...Object.entries(def.states).flatMap(([name, s]) => steps(name, s)),
      ],
    },
    ...SUBWORKFLOWS,
  };
}

/** The YAML file committed as shared/workflows/<flow>.workflows.yaml. */
export function toCloudWorkflowsYaml(def: WorkflowDefinition): string {
  const doc = new Document(toCloudWorkflows(def));
  doc.commentBefore = [
    ` ${def.comment}`,
    ` Generated from shared/workflows/definitions/${def.flow}.ts by scripts/workflows.ts; do not edit.`,
    ` Deploy with the environment variable ${STEP_URL_ENV} set to the workflow-step function's URL.`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
