import { proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
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

const evidenceOptions: ActivityOptions = {
  startToCloseTimeout: '15m',
  // Exec collection heartbeats every 5 s; a collection on a worker that died is retried after 2 minutes
  // instead of after the whole 15-minute limit.
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 5 },
};

const reportOptions: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
};

/**
 * Adds `taskQueue` to the options when one is given; without it the activity runs on the workflow's queue.
 * Replay compares a scheduled activity's id and type with the history, not its task queue (the activity
 * state machine of Temporal's sdk-core, which the TypeScript SDK runs), so a history replays with either.
 */
function onQueue(options: ActivityOptions, taskQueue: string | undefined): ActivityOptions {
  return taskQueue === undefined ? options : { ...options, taskQueue };
}

/**
 * Returns the evidence activities, which write and read the evidence store, on `taskQueue` when given.
 * Evidence collection streams artefacts to the store and may run for minutes.
 */
export function evidenceActivities(taskQueue: string | undefined): EvidenceActivities {
  return proxyActivities<EvidenceActivities>(onQueue(evidenceOptions, taskQueue));
}

/** Returns the report activity, which reads the evidence store, on `taskQueue` when given. */
export function reportActivities(taskQueue: string | undefined): ReportActivities {
  return proxyActivities<ReportActivities>(onQueue(reportOptions, taskQueue));
}

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
