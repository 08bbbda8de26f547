import { isStatus, kubeErrorInfo } from '../kubernetes/errors';
import { recordProblem, storeJsonArtefact, type ArtefactRef, type CollectContext } from './artefacts';
import { collectPolicies } from './collect-policies';
import {
  getObject,
  isKnownKind,
  KIND_RESOURCES,
  kubeObjectSchema,
  listAll,
  OBJECTS_COLLECTOR,
  objectPath,
  sourceOf,
  type KnownKind,
  type KubeObject,
  type Pod,
} from './kube-objects';
import { isStoreCorrupt } from './store';

/** Maximum owner-chain depth followed (a pod of a CronJob's Job, or of a Deployment's ReplicaSet, has two owners). */
const MAX_OWNER_DEPTH = 5;
const EVENT_PAGE_SIZE = 500;
const MAX_EVENTS = 10_000;

/** Kinds whose objects may own a pod or another owner; owner references to any other kind are not followed. */
export const OWNER_KINDS: readonly KnownKind[] = [
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicationController',
];

const meta = { collector: OBJECTS_COLLECTOR };

/**
 * Stores the pod first, then its owner chain, its node, the events about all of them, and the NetworkPolicies
 * and RBAC bindings that apply to the pod. `podRaw` is the pod exactly as the API server returned it. A step
 * that fails is recorded as a collection problem and the next step still runs.
 */
export async function collectObjects(ctx: CollectContext, podRaw: unknown, pod: Pod): Promise<ArtefactRef[]> {
  const refs = await storeJsonArtefact(ctx, podRaw, { ...meta, name: 'objects/pod', source: sourceOf('Pod', pod) });

  const owners = await readOwnerChain(ctx, pod);
  for (const owner of owners) {
    const name = `objects/owner-${owner.kind.toLowerCase()}`;
    const source = sourceOf(owner.kind, owner.object);
    refs.push(...(await runStep(ctx, name, [], () => storeJsonArtefact(ctx, owner.raw, { ...meta, name, source }))));
  }

  const node = await runStep(ctx, 'objects/node', undefined, () => readNode(ctx, pod));
  if (node) {
    const source = sourceOf('Node', node.object);
    refs.push(
      ...(await runStep(ctx, 'objects/node', [], () =>
        storeJsonArtefact(ctx, node.raw, { ...meta, name: 'objects/node', source }),
      )),
    );
  }

  const about = [pod, ...owners.map((owner) => owner.object)];
  refs.push(...(await runStep(ctx, 'objects/events', [], () => collectEvents(ctx, pod, about, node?.object))));
  refs.push(...(await runStep(ctx, 'objects/policies', [], () => collectPolicies(ctx, pod))));
  return refs;
}

/** Runs one collection step; a failure is recorded as a problem of `step` and `fallback` is returned. */
async function runStep<T>(ctx: CollectContext, step: string, fallback: T, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isStoreCorrupt(error)) throw error;
    recordProblem(ctx, { kind: 'objects', step, message: describeError(error) });
    return fallback;
  }
}

function describeError(error: unknown): string {
  const info = kubeErrorInfo(error);
  const message = error instanceof Error ? error.message : String(error);
  return (info.statusCode ? `HTTP ${info.statusCode}: ${message}` : message).slice(0, 300);
}

interface FetchedObject {
  raw: unknown;
  object: KubeObject;
}

type OwnerReference = NonNullable<KubeObject['metadata']['ownerReferences']>[number];

/** Owner kind of a reference when it is one that may own a pod and comes from that kind's API group. */
function ownerKindOf(reference: OwnerReference): KnownKind | undefined {
  if (!isKnownKind(reference.kind) || !OWNER_KINDS.includes(reference.kind)) return undefined;
  const group = reference.apiVersion.includes('/') ? reference.apiVersion.split('/')[0] : '';
  return KIND_RESOURCES[reference.kind].group === group ? reference.kind : undefined;
}

const describeReference = (reference: OwnerReference) =>
  JSON.stringify(`${reference.apiVersion} ${reference.kind}/${reference.name}`.slice(0, 200));

/**
 * Owner references of the pod, or, when the pod names none, the direct owner that the incident resolved
 * before containment. Detaching a pod removes its owner references, so the chain would otherwise be lost.
 */
