import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Context } from '@temporalio/activity';
import os from 'node:os';
import type { CollectorIdentity } from './custody';

/**
 * Returns the user name that the API server authenticates for this KubeConfig (SelfSubjectReview). When
 * that request fails, it returns the kubeconfig's user entry instead, marked as such.
 */
export async function kubernetesUserOf(kubeConfig: KubeConfig): Promise<string> {
  try {
    const review = await kubeConfig.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    const username = review.status?.userInfo?.username;
    if (username) return username;
  } catch {
    // Older servers and restricted users cannot create SelfSubjectReviews; fall back to the kubeconfig.
  }
  return `kubeconfig-user:${kubeConfig.getCurrentUser()?.name ?? 'unknown'}`;
}

/** Identity recorded in custody: Kubernetes user, host, and the Temporal workflow and attempt when inside one. */
export function collectorIdentity(kubernetesUser: string, host = os.hostname()): CollectorIdentity {
  const activity = currentActivity();
  return {
    kubernetesUser,
    host,
    ...(activity ? { workflowId: activity.workflowExecution?.workflowId, activityAttempt: activity.attempt } : {}),
  };
}

/** Returns the running activity's info, or undefined outside a Temporal activity (CLI, tests). */
export function currentActivity(): Context['info'] | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

/** Sends a heartbeat when running inside a Temporal activity, so long collections are not timed out. */
export function heartbeat(details: string): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Not inside an activity.
  }
}
