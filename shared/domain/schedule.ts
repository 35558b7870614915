import { quoted } from './text.ts';

/*
 * Schedule expressions for the scheduled checks (DRIFT_CHECK_SCHEDULE, the CDK's driftCheckSchedule),
 * one syntax for every host: EventBridge Scheduler runs them on AWS, the local host's timer runs them
 * in process. Accepted, all in UTC:
 * - `rate(5 minutes)`: EventBridge's rate form (minute/minutes, hour/hours, day/days; singular for 1);
 * - `cron(0/5 * * * ? *)`: EventBridge's six fields (minutes hours day-of-month month day-of-week year,
 *   day-of-week 1-7 = SUN-SAT, a `?` in exactly one of the two day fields), with EventBridge's own
 *   rules of which field takes which of `, - * ? /`;
 * - `*\/5 * * * *`: plain five-field cron (minute hour day-of-month month day-of-week, day-of-week
 *   0-7 with 0 and 7 = Sunday); both day fields restricted means either may match, as cron does.
 * EventBridge's `L`, `W` and `#` are refused by name (the local timer could not run them), so a
 * setting that works on one host works on the other. Pure code: the domain imports no library, and
 * each of these rules is a few lines.
 * Reference: docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** Parsed schedule text is short; anything longer is not a schedule. */
export const SCHEDULE_MAX_CHARS = 256;

interface CronFields {
  minutes: boolean[];
  hours: boolean[];
  /** Index 1..31. */
  daysOfMonth: boolean[];
  /** Index 1..12. */
  months: boolean[];
  /** Index 0..6, 0 = Sunday. */
  daysOfWeek: boolean[];
  /** Absent: every year. */
  years?: { from: number; to: number; set: Set<number> };
  /** Whether each day field names particular days (`*` and `?` do not). */
  domRestricted: boolean;
  dowRestricted: boolean;
}

export type Schedule =
  | { kind: 'rate'; expression: string; everyMs: number }
  | { kind: 'cron'; expression: string; syntax: 'eventbridge' | 'cron5'; fields: CronFields };

const MINUTE = 60_000;
const UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  /** Names standing for values (JAN = 1 ...). */
  names?: Record<string, number>;
  allowQuestion?: boolean;
  allowStep?: boolean;
}

const bad = (text: string, why: string) => new ScheduleError(`${JSON.stringify(quoted(text, 80))}: ${why}`);

/** Parses one schedule expression; throws ScheduleError saying what is wrong and what is accepted. */
export function parseSchedule(input: string): Schedule {
  const text = input.trim();
  if (text.length === 0)
    throw new ScheduleError('empty schedule: use rate(5 minutes), cron(0/5 * * * ? *) or */5 * * * *');
  if (text.length > SCHEDULE_MAX_CHARS) throw bad(text, `longer than ${SCHEDULE_MAX_CHARS} characters`);
  const rate = /^rate\((.*)\)$/s.exec(text);
  if (rate) return parseRate(text, rate[1] ?? '');
  const cron = /^cron\((.*)\)$/s.exec(text);
  if (cron) return parseEventBridgeCron(text, cron[1] ?? '');
  if (/^at\(/.test(text)) throw bad(text, 'one-time at(...) schedules are not for checks; use rate(...) or cron(...)');
  if (/^[a-z]+\(/i.test(text)) throw bad(text, 'unknown form; use rate(5 minutes), cron(0/5 * * * ? *) or */5 * * * *');
  return parseCron5(text);
}

function parseRate(text: string, body: string): Schedule {
  const m = /^\s*(\d{1,6})\s+([a-z]+)\s*$/.exec(body);
  if (!m) throw bad(text, 'expected rate(<value> <unit>), e.g. rate(5 minutes), rate(1 hour)');
  const value = Number(m[1]);
  const unit = m[2] ?? '';
  const singular = unit.replace(/s$/, '');
  const ms = UNITS[singular];
  if (!ms) throw bad(text, `unit must be minute(s), hour(s) or day(s), not ${JSON.stringify(unit)}`);
  if (value < 1) throw bad(text, 'the value must be a positive whole number');
  // EventBridge's own rule: "1 minute" but "5 minutes".
  if (value === 1 && unit !== singular) throw bad(text, `use the singular for 1: rate(1 ${singular})`);
  if (value > 1 && unit === singular) throw bad(text, `use the plural for ${value}: rate(${value} ${singular}s)`);
  const everyMs = value * ms;
  if (everyMs > 366 * UNITS.day!) throw bad(text, 'at most once a year (366 days)');
  return { kind: 'rate', expression: text, everyMs };
}

const rangeOf = (n: number) => Array.from({ length: n }, () => false);

function parseEventBridgeCron(text: string, body: string): Schedule {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw bad(
      text,
      'cron(...) takes six fields: minutes hours day-of-month month day-of-week year, e.g. cron(0/5 * * * ? *)',
    );
  }
  const [mi, h, dom, mo, dow, y] = parts as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw bad(text, 'put ? in exactly one of day-of-month and day-of-week (EventBridge cannot combine them)');
  }
  const years = y === '*' ? undefined : field(text, y, { label: 'year', min: 1970, max: 2199, allowStep: true });
  return {
    kind: 'cron',
    expression: text,
    syntax: 'eventbridge',
    fields: {
      minutes: field(text, mi, { label: 'minutes', min: 0, max: 59, allowStep: true }).flags,
      hours: field(text, h, { label: 'hours', min: 0, max: 23, allowStep: true }).flags,
      daysOfMonth: field(text, dom, { label: 'day-of-month', min: 1, max: 31, allowQuestion: true, allowStep: true })
        .flags,
      months: field(text, mo, { label: 'month', min: 1, max: 12, names: names(MONTH_NAMES, 1), allowStep: true }).flags,
      // EventBridge numbers the days 1-7 from Sunday; kept 0-6 here. No step: EventBridge takes none there.
      daysOfWeek: field(text, dow, {
        label: 'day-of-week',
        min: 1,
        max: 7,
        names: names(DAY_NAMES, 1),
        allowQuestion: true,
      }).flags.slice(1),
      ...(years ? { years: { from: 1970, to: 2199, set: new Set(indexes(years.flags)) } } : {}),
      domRestricted: dom !== '?' && dom !== '*',
      dowRestricted: dow !== '?' && dow !== '*',
    },
  };
}

