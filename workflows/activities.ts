import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type {
  EscalationActivities,
  EvidenceActivities,
  KubernetesActivities,
  PlaybookActivities,
  ReportActivities,
  SlackActivities,
} from '../domain/response';

/** Kubernetes error types that retrying cannot fix. `KubernetesUnavailable` is retried. */
const permanentKubernetesErrors = [
  'KubernetesForbidden',
  'KubernetesNotFound',
  'KubernetesInvalid',
  'KubernetesConflict',
  'UnresolvedTarget',
  'EmptyScope',
  'TargetReplaced',
];

const kubernetesRetry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 10,
  nonRetryableErrorTypes: permanentKubernetesErrors,
};

/**
 * Containment and recovery calls: retried with backoff, a permanent error fails at once. The 30-second
 * limit per attempt also bounds how long a call lost with a crashed worker waits before its retry.
 */
export const kubernetes = proxyActivities<KubernetesActivities>({
  startToCloseTimeout: '30s',
  retry: kubernetesRetry,
});

/** Returns `drainNode` with an attempt limit of the drain's own deadline plus one minute. */
export function drainActivity(deadlineMs: number): KubernetesActivities['drainNode'] {
  return proxyActivities<KubernetesActivities>({
    startToCloseTimeout: deadlineMs + 60_000,
    retry: kubernetesRetry,
  }).drainNode;
}

/** Evidence collection streams artefacts to the store and may run for minutes. */
export const evidence = proxyActivities<EvidenceActivities>({
  startToCloseTimeout: '15m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 5 },
});

export const report = proxyActivities<ReportActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

export const playbooks = proxyActivities<PlaybookActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['InvalidPlaybook'],
  },
});

/**
 * Slack posts keep retrying with backoff while Slack is unreachable, for up to a day with no attempt
 * limit, so a gate message still goes out once Slack responds. Gates never wait on these calls.
 */
export const slack = proxyActivities<SlackActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1d',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
});

export const escalation = proxyActivities<EscalationActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '2s',
    maximumInterval: '2m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['InvalidEscalation'],
  },
});
