// Label and field selectors: the query-string syntax and metav1.LabelSelector objects.
import { asArray, asRecord, asString, asStringMap, getIn, isRecord } from './json.ts';
import { badRequest } from './status.ts';
import type { KubeObject, ResourceType } from './types.ts';

export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  return key;
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  return splitTopLevel(text).map((raw): LabelRequirement => {
    let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(raw);
    if (m) {
      const values = (m[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return { key: checkKey(m[1] ?? '', raw), operator: m[2] === 'in' ? 'In' : 'NotIn', values };
    }
    m = /^!\s*(\S+)$/.exec(raw);
    if (m) return { key: checkKey(m[1] ?? '', raw), operator: 'DoesNotExist', values: [] };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(raw);
    if (m) {
      const key = checkKey(m[1] ?? '', raw);
      return { key, operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3] ?? ''] };
    }
    if (/^\S+$/.test(raw)) return { key: checkKey(raw, raw), operator: 'Exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${raw}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    switch (req.operator) {
      case 'In':
        if (value === undefined || !req.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && req.values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** Converts a metav1.LabelSelector object; undefined when it is not an object. */
export function labelSelectorFromObject(value: unknown): LabelSelector | undefined {
  const sel = asRecord(value);
  if (!sel) return undefined;
  const reqs: LabelSelector = [];
  for (const [key, v] of Object.entries(asStringMap(sel.matchLabels))) reqs.push({ key, operator: 'In', values: [v] });
  for (const expr of asArray(sel.matchExpressions)) {
    if (!isRecord(expr)) continue;
    const key = asString(expr.key) ?? '';
    const op = asString(expr.operator);
    const values = asArray(expr.values).filter((x): x is string => typeof x === 'string');
    if (op === 'In' || op === 'NotIn' || op === 'Exists' || op === 'DoesNotExist') {
      reqs.push({ key, operator: op, values });
    }
  }
  return reqs;
}

/** `app=web,tier in (a,b)`: the string form the Scale subresource reports in status.selector. */
export function labelSelectorToString(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
      return '';
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(text: string | null | undefined, rt: ResourceType): FieldRequirement[] {
  if (!text) return [];
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((raw) => {
      const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(raw);
      if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
      const field = (m[1] ?? '').trim();
      if (field !== 'metadata.name' && field !== 'metadata.namespace' && !rt.fieldSelectors.includes(field)) {
        throw badRequest(`field label not supported: ${field}`);
      }
      return { field, op: m[2] === '!=' ? '!=' : '=', value: (m[3] ?? '').trim() };
    });
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') return asString(getIn(obj, ['source', 'component'])) ?? '';
  const value = getIn(obj, field.split('.'));
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

export function matchesFields(reqs: readonly FieldRequirement[], obj: KubeObject): boolean {
  for (const r of reqs) {
    const actual = fieldValue(obj, r.field);
    if (r.op === '=' ? actual !== r.value : actual === r.value) return false;
  }
  return true;
}

export interface Predicate {
  labels: LabelSelector;
  fields: FieldRequirement[];
}

export function isEmptyPredicate(p: Predicate): boolean {
  return p.labels.length === 0 && p.fields.length === 0;
}

export function matchesPredicate(p: Predicate, obj: KubeObject): boolean {
  return matchesLabels(p.labels, obj.metadata.labels) && matchesFields(p.fields, obj);
}
