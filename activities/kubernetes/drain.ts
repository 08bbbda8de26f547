import type { V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrainNodeInput, DrainNodeResult } from '../../domain/response';
import { callKube, callKubeUnlessNotFound, deleteOptions, dryRunParam, type KubeClients } from './client';
import { activityLogger, heartbeat } from './context';
import { classifyKubeError, isApiOrNetworkError, kubeErrorInfo } from './errors';
import { drainNodeInputSchema, parseInput } from './inputs';
import { DrainSkipper } from './drain-skip';
import { selectorMatches } from './labels';
import { cordon } from './node';
import { listNamespaces, listPodsOnNode, podKey } from './pods';

/** First wait after a PodDisruptionBudget refusal; doubles up to the maximum. */
const BUDGET_BACKOFF_INITIAL_MS = 500;
const BUDGET_BACKOFF_MAX_MS = 15_000;
/** Poll interval while waiting for evicted pods to terminate. */
const TERMINATION_POLL_MS = 500;

type EvictionOutcome =
  { kind: 'evicted' } | { kind: 'budget' } | { kind: 'retry'; waitMs: number } | { kind: 'blocked'; reason: string };

/**
 * Cordons the node and evicts its pods through the Eviction API, so PodDisruptionBudgets are respected.
 * DaemonSet pods and mirror pods are skipped when they prove to be such (see `DrainSkipper`). A refusal by a
 * budget (429) is retried with backoff until the deadline, `deadlineMs` after the start of this attempt. Pods
 * still refused then are returned as `blocked` for a person to decide, because this activity never deletes a
 * pod directly. Finally the node's pods are listed again: a pod that arrived during the drain (its
 * `spec.nodeName` set directly, which a cordon does not stop) is reported as `blocked` too, so `complete`
 * means that only skipped pods remain.
 */
export async function drainNode(clients: KubeClients, raw: DrainNodeInput): Promise<DrainNodeResult> {
  const input = parseInput(drainNodeInputSchema, raw, 'drainNode');
  const deadlineAtMs = Date.now() + input.deadlineMs;
  await cordon(clients, input.incidentId, input.node, input.dryRun);
  const node = await callKube(`read node ${input.node}`, () => clients.core.readNode({ name: input.node }));
  const skipper = new DrainSkipper(clients, node);
  const namespaces = await listNamespaces(clients);

  const pods = await listPodsOnNode(clients, input.node, namespaces);
  const { skipped, others } = await partition(skipper, pods);
  const pending = new Map(others.map((pod) => [podKey(pod), pod]));
  const evicted: V1Pod[] = [];
  const blocked = new Map<string, string>();
  let backoffMs = BUDGET_BACKOFF_INITIAL_MS;

  while (pending.size > 0) {
    let waitMs = 0;
    for (const [key, pod] of pending) {
      const outcome = await evict(clients, pod, input.gracePeriodSec, input.dryRun);
      if (outcome.kind === 'evicted' || outcome.kind === 'blocked') pending.delete(key);
      if (outcome.kind === 'evicted') evicted.push(pod);
      if (outcome.kind === 'blocked') blocked.set(key, outcome.reason);
      if (outcome.kind === 'budget') waitMs = Math.max(waitMs, backoffMs);
      if (outcome.kind === 'retry') waitMs = Math.max(waitMs, outcome.waitMs);
    }
    heartbeat({ evicted: evicted.length, pending: pending.size });
    const remainingMs = deadlineAtMs - Date.now();
    if (pending.size === 0 || remainingMs <= 0) break;
    await sleep(Math.min(waitMs, remainingMs));
    backoffMs = Math.min(backoffMs * 2, BUDGET_BACKOFF_MAX_MS);
  }

  for (const [key, pod] of pending) blocked.set(key, await budgetReason(clients, pod));
  if (!input.dryRun) {
    const lingering = await awaitTermination(clients, evicted, deadlineAtMs);
    for (const pod of lingering) blocked.set(podKey(pod), 'evicted but still terminating at the deadline');
    const seen = new Set(pods.map((pod) => pod.metadata?.uid));
    const arrived = (await partition(skipper, await listPodsOnNode(clients, input.node, namespaces))).others;
    for (const pod of arrived.filter((candidate) => !seen.has(candidate.metadata?.uid))) {
      blocked.set(podKey(pod), ARRIVED_REASON);
    }
  }
  if (blocked.size > 0) {
    activityLogger().warn('drain left pods on the node', { node: input.node, blocked: [...blocked.keys()] });
  }
  return {
    evicted: evicted.map(podKey).sort(),
    skipped: skipped.map(podKey).sort(),
    blocked: [...blocked].map(([pod, reason]) => ({ pod, reason })),
    complete: blocked.size === 0,
  };
}

