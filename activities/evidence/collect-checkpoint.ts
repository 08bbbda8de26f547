import { z } from 'zod';
import { recordArtefact, storeJsonArtefact, type ArtefactRef, type CollectContext } from './artefacts';
import { safeJson } from './custody';
import { kubeRequest, readSmallBody } from './kube-http';
import { sourceOf, type Pod } from './kube-objects';

export const CHECKPOINT_COLLECTOR = { name: 'collect-checkpoint', version: '1' };

/** Reads a checkpoint archive that the kubelet left on a node, for clusters that offer a way to do so. */
export type CheckpointArchiveReader = (node: string, archivePath: string) => Promise<AsyncIterable<Uint8Array>>;

/**
 * Why a checkpoint request failed, by HTTP status. 404, 405 and 501: the kubelet does not offer the API
 * (feature gate off, or no kubelet at all). 400, 502 and 503: the API server could not reach the node's
 * endpoint. It returns 400 "address not allowed" for node addresses it does not proxy to, such as loopback.
 */
export function checkpointFailure(httpStatus: number): { unsupported: boolean; outcome: string } {
  if ([404, 405, 501].includes(httpStatus)) {
    return { unsupported: true, outcome: 'the node does not offer the checkpoint API' };
  }
  if ([400, 502, 503].includes(httpStatus)) {
    return { unsupported: true, outcome: "the API server could not reach the node's checkpoint API" };
  }
  if (httpStatus === 401 || httpStatus === 403) {
    return { unsupported: false, outcome: 'the collector may not create nodes/proxy: grant it to take checkpoints' };
  }
  return { unsupported: false, outcome: 'the checkpoint request failed' };
}

const checkpointResponseSchema = z.object({ items: z.array(z.string()) });
const CHECKPOINT_TIMEOUT_SEC = 60;

/**
 * Asks the kubelet for a checkpoint of each container (`POST /api/v1/nodes/NODE/proxy/checkpoint/NS/POD/C`).
 * Where the node does not offer it, the HTTP status and message are stored as the artefact, marked unsupported.
 */
export async function collectCheckpoints(
  ctx: CollectContext,
  pod: Pod,
  readArchive?: CheckpointArchiveReader,
): Promise<ArtefactRef[]> {
  const node = pod.spec.nodeName;
  if (!node) return [];
  const refs: ArtefactRef[] = [];
  for (const container of pod.spec.containers) {
    refs.push(...(await checkpointContainer(ctx, pod, node, container.name, readArchive)));
  }
  return refs;
}

async function checkpointContainer(
  ctx: CollectContext,
  pod: Pod,
  node: string,
  container: string,
  readArchive: CheckpointArchiveReader | undefined,
): Promise<ArtefactRef[]> {
  const namespace = pod.metadata.namespace ?? ctx.target.namespace;
  const segments = [node, 'proxy', 'checkpoint', namespace, pod.metadata.name, container].map(encodeURIComponent);
  const path = `/api/v1/nodes/${segments.join('/')}`;
  const response = await kubeRequest(ctx.kubeConfig, {
    method: 'POST',
    path,
    query: { timeout: CHECKPOINT_TIMEOUT_SEC },
    timeoutMs: (CHECKPOINT_TIMEOUT_SEC + 10) * 1000,
  });
  const httpStatus = response.statusCode ?? 0;
  const body = await readSmallBody(response, 16 * 1024);
  const meta = {
    name: `checkpoint/${container}`,
    collector: CHECKPOINT_COLLECTOR,
    source: { ...sourceOf('Pod', pod), container },
  };

  if (httpStatus !== 200) {
    const { unsupported, outcome } = checkpointFailure(httpStatus);
    const record = { request: `POST ${path}`, httpStatus, outcome, body: body.slice(0, 2000) };
    const details = { httpStatus, node, outcome, ...(unsupported ? {} : { failed: true }) };
    return storeJsonArtefact(ctx, record, { ...meta, unsupported, incomplete: true, details });
  }

  const archives = checkpointResponseSchema.safeParse(safeJson(body));
  const archivePaths = archives.success ? archives.data.items : [];
  // A checkpoint contains the container's memory, secrets included, and cannot be redacted, so the archive
  // is fetched only when the playbook keeps secrets in raw evidence.
  const fetchArchive = readArchive !== undefined && ctx.keepSecretsInRaw;
  const skipped = readArchive ? 'the playbook does not keep secrets in raw evidence' : 'no archive reader configured';
  const refs = await storeJsonArtefact(
    ctx,
    { request: `POST ${path}`, httpStatus, archivePaths },
    {
      ...meta,
      incomplete: !fetchArchive,
      details: { httpStatus, node, archivePaths, ...(fetchArchive ? {} : { archiveNotFetched: skipped }) },
    },
  );
  // NOTE: the kubelet writes the archive to the node's disk and offers no API to download it, so the
  // archive itself is stored only when a reader for the node's checkpoint directory is configured.
  if (!fetchArchive) return refs;
  for (const [index, archivePath] of archivePaths.entries()) {
    const stored = await ctx.store.put(await readArchive(node, archivePath), { maxBytes: ctx.limits.maxArtefactBytes });
    refs.push(
      await recordArtefact(ctx, stored, {
        ...meta,
        name: `checkpoint/${container}/archive-${index}`,
        contentType: 'application/x-tar',
        redacted: false,
        details: { node, archivePath },
      }),
    );
  }
  return refs;
}
