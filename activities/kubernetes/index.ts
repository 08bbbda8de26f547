import type { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesActivities } from '../../domain/response';
import { createKubeClients, type KubeRequestRecorder, type RetryPolicy } from './client';
import { deletePod } from './delete';
import { detachPod, reattachPod } from './detach';
import { drainNode } from './drain';
import { cordonNode, uncordonNode } from './node';
import { quarantinePod, releasePodQuarantine } from './quarantine';
import type { RateLimit } from './rate-limit';
import { resolveTarget } from './target';
import { scaleWorkload } from './scale';
import { pauseRollout, restoreWorkload, resumeRollout } from './workload';

export interface KubernetesActivityDeps {
  kubeConfig: KubeConfig;
  /** Client-side request rate; `DEFAULT_RATE_LIMIT` when unset. */
  rateLimit?: RateLimit;
  /** Called with every request before it is sent; tests use it to prove what the activities asked for. */
  recorder?: KubeRequestRecorder;
  retry?: RetryPolicy;
  /** Runs every mutation as a server-side dry run, whatever each call's `dryRun` field contains. */
  forceDryRun?: boolean;
}

/** Builds the Kubernetes containment and recovery activities around one set of API clients. */
export function createKubernetesActivities(deps: KubernetesActivityDeps) {
  const clients = createKubeClients(deps.kubeConfig, deps);
  const dry = <T extends { dryRun: boolean }>(input: T): T => (deps.forceDryRun ? { ...input, dryRun: true } : input);
  return {
    resolveTarget: (input) => resolveTarget(clients, input),
    quarantinePod: (input) => quarantinePod(clients, dry(input)),
    releasePodQuarantine: (input) => releasePodQuarantine(clients, dry(input)),
    detachPod: (input) => detachPod(clients, dry(input)),
    reattachPod: (input) => reattachPod(clients, dry(input)),
    cordonNode: (input) => cordonNode(clients, dry(input)),
    uncordonNode: (input) => uncordonNode(clients, dry(input)),
    drainNode: (input) => drainNode(clients, dry(input)),
    deletePod: (input) => deletePod(clients, dry(input)),
    scaleWorkload: (input) => scaleWorkload(clients, dry(input)),
    pauseRollout: (input) => pauseRollout(clients, dry(input)),
    resumeRollout: (input) => resumeRollout(clients, dry(input)),
    restoreWorkload: (input) => restoreWorkload(clients, dry(input)),
  } satisfies KubernetesActivities;
}

export type { KubeRequestRecord, KubeRequestRecorder, RetryPolicy } from './client';
export { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit';