function podOwnerReferences(ctx: CollectContext, pod: Pod): OwnerReference[] {
  const own = pod.metadata.ownerReferences ?? [];
  const resolved = ctx.target.owners[0];
  if (own.length > 0 || resolved === undefined || !isKnownKind(resolved.kind)) return own;
  const { group, version } = KIND_RESOURCES[resolved.kind];
  const apiVersion = group === '' ? version : `${group}/${version}`;
  return [{ apiVersion, kind: resolved.kind, name: resolved.name, uid: resolved.uid, controller: true }];
}

/**
 * Follows controller owner references upward through the allowed owner kinds, each read at its fixed API
 * path, starting from `podOwnerReferences`. A reference to another kind, an owner that cannot be read, and
 * an owner whose uid differs from the reference each end the chain and are recorded as collection problems.
 */
async function readOwnerChain(ctx: CollectContext, pod: Pod): Promise<(FetchedObject & { kind: KnownKind })[]> {
  const found: (FetchedObject & { kind: KnownKind })[] = [];
  const namespace = pod.metadata.namespace ?? ctx.target.namespace;
  let current: KubeObject = pod;
  for (let depth = 0; depth < MAX_OWNER_DEPTH; depth += 1) {
    const references = depth === 0 ? podOwnerReferences(ctx, pod) : (current.metadata.ownerReferences ?? []);
    const owned = `${current.kind ?? 'Pod'}/${current.metadata.name}`;
    for (const other of references.filter((candidate) => ownerKindOf(candidate) === undefined)) {
      const message = `owner reference ${describeReference(other)} of ${owned} is not followed: only ${OWNER_KINDS.join(', ')} owners are read`;
      recordProblem(ctx, { kind: 'objects', step: 'objects/owners', message });
    }
    const reference = references.find((candidate) => candidate.controller === true) ?? references[0];
    const kind = reference && ownerKindOf(reference);
    if (!reference || !kind) break;

    const owner = await runStep(ctx, 'objects/owners', undefined, () =>
      getObject(
        ctx.kubeConfig,
        objectPath(kind, reference.name, namespace),
        kubeObjectSchema,
        ctx.limits.requestTimeoutMs,
      ),
    );
    if (!owner) break;
    if (owner.object.metadata.uid !== reference.uid) {
      const message = `owner ${describeReference(reference)} of ${owned} has uid ${owner.object.metadata.uid ?? 'none'}, the reference names ${reference.uid}: it was replaced and is not stored`;
      recordProblem(ctx, { kind: 'objects', step: 'objects/owners', message });
      break;
    }
    found.push({ ...owner, kind });
    current = { ...owner.object, kind };
  }
  return found;
}

async function readNode(ctx: CollectContext, pod: Pod): Promise<FetchedObject | undefined> {
  const nodeName = pod.spec.nodeName;
  if (!nodeName) return undefined;
  try {
    return await getObject(ctx.kubeConfig, objectPath('Node', nodeName), kubeObjectSchema, ctx.limits.requestTimeoutMs);
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Stores the events about the pod, its owners and its node, paged, as one artefact. */
async function collectEvents(
  ctx: CollectContext,
  pod: Pod,
  objects: KubeObject[],
  node: KubeObject | undefined,
): Promise<ArtefactRef[]> {
  const namespace = pod.metadata.namespace ?? ctx.target.namespace;
  const options = { pageSize: EVENT_PAGE_SIZE, maxItems: MAX_EVENTS, timeoutMs: ctx.limits.requestTimeoutMs };
  const groups: { about: string; items: unknown[]; truncated: boolean }[] = [];
  for (const object of objects) {
    if (!object.metadata.uid) continue;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const page = await listAll(
      ctx.kubeConfig,
      path,
      { fieldSelector: `involvedObject.uid=${object.metadata.uid}` },
      options,
    );
    groups.push({
      about: `${object.kind ?? 'Pod'}/${object.metadata.name}`,
      items: page.items,
      truncated: page.truncated,
    });
  }
  if (node) {
    const selector = `involvedObject.kind=Node,involvedObject.name=${node.metadata.name}`;
    const page = await listAll(ctx.kubeConfig, '/api/v1/events', { fieldSelector: selector }, options);
    groups.push({ about: `Node/${node.metadata.name}`, items: page.items, truncated: page.truncated });
  }

  const count = groups.reduce((sum, group) => sum + group.items.length, 0);
  const truncated = groups.some((group) => group.truncated);
  return storeJsonArtefact(
    ctx,
    { kind: 'EventCollection', groups },
    {
      name: 'objects/events',
      collector: OBJECTS_COLLECTOR,
      source: { kind: 'EventList', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
      incomplete: truncated,
      details: { count, ...(truncated ? { maxEvents: MAX_EVENTS } : {}) },
    },
  );
}
