import { isStatus } from '../kubernetes/errors';
import { storeJsonArtefact, type ArtefactRef, type CollectContext } from './artefacts';
import { collectPolicies } from './collect-policies';
import {
  getObject,
  kubeObjectSchema,
  listAll,
  OBJECTS_COLLECTOR,
  objectPath,
  sourceOf,
  type KubeObject,
  type Pod,
} from './kube-objects';

/** Maximum owner-chain depth followed (a pod of a Deployment's ReplicaSet has two owners). */
const MAX_OWNER_DEPTH = 5;
const EVENT_PAGE_SIZE = 500;
const MAX_EVENTS = 10_000;

/**
 * Stores the pod, its owner chain, its node, the events about all of them, and the NetworkPolicies and RBAC
 * bindings that apply to the pod. `podRaw` is the pod exactly as the API server returned it.
 */
export async function collectObjects(ctx: CollectContext, podRaw: unknown, pod: Pod): Promise<ArtefactRef[]> {
  const refs: ArtefactRef[] = [];
  const meta = { collector: OBJECTS_COLLECTOR };
  const owners = await readOwnerChain(ctx, pod);
  const podDetails = owners.missing.length > 0 ? { missingOwners: owners.missing } : undefined;
  const podMeta = { ...meta, name: 'objects/pod', source: sourceOf('Pod', pod), details: podDetails };
  refs.push(...(await storeJsonArtefact(ctx, podRaw, podMeta)));

  for (const owner of owners.found) {
    const kind = owner.object.kind ?? 'Owner';
    const name = `objects/owner-${kind.toLowerCase()}`;
    refs.push(...(await storeJsonArtefact(ctx, owner.raw, { ...meta, name, source: sourceOf(kind, owner.object) })));
  }

  const node = await readNode(ctx, pod);
  if (node) {
    refs.push(
      ...(await storeJsonArtefact(ctx, node.raw, {
        ...meta,
        name: 'objects/node',
        source: sourceOf('Node', node.object),
      })),
    );
  }

  refs.push(...(await collectEvents(ctx, pod, [pod, ...owners.found.map((owner) => owner.object)], node?.object)));
  refs.push(...(await collectPolicies(ctx, pod)));
  return refs;
}

interface FetchedObject {
  raw: unknown;
  object: KubeObject;
}

/** Follows controller owner references upward; an owner that is gone ends the chain and is noted. */
async function readOwnerChain(ctx: CollectContext, pod: Pod): Promise<{ found: FetchedObject[]; missing: string[] }> {
  const found: FetchedObject[] = [];
  const missing: string[] = [];
  let current: KubeObject = pod;
  for (let depth = 0; depth < MAX_OWNER_DEPTH; depth += 1) {
    const references = current.metadata.ownerReferences ?? [];
    const reference = references.find((candidate) => candidate.controller === true) ?? references[0];
    if (!reference) break;
    const path = objectPath(reference.apiVersion, reference.kind, reference.name, pod.metadata.namespace);
    try {
      const owner = await getObject(ctx.kubeConfig, path, kubeObjectSchema, ctx.limits.requestTimeoutMs);
      found.push(owner);
      current = owner.object;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      missing.push(`${reference.kind}/${reference.name}`);
      break;
    }
  }
  return { found, missing };
}

async function readNode(ctx: CollectContext, pod: Pod): Promise<FetchedObject | undefined> {
  const nodeName = pod.spec.nodeName;
  if (!nodeName) return undefined;
  try {
    return await getObject(
      ctx.kubeConfig,
      objectPath('v1', 'Node', nodeName),
      kubeObjectSchema,
      ctx.limits.requestTimeoutMs,
    );
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