function parseCron5(text: string): Schedule {
  const parts = text.split(/\s+/);
  if (parts.length !== 5) {
    throw bad(
      text,
      'not a schedule: use rate(5 minutes), cron(0/5 * * * ? *) (EventBridge, six fields) or five-field cron such as */5 * * * *',
    );
  }
  const [mi, h, dom, mo, dow] = parts as [string, string, string, string, string];
  const week = field(text, dow, {
    label: 'day-of-week',
    min: 0,
    max: 7,
    names: names(DAY_NAMES, 0),
    allowStep: true,
  }).flags;
  // 7 is Sunday too.
  const daysOfWeek = week.slice(0, 7).map((v, i) => v || (i === 0 && week[7] === true));
  return {
    kind: 'cron',
    expression: text,
    syntax: 'cron5',
    fields: {
      minutes: field(text, mi, { label: 'minute', min: 0, max: 59, allowStep: true }).flags,
      hours: field(text, h, { label: 'hour', min: 0, max: 23, allowStep: true }).flags,
      daysOfMonth: field(text, dom, { label: 'day-of-month', min: 1, max: 31, allowStep: true }).flags,
      months: field(text, mo, { label: 'month', min: 1, max: 12, names: names(MONTH_NAMES, 1), allowStep: true }).flags,
      daysOfWeek,
      domRestricted: dom !== '*',
      dowRestricted: dow !== '*',
    },
  };
}

const names = (list: string[], first: number) => Object.fromEntries(list.map((n, i) => [n, i + first]));
const indexes = (flags: boolean[]) => flags.flatMap((v, i) => (v ? [i] : []));

/** One field: `*`, `?`, or a list of `n`, `a-b`, `*\/s`, `n/s`, `a-b/s`. Flags indexed by value (0..max). */
function field(text: string, src: string, spec: FieldSpec): { flags: boolean[] } {
  const flags = rangeOf(spec.max + 1);
  const where = `${spec.label} ${JSON.stringify(quoted(src, 40))}`;
  if (src === '?') {
    if (!spec.allowQuestion) throw bad(text, `${where}: ? is allowed only in day-of-month or day-of-week of cron(...)`);
    for (let v = spec.min; v <= spec.max; v++) flags[v] = true;
    return { flags };
  }
  for (const item of src.split(',')) {
    const upper = item.toUpperCase();
    if (upper.includes('#') || (/[LW]/.test(upper) && !/^[A-Z]{3}(-[A-Z]{3})?(\/\d+)?$/.test(upper))) {
      throw bad(text, `${where}: L, W and # are not supported here; name the days explicitly`);
    }
    const m = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d{1,4}))?$/.exec(item);
    if (!m) throw bad(text, `${where}: ${JSON.stringify(quoted(item, 40))} is not a value, range or step`);
    const [, base = '', stepText] = m;
    if (stepText !== undefined && !spec.allowStep) throw bad(text, `${where}: steps (/) are not allowed in this field`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw bad(text, `${where}: a step must be at least 1`);
    let from: number;
    let to: number;
    if (base === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const [a = '', b] = base.split('-');
      from = value(text, where, a, spec);
      // `n/s` runs from n to the end of the range, as cron and EventBridge both read it.
      to = b !== undefined ? value(text, where, b, spec) : stepText !== undefined ? spec.max : from;
      if (to < from) throw bad(text, `${where}: range ${base} runs backwards`);
    }
    for (let v = from; v <= to; v += step) flags[v] = true;
  }
  return { flags };
}