const ARRIVED_REASON =
  'arrived on the node during the drain (spec.nodeName set directly, which a cordon does not stop) and was not evicted';

async function partition(skipper: DrainSkipper, pods: V1Pod[]): Promise<{ skipped: V1Pod[]; others: V1Pod[] }> {
  const skipped: V1Pod[] = [];
  const others: V1Pod[] = [];
  for (const pod of pods) {
    if (await skipper.skipReason(pod)) skipped.push(pod);
    else others.push(pod);
  }
  return { skipped, others };
}

async function evict(
  clients: KubeClients,
  pod: V1Pod,
  gracePeriodSec: number,
  dryRun: boolean,
): Promise<EvictionOutcome> {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const body = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace },
    deleteOptions: deleteOptions(pod.metadata?.uid, dryRun, gracePeriodSec),
  };
  try {
    await clients.core.createNamespacedPodEviction({ name, namespace, body, dryRun: dryRunParam(dryRun) });
    return { kind: 'evicted' };
  } catch (error) {
    return evictionFailure(clients, pod, error);
  }
}

/**
 * Classifies a failed eviction by HTTP status and `Status` cause, never by message. 404, and 409 from the
 * uid precondition, mean the pod is gone. 429 with cause `DisruptionBudget` is a budget refusal, and any
 * other 429 is API throttling. A 500 for a pod that more than one budget selects can never succeed.
 */
async function evictionFailure(clients: KubeClients, pod: V1Pod, error: unknown): Promise<EvictionOutcome> {
  if (!isApiOrNetworkError(error)) throw error;
  const info = kubeErrorInfo(error);
  if (info.statusCode === 404 || info.statusCode === 409) return { kind: 'evicted' };
  if (info.statusCode === 429 && info.causeReasons.includes('DisruptionBudget')) return { kind: 'budget' };
  if (info.statusCode === 429 || info.statusCode === 0 || info.statusCode >= 502) {
    return { kind: 'retry', waitMs: (info.retryAfterSec ?? 1) * 1000 };
  }
  if (info.statusCode === 500) {
    const budgets = await budgetsSelecting(clients, pod);
    if (budgets.length > 1) {
      return { kind: 'blocked', reason: `more than one PodDisruptionBudget selects the pod: ${budgets.join(', ')}` };
    }
    return { kind: 'retry', waitMs: 1000 };
  }
  throw classifyKubeError(error, `evict pod ${podKey(pod)}`);
}

async function budgetsSelecting(clients: KubeClients, pod: V1Pod): Promise<string[]> {
  const namespace = pod.metadata?.namespace ?? '';
  const list = await callKube(`list PodDisruptionBudgets in namespace ${namespace}`, () =>
    clients.policy.listNamespacedPodDisruptionBudget({ namespace }),
  );
  return list.items
    .filter((budget) => selectorMatches(budget.spec?.selector, pod.metadata?.labels ?? {}))
    .map((budget) => budget.metadata?.name ?? '')
    .sort();
}

async function budgetReason(clients: KubeClients, pod: V1Pod): Promise<string> {
  const budgets = await budgetsSelecting(clients, pod);
  const names = budgets.length > 0 ? budgets.join(', ') : 'none found';
  return `eviction refused by PodDisruptionBudget until the deadline (budgets: ${names})`;
}

/** Waits until evicted pods are gone (or replaced by a pod with another uid); returns those still there. */
async function awaitTermination(clients: KubeClients, pods: V1Pod[], deadlineAtMs: number): Promise<V1Pod[]> {
  let remaining = pods;
  while (remaining.length > 0) {
    const still: V1Pod[] = [];
    for (const pod of remaining) {
      const namespace = pod.metadata?.namespace ?? '';
      const name = pod.metadata?.name ?? '';
      const current = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
        clients.core.readNamespacedPod({ namespace, name }),
      );
      if (current?.metadata?.uid === pod.metadata?.uid) still.push(pod);
    }
    remaining = still;
    heartbeat({ terminating: remaining.length });
    if (remaining.length === 0 || Date.now() >= deadlineAtMs) break;
    await sleep(Math.min(TERMINATION_POLL_MS, Math.max(0, deadlineAtMs - Date.now())));
  }
  return remaining;
}
