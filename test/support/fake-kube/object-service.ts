// Generic resource operations with API-server semantics: create, read, list (selectors + paging),
// update (optimistic concurrency, generation, status subresource), delete (garbage collection).
// Used by the HTTP layer and by the in-process controller.
import { randomInt, randomUUID } from 'node:crypto';
import { applyDefaults, initialStatus } from './defaults.ts';
import { eventFieldToCore, eventFromV1, eventToV1 } from './event-conversion.ts';
import { asRecord, asString, clone, deepEqual, isRecord, type JsonRecord, timestamp } from './json.ts';
import { type FieldScope, recordUpdate, typeContext } from './managed-fields.ts';
import type { ResourceRegistry } from './resources.ts';
import { CrdError } from './resources.ts';
import {
  isEmptyPredicate,
  matchesPredicate,
  type Predicate,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  failure,
  invalid,
  invalidValue,
  type KubeApiError,
  notFound,
  qualifiedResource,
  successStatus,
} from './status.ts';
import { type ObjectStore, objectKey, type WriteOrigin } from './store.ts';
import type { KubeList, KubeObject, KubeStatus, ManagedFieldsEntry, ResourceType } from './types.ts';
import { validateObject } from './validation.ts';

export interface WriteContext {
  origin: WriteOrigin;
  manager: string;
  dryRun: boolean;
}

export interface UpdateOptions {
  subresource?: 'status' | 'scale';
  /** managedFields were already computed by server-side apply. */
  applied?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  preconditions?: { resourceVersion?: string; uid?: string };
}

export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return out;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, lastKey: string): string {
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isRecord(parsed) && typeof parsed.rv === 'number' && typeof parsed.start === 'string') {
      return { v: String(parsed.v), rv: parsed.rv, start: parsed.start };
    }
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: illegal base64 data or malformed JSON');
}

/** Everything the server compares to decide whether a write changed the spec (and bumps generation). */
function specPart(obj: KubeObject, rt: ResourceType): JsonRecord {
  const hasStatusSub = rt.subresources.some((s) => s.name === 'status');
  const out: JsonRecord = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && (hasStatusSub || rt.builtIn)) continue;
    out[k] = v;
  }
  return out;
}