function value(text: string, where: string, token: string, spec: FieldSpec): number {
  const named = spec.names?.[token.toUpperCase()];
  if (named !== undefined) return named;
  if (!/^\d{1,4}$/.test(token)) {
    if (/[LW#]/i.test(token)) throw bad(text, `${where}: L, W and # are not supported here; name the days explicitly`);
    throw bad(text, `${where}: ${JSON.stringify(quoted(token, 20))} is not a number${spec.names ? ' or a name' : ''}`);
  }
  const n = Number(token);
  if (n < spec.min || n > spec.max) throw bad(text, `${where}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/**
 * The first run strictly after `afterMs` (UTC), or undefined when the schedule has none (a cron whose
 * days never occur, years all past). A rate runs every `everyMs` from `afterMs`, so a host that runs
 * it asks again after each run.
 */
export function nextRun(s: Schedule, afterMs: number): number | undefined {
  if (s.kind === 'rate') return afterMs + s.everyMs;
  const f = s.fields;
  let t = (Math.floor(afterMs / MINUTE) + 1) * MINUTE;
  // Each step moves to the start of the next candidate year, month, day, hour or minute: at most a few
  // thousand steps over the 230 years EventBridge allows.
  for (let i = 0; i < 100_000; i++) {
    const d = new Date(t);
    const year = d.getUTCFullYear();
    if (year > 2199) return undefined;
    if (f.years && !f.years.set.has(year)) {
      if (year > Math.max(...f.years.set)) return undefined;
      t = Date.UTC(year + 1, 0, 1);
      continue;
    }
    const month = d.getUTCMonth() + 1;
    if (!f.months[month]) {
      t = Date.UTC(year, month, 1);
      continue;
    }
    if (!dayMatches(f, d)) {
      t = Date.UTC(year, month - 1, d.getUTCDate() + 1);
      continue;
    }
    if (!f.hours[d.getUTCHours()]) {
      t = Date.UTC(year, month - 1, d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!f.minutes[d.getUTCMinutes()]) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}

function dayMatches(f: CronFields, d: Date): boolean {
  const dom = f.daysOfMonth[d.getUTCDate()] === true;
  const dow = f.daysOfWeek[d.getUTCDay()] === true;
  // cron's rule: with both day fields restricted, either one matching is enough.
  if (f.domRestricted && f.dowRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The expression EventBridge Scheduler takes for a schedule: rate and cron(...) as given; a five-field
 * cron rewritten in EventBridge's six fields (days of the week numbered 1-7, `?` in the unrestricted day
 * field). Both day fields restricted (cron's "either") has no EventBridge form: refused.
 */
export function toEventBridgeExpression(s: Schedule): string {
  if (s.kind === 'rate' || s.syntax === 'eventbridge') return s.expression;
  const [mi, h, dom, mo] = s.expression.split(/\s+/) as [string, string, string, string];
  if (s.fields.domRestricted && s.fields.dowRestricted) {
    throw bad(
      s.expression,
      'restricts both day-of-month and day-of-week, which EventBridge cannot express; write it as two schedules or use cron(...)',
    );
  }
  const days = indexes(s.fields.daysOfWeek).map((d) => d + 1);
  const week = s.fields.dowRestricted ? compact(days) : '?';
  return `cron(${mi} ${h} ${s.fields.dowRestricted ? '?' : dom} ${mo} ${week} *)`;
}

/** 1,2,3,5 -> 1-3,5 */
function compact(values: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === (values[j] ?? 0) + 1) j++;
    out.push(j > i ? `${values[i]}-${values[j]}` : String(values[i]));
    i = j + 1;
  }
  return out.join(',');
}
