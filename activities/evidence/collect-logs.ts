import { ApiException } from '@kubernetes/client-node';
import { storeTextArtefact, type ArtefactRef, type CollectContext } from './artefacts';
import { headersOf, kubeRequest, readSmallBody } from './kube-http';
import { sourceOf, type Pod } from './kube-objects';
import { textLineRedactor } from './line-redactor';

export const LOGS_COLLECTOR = { name: 'collect-logs', version: '1' };

/**
 * Stores the current and previous logs of every container of the pod, each cut at `maxLogBytes`. The
 * request asks for one byte more than the limit so that a log of exactly the limit is not marked truncated.
 */
export async function collectLogs(ctx: CollectContext, pod: Pod): Promise<ArtefactRef[]> {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((container) => container.name);
  const refs: ArtefactRef[] = [];
  for (const container of containers) {
    refs.push(...(await collectContainerLog(ctx, pod, container, false)));
    refs.push(...(await collectContainerLog(ctx, pod, container, true)));
  }
  return refs;
}

async function collectContainerLog(ctx: CollectContext, pod: Pod, container: string, previous: boolean) {
  const namespace = pod.metadata.namespace ?? ctx.target.namespace;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/log`;
  const maxBytes = ctx.limits.maxLogBytes;
  const response = await kubeRequest(ctx.kubeConfig, {
    method: 'GET',
    path,
    query: { container, previous, limitBytes: maxBytes + 1, timestamps: true },
    timeoutMs: ctx.limits.requestTimeoutMs,
  });

  const status = response.statusCode ?? 0;
  // The API server returns 400 when a container has no previous instance or has not started yet.
  if (status === 400 && previous) {
    response.resume();
    return [];
  }
  if (status !== 200) {
    const body = await readSmallBody(response);
    throw new ApiException(status, `GET ${path} for container ${container} failed: ${body}`, body, headersOf(response));
  }

  const name = `logs/${container}/${previous ? 'previous' : 'current'}`;
  const meta = {
    name,
    contentType: 'text/plain; charset=utf-8',
    source: { ...sourceOf('Pod', pod), container },
    collector: LOGS_COLLECTOR,
    details: { previous, maxBytes },
  };
  return storeTextArtefact(ctx, response, meta, maxBytes, () => textLineRedactor(ctx.secretEnv));
}