/** managedFields is omitted, not empty, when nobody owns a field. */
function setManagedFields(obj: KubeObject, entries: ManagedFieldsEntry[]): void {
  if (entries.length > 0) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

/** A failed delete precondition: NewConflict(GroupResource{Group: gvk.Group, Resource: gvk.Kind}, name, err). */
function preconditionConflict(rt: ResourceType, name: string, why: string): KubeApiError {
  const resource = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
  return failure(409, `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, 'Conflict', {
    name,
    ...(rt.group ? { group: rt.group } : {}),
    kind: rt.kind,
  });
}

function withoutVolatile(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

export class ObjectService {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  private nextServiceIp = 10;
  private nextNodePort = 30000;

  constructor(store: ObjectStore, registry: ResourceRegistry) {
    this.store = store;
    this.registry = registry;
  }

  keyOf(rt: ResourceType, namespace: string | undefined, name: string): string {
    return objectKey(rt.namespaced ? namespace : undefined, name);
  }

  /** The object as served for `rt`: kind and apiVersion set, events converted for events.k8s.io. */
  present(rt: ResourceType, obj: KubeObject): KubeObject {
    const converted = rt.group === 'events.k8s.io' ? eventToV1(obj) : obj;
    const { apiVersion: _a, kind: _k, ...rest } = converted;
    return { kind: rt.kind, apiVersion: rt.apiVersion, ...rest } as KubeObject;
  }

  /** Typed lists of built-in types carry items without kind/apiVersion; custom resource lists keep them. */
  presentListItem(rt: ResourceType, obj: KubeObject): KubeObject {
    if (!rt.builtIn) return this.present(rt, obj);
    const converted = rt.group === 'events.k8s.io' ? eventToV1(obj) : obj;
    const { apiVersion: _a, kind: _k, ...rest } = converted;
    return rest as KubeObject;
  }

  toStorageForm(rt: ResourceType, body: JsonRecord): KubeObject {
    const obj = (rt.group === 'events.k8s.io' ? eventFromV1(body as KubeObject) : body) as KubeObject;
    if (!isRecord(obj.metadata)) obj.metadata = {};
    const stored = this.registry.forStorage(rt.storage) ?? rt;
    obj.apiVersion = stored.apiVersion;
    obj.kind = stored.kind;
    return obj;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(rt.storage, this.keyOf(rt, namespace, name));
    if (!obj) throw notFound(rt, name);
    return obj;
  }

  find(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(rt.storage, this.keyOf(rt, namespace, name));
  }

  predicate(rt: ResourceType, labelSelector?: string | null, fieldSelector?: string | null): Predicate {
    const fields = parseFieldSelector(fieldSelector, rt);
    if (rt.group === 'events.k8s.io') for (const f of fields) f.field = eventFieldToCore(f.field);
    return { labels: parseLabelSelector(labelSelector), fields };
  }

  list(rt: ResourceType, namespace: string | undefined, query: ListQuery): KubeList {
    const pred = this.predicate(rt, query.labelSelector, query.fieldSelector);
    const token = query.continueToken ? decodeContinue(query.continueToken) : undefined;
    const after = token ? (token.start.endsWith('\u0000') ? token.start.slice(0, -1) : token.start) : undefined;
    const listRv = token ? token.rv : this.store.resourceVersion();
    const limit = query.limit !== undefined && query.limit > 0 ? query.limit : undefined;
    const scan = {
      ...(rt.namespaced && namespace !== undefined ? { namespace } : {}),
      ...(after !== undefined ? { after } : {}),
    };
    const items: KubeObject[] = [];
    let lastKey: string | undefined;
    let hasMore = false;
    for (const [key, obj] of this.store.scan(rt.storage, scan)) {
      if (!matchesPredicate(pred, obj)) continue;
      if (limit !== undefined && items.length >= limit) {
        hasMore = true;
        break;
      }
      items.push(this.presentListItem(rt, obj));
      lastKey = key;
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(listRv) };
    if (hasMore && lastKey !== undefined) {
      metadata.continue = encodeContinue(listRv, lastKey);
      if (isEmptyPredicate(pred)) {
        const remainingScan = { ...scan, after: lastKey };
        metadata.remainingItemCount = this.store.countAfter(rt.storage, remainingScan);
      }
    }
    return { kind: rt.listKind, apiVersion: rt.apiVersion, metadata, items };
  }

  // ------------------------------------------------------------------ create

  create(
    rt: ResourceType,
    namespace: string | undefined,
    body: unknown,
    ctx: WriteContext,
    opts: { applied?: boolean } = {},
  ): KubeObject {
    if (!isRecord(body)) throw badRequest('Object is not a JSON object');
    this.checkTypeMeta(rt, body);
    const obj = this.toStorageForm(rt, clone(body));
    this.resolveNamespace(rt, obj, namespace);
    // NamespaceLifecycle admission runs before validation, dry runs included: a namespaced object in
    // a namespace that does not exist is 404 `namespaces "x" not found`, whatever else is wrong.
    if (rt.namespaced) {
      const ns = this.store.get('namespaces', obj.metadata.namespace ?? '');
      if (!ns) throw notFound({ plural: 'namespaces', group: '' }, obj.metadata.namespace ?? '');
      if (ns.metadata.deletionTimestamp) throw namespaceTerminating(rt, obj);
    }
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    }
    applyDefaults(obj, rt);
    if (rt.subresources.some((s) => s.name === 'status')) {
      const status = initialStatus(obj, rt);
      if (status === undefined) delete obj.status;
      else obj.status = status;
    }
    this.validate(rt, obj);
    const name = obj.metadata.name as string;
    const key = this.keyOf(rt, obj.metadata.namespace, name);
    if (this.store.get(rt.storage, key)) throw alreadyExists(rt, name);
    const meta = obj.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (rt.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    this.beforeCreate(rt, obj);
    if (!opts.applied) setManagedFields(obj, recordUpdate(undefined, obj, this.updateOpts(rt, ctx, 'main')));
    if (ctx.dryRun) return obj;
    return this.store.create(rt.storage, key, obj, ctx.origin);
  }

  private checkTypeMeta(rt: ResourceType, body: JsonRecord): void {
    const apiVersion = asString(body.apiVersion);
    if (apiVersion && apiVersion !== rt.apiVersion) {
      throw badRequest(
        `the API version in the data (${apiVersion}) does not match the expected API version (${rt.apiVersion})`,
      );
    }
    const kind = asString(body.kind);
    if (kind && kind !== rt.kind) {
      throw badRequest(`the kind in the data (${kind}) does not match the expected kind (${rt.kind})`);
    }
  }

  private resolveNamespace(rt: ResourceType, obj: KubeObject, namespace: string | undefined): void {
    if (!rt.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    const given = obj.metadata.namespace;
    if (given && namespace && given !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace ?? given ?? 'default';
  }

  private validate(rt: ResourceType, obj: KubeObject, old?: KubeObject): void {
    const errors = validateObject(obj, rt, old);
    if (rt.kind === 'CustomResourceDefinition' && errors.length === 0) {
      try {
        this.registry.checkCrd(obj);
      } catch (err) {
        if (err instanceof CrdError) errors.push(invalidValue(err.field, err.value, err.message));
        else throw err;
      }
    }
    if (errors.length > 0) throw invalid(rt.kind, rt.group, obj.metadata.name ?? '', errors);
  }

  private beforeCreate(rt: ResourceType, obj: KubeObject): void {
    if (!rt.builtIn) return;
    if (rt.kind === 'Service') this.allocateService(obj);
    if (rt.kind === 'CustomResourceDefinition') obj.status = this.crdStatus(obj);
  }

  private allocateService(obj: KubeObject): void {
    const spec = asRecord(obj.spec);
    if (!spec) return;
    if (spec.type !== 'ExternalName' && spec.clusterIP === undefined) {
      const n = this.nextServiceIp++;
      spec.clusterIP = `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    }
    if (typeof spec.clusterIP === 'string' && spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
    if (spec.type !== 'ExternalName') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (isRecord(p) && p.nodePort === undefined) p.nodePort = this.nextNodePort++;
      }
    }
  }

  private crdStatus(crd: KubeObject): JsonRecord {
    const now = timestamp();
    const spec = asRecord(crd.spec);
    const versions = Array.isArray(spec?.versions) ? spec.versions : [];
    const storage = versions.find((v) => isRecord(v) && v.storage === true);
    return {
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          lastTransitionTime: now,
          reason: 'NoConflicts',
          message: 'no conflicts found',
        },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: now,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: clone(spec?.names ?? {}),
      storedVersions: isRecord(storage) && typeof storage.name === 'string' ? [storage.name] : [],
    };
  }

  // ------------------------------------------------------------------ update

  replace(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    ctx: WriteContext,
    opts: UpdateOptions = {},
  ): KubeObject {
    if (!isRecord(body)) throw badRequest('Object is not a JSON object');
    this.checkTypeMeta(rt, body);
    const incoming = this.toStorageForm(rt, clone(body));
    if (incoming.metadata.name && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (rt.namespaced && incoming.metadata.namespace && namespace && incoming.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const old = this.get(rt, namespace, name);
    return this.update(rt, old, incoming, ctx, opts);
  }

  /** Writes `incoming` over `old` with the checks and bookkeeping of an update. */
  update(
    rt: ResourceType,
    old: KubeObject,
    incoming: KubeObject,
    ctx: WriteContext,
    opts: UpdateOptions = {},
  ): KubeObject {
    const name = old.metadata.name as string;
    const wantRv = incoming.metadata.resourceVersion;
    if (wantRv && wantRv !== old.metadata.resourceVersion) throw conflict(rt, name);
    if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
      throw failure(
        409,
        `Precondition failed: UID in precondition: ${incoming.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
        'Conflict',
        { name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural },
      );
    }
    const hasStatusSub = rt.subresources.some((s) => s.name === 'status');
    let next: KubeObject;
    if (opts.subresource === 'status') {
      next = { ...clone(old), status: clone(incoming.status) };
      if (incoming.metadata.managedFields) next.metadata.managedFields = incoming.metadata.managedFields;
    } else {
      next = incoming;
      next.metadata = {
        ...incoming.metadata,
        name,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
      };
      if (old.metadata.namespace) next.metadata.namespace = old.metadata.namespace;
      if (old.metadata.deletionTimestamp) next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      if (old.metadata.generation !== undefined) next.metadata.generation = old.metadata.generation;
      if (hasStatusSub) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
      applyDefaults(next, rt);
      // Compare against the old object as it would have been defaulted (seeded objects may lack defaults).
      const oldDefaulted = clone(old);
      applyDefaults(oldDefaulted, rt);
      this.validate(rt, next, oldDefaulted);
      if (rt.hasGeneration && !deepEqual(specPart(old, rt), specPart(next, rt))) {
        next.metadata.generation = (old.metadata.generation ?? 0) + 1;
      }
    }
    if (!opts.applied) {
      const scope: FieldScope = opts.subresource === 'status' ? 'status' : 'main';
      setManagedFields(next, recordUpdate(old, next, this.updateOpts(rt, ctx, scope, opts.subresource)));
    }
    if (
      deepEqual(withoutVolatile(old), withoutVolatile(next)) &&
      deepEqual(old.metadata.managedFields, next.metadata.managedFields)
    ) {
      return old;
    }
    if (ctx.dryRun) {
      next.metadata.resourceVersion = old.metadata.resourceVersion;
      return next;
    }
    return this.store.update(rt.storage, this.keyOf(rt, old.metadata.namespace, name), next, ctx.origin);
  }

  /** The pods/binding write the scheduler makes: sets spec.nodeName without pod update validation. */
  bindPod(rt: ResourceType, pod: KubeObject, nodeName: string, ctx: WriteContext): KubeObject {
    const next = clone(pod);
    next.spec = { ...(asRecord(next.spec) ?? {}), nodeName };
    setManagedFields(next, recordUpdate(pod, next, this.updateOpts(rt, ctx, 'main')));
    return this.store.update(
      rt.storage,
      this.keyOf(rt, pod.metadata.namespace, pod.metadata.name ?? ''),
      next,
      ctx.origin,
    );
  }

  private updateOpts(rt: ResourceType, ctx: WriteContext, scope: FieldScope, subresource?: string) {
    return {
      manager: ctx.manager,
      apiVersion: rt.apiVersion,
      scope,
      ctx: typeContext(rt),
      ...(subresource ? { subresource } : {}),
    };
  }

  // ------------------------------------------------------------------ delete

  /** Deletes an object and its dependents; returns the response body the real server sends. */
  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): KubeObject | KubeStatus {
    const old = this.get(rt, namespace, name);
    const pre = opts.preconditions;
    // rest.BeforeDelete (k8s.io/apiserver/pkg/registry/rest/delete.go) checks the uid, then the
    // resourceVersion, and answers 409 Conflict naming the resource by Kind.group (from the object's
    // kind, not its plural), before anything is deleted, dry run or not.
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw preconditionConflict(
        rt,
        name,
        `the UID in the precondition (${pre.uid}) does not match the UID in record (${old.metadata.uid ?? ''}). The object might have been deleted and then recreated`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw preconditionConflict(
        rt,
        name,
        `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${old.metadata.resourceVersion ?? ''}). The object might have been modified`,
      );
    }
    if (!ctx.dryRun) this.removeWithDependents(rt, old, opts.propagationPolicy ?? 'Background', ctx.origin);
    return this.deleteResponse(rt, old, opts);
  }

  private deleteResponse(rt: ResourceType, old: KubeObject, opts: DeleteOptions): KubeObject | KubeStatus {
    const now = timestamp();
    if (rt.kind === 'Pod' && rt.builtIn) {
      const grace = opts.gracePeriodSeconds ?? 30;
      const shown = clone(old);
      shown.metadata.deletionTimestamp = now;
      shown.metadata.deletionGracePeriodSeconds = grace;
      return this.present(rt, shown);
    }
    if (rt.kind === 'Namespace' && rt.builtIn) {
      const shown = clone(old);
      shown.metadata.deletionTimestamp = now;
      shown.status = { ...(asRecord(shown.status) ?? {}), phase: 'Terminating' };
      return this.present(rt, shown);
    }
    if (rt.kind === 'Service' && rt.builtIn) return this.present(rt, old);
    return successStatus(rt, old.metadata.name ?? '', old.metadata.uid);
  }

  /** Removes an object, then (unless orphaning) everything it owns; namespaces take their contents along. */
  removeWithDependents(rt: ResourceType, obj: KubeObject, policy: string, origin: WriteOrigin): void {
    const key = this.keyOf(rt, obj.metadata.namespace, obj.metadata.name ?? '');
    if (!this.store.get(rt.storage, key)) return;
    if (rt.kind === 'Namespace' && rt.builtIn) this.emptyNamespace(obj.metadata.name ?? '', origin);
    if (rt.kind === 'CustomResourceDefinition' && rt.builtIn) {
      const storage = this.registry.crdStorage(obj);
      for (const [k] of [...this.store.scan(storage)]) this.store.remove(storage, k, origin);
      this.store.dropStorage(storage);
    }
    this.store.remove(rt.storage, key, origin);
    const uid = obj.metadata.uid;
    if (!uid) return;
    for (const dep of this.store.dependentsOf(uid)) {
      const child = this.store.get(dep.storage, dep.key);
      const childRt = this.registry.forStorage(dep.storage);
      if (!child || !childRt) continue;
      if (policy === 'Orphan') {
        const next = clone(child);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.store.update(dep.storage, dep.key, next, origin);
      } else {
        this.removeWithDependents(childRt, child, policy, origin);
      }
    }
  }

  private emptyNamespace(namespace: string, origin: WriteOrigin): void {
    for (const storage of this.registry.storageKeys()) {
      const rt = this.registry.forStorage(storage);
      if (!rt?.namespaced) continue;
      for (const [key] of [...this.store.scan(storage, { namespace })]) this.store.remove(storage, key, origin);
    }
  }

  deleteCollection(
    rt: ResourceType,
    namespace: string | undefined,
    query: ListQuery,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): KubeList {
    const pred = this.predicate(rt, query.labelSelector, query.fieldSelector);
    const scan = rt.namespaced && namespace !== undefined ? { namespace } : {};
    const victims = [...this.store.scan(rt.storage, scan)].map(([, o]) => o).filter((o) => matchesPredicate(pred, o));
    if (!ctx.dryRun) {
      for (const v of victims) this.removeWithDependents(rt, v, opts.propagationPolicy ?? 'Background', ctx.origin);
    }
    return {
      kind: rt.listKind,
      apiVersion: rt.apiVersion,
      metadata: { resourceVersion: String(this.store.resourceVersion()) },
      items: victims.map((v) => this.presentListItem(rt, v)),
    };
  }
}

/**
 * NamespaceLifecycle: no new content in a namespace being terminated, dry runs included:
 * `configmaps "c" is forbidden: unable to create new content in namespace x because it is being terminated`.
 */
function namespaceTerminating(rt: ResourceType, obj: KubeObject): KubeApiError {
  const ns = obj.metadata.namespace ?? '';
  const name = obj.metadata.name ?? '';
  const details: NonNullable<KubeStatus['details']> = { name };
  if (rt.group) details.group = rt.group;
  details.kind = rt.plural;
  details.causes = [
    { reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' },
  ];
  return failure(
    403,
    `${qualifiedResource(rt)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
    'Forbidden',
    details,
  );
}
