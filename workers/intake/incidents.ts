import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';
import type { Alert, AlertSummary } from '../../domain/alert';
import { ownerWorkloadOf } from '../../domain/fingerprint';
import { incidentWorkflowId, type AlertBatch } from '../../domain/incident';
import { cutSearchAttributeValue } from '../../domain/search-attributes';
import { evidenceTaskQueueFromEnv } from './options';

/** Workflow type and signal of the incident workflow, started by name so the intake never loads workflow code. */
export const incidentWorkflowType = 'incidentWorkflow';
export const alertsSignalName = 'alerts';

/**
 * Start arguments of the incident workflow. The first alert travels whole in the signal of the same
 * signalWithStart call. The start arguments carry only its key fields, so a large alert is not sent twice.
 */
export interface IncidentStartInput {
  fingerprint: string;
  firstAlert: AlertSummary;
  /** Run id of the closed incident with the same fingerprint, when one exists: the new incident links to it. */
  previousRunId?: string;
  /** Task queue of the evidence worker, which runs the evidence and report activities. */
  evidenceTaskQueue?: string;
}

/**
 * `FIREBREAK_EVIDENCE_TASK_QUEUE`, read once when the intake loads, so an invalid value stops the intake at
 * start instead of failing every request.
 */
const evidenceTaskQueueOfEnv = evidenceTaskQueueFromEnv();

/** Workflow execution that a batch landed in. */
export interface IncidentRef {
  workflowId: string;
  runId: string;
}

/**
 * Id of one incident. A closed incident's workflow id is reused by the next incident of the same fingerprint,
 * so the run id is part of the incident id.
 */
export function incidentIdOf(ref: IncidentRef): string {
  return `${ref.workflowId}:${ref.runId}`;
}

/**
 * Raised when Temporal did not respond: connection refused, unavailable, the call cancelled (as when the
 * connection closes during a server restart), or the per-request deadline passed.
 */
export class TemporalUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Temporal is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TemporalUnavailableError';
  }
}

/** gRPC status codes (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE) after which a retry can succeed. */
const transientGrpcCodes = new Set([1, 4, 14]);

/** True when the error, or one of its causes, is a gRPC CANCELLED, DEADLINE_EXCEEDED or UNAVAILABLE. */
export function isTemporalUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (isGrpcServiceError(current) && transientGrpcCodes.has(current.code)) {
      return true;
    }
  }
  return false;
}

const searchAttributes = {
  phase: defineSearchAttributeKey('FirebreakPhase', 'KEYWORD'),
  namespace: defineSearchAttributeKey('FirebreakNamespace', 'KEYWORD'),
  workload: defineSearchAttributeKey('FirebreakWorkload', 'KEYWORD'),
  node: defineSearchAttributeKey('FirebreakNode', 'KEYWORD'),
  rule: defineSearchAttributeKey('FirebreakRule', 'KEYWORD'),
  severity: defineSearchAttributeKey('FirebreakSeverity', 'KEYWORD'),
  alertCount: defineSearchAttributeKey('FirebreakAlertCount', 'INT'),
};

/** Key fields of an alert for the start arguments. */
export function summariseAlert(alert: Alert): AlertSummary {
  const { id, source, rule, priority, severityHint, eventTime, status, target, hostScoped } = alert;
  return { id, source, rule, priority, severityHint, eventTime, status, target, hostScoped };
}

/**
 * Search attributes of a new incident; the workflow upserts them as the incident changes. Keyword values are
 * cut to `maxSearchAttributeValueBytes`; the alert keeps the full values.
 */
export function initialSearchAttributes(alert: AlertSummary, alertCount: number): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: searchAttributes.phase, value: 'detect' },
    { key: searchAttributes.rule, value: cutSearchAttributeValue(alert.rule) },
    { key: searchAttributes.alertCount, value: alertCount },
  ];
  const workload = ownerWorkloadOf(alert.target)?.workload;
  const optional: [typeof searchAttributes.namespace, string | undefined][] = [
    [searchAttributes.namespace, alert.target.namespace],
    [searchAttributes.workload, workload],
    [searchAttributes.node, alert.target.node],
    [searchAttributes.severity, alert.severityHint],
  ];
  for (const [key, value] of optional) {
    if (value !== undefined) {
      pairs.push({ key, value: cutSearchAttributeValue(value) });
    }
  }
  return pairs;
}

/**
 * Returns the run id of the latest run of a workflow id when that run is closed, else undefined (running or
 * never started).
 */
async function closedRunIdOf(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? undefined : description.runId;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return undefined;
    }
    throw error;
  }
}

export interface SignalOptions {
  client: Client;
  taskQueue: string;
  deadlineMs: number;
  /** Evidence task queue for the incidents this call starts; `FIREBREAK_EVIDENCE_TASK_QUEUE` when absent. */
  evidenceTaskQueue?: string;
}

/**
 * Adds a batch to the incident of `fingerprint`, starting the incident when none is running.
 *
 * The first signalWithStart uses `REJECT_DUPLICATE`: it signals a running incident (`USE_EXISTING`) or
 * starts the first one, in one round trip. Temporal rejects it only when the workflow id belongs to a closed
 * run. The intake then describes the latest run and starts a new incident with `ALLOW_DUPLICATE`, whose start
 * arguments name the closed run as `previousRunId`. Late alerts thus open a new incident linked to the old one
 * instead of being rejected. A run that closes between the describe call and the signal starts a new incident
 * without that link.
 */
export async function signalIncident(
  options: SignalOptions,
  fingerprint: string,
  batch: AlertBatch,
): Promise<IncidentRef> {
  const workflowId = incidentWorkflowId(fingerprint);
  const firstAlert = batch.alerts.find((alert) => alert.status === 'firing') ?? batch.alerts[0];
  if (firstAlert === undefined) {
    throw new Error(`the batch for incident ${workflowId} carries no alert; a signal needs at least one`);
  }
  const send = (previous: PreviousRun) => signalWithStartIncident(options, fingerprint, batch, firstAlert, previous);
  try {
    return await options.client.withDeadline(Date.now() + options.deadlineMs, async () => {
      try {
        return await send({ closedRunId: undefined, reusePolicy: 'REJECT_DUPLICATE' });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
          throw error;
        }
      }
      const closedRunId = await closedRunIdOf(options.client, workflowId);
      return await send({ closedRunId, reusePolicy: 'ALLOW_DUPLICATE' });
    });
  } catch (error) {
    throw isTemporalUnreachable(error) ? new TemporalUnavailableError(error) : error;
  }
}

/** Previous run of the incident and the id reuse policy of one signalWithStart call. */
interface PreviousRun {
  /** Run id of the closed run that the new incident links to. */
  closedRunId: string | undefined;
  reusePolicy: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE';
}

async function signalWithStartIncident(
  options: SignalOptions,
  fingerprint: string,
  batch: AlertBatch,
  firstAlert: Alert,
  previous: PreviousRun,
): Promise<IncidentRef> {
  const workflowId = incidentWorkflowId(fingerprint);
  const summary = summariseAlert(firstAlert);
  const evidenceTaskQueue = options.evidenceTaskQueue ?? evidenceTaskQueueOfEnv;
  const start: IncidentStartInput = {
    fingerprint,
    firstAlert: summary,
    ...(previous.closedRunId ? { previousRunId: previous.closedRunId } : {}),
    ...(evidenceTaskQueue === undefined ? {} : { evidenceTaskQueue }),
  };
  const handle = await options.client.workflow.signalWithStart(incidentWorkflowType, {
    workflowId,
    taskQueue: options.taskQueue,
    args: [start],
    signal: alertsSignalName,
    signalArgs: [batch],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: previous.reusePolicy,
    typedSearchAttributes: initialSearchAttributes(summary, batch.count),
  });
  return { workflowId, runId: handle.signaledRunId };
}

/**
 * Sends resolved alerts to the running incident of `fingerprint`. Returns undefined when no incident is
 * running: a resolved alert never starts an incident.
 */
export async function signalResolved(
  options: SignalOptions,
  fingerprint: string,
  batch: AlertBatch,
): Promise<IncidentRef | undefined> {
  const { client } = options;
  const workflowId = incidentWorkflowId(fingerprint);
  try {
    return await client.withDeadline(Date.now() + options.deadlineMs, async () => {
      const handle = client.workflow.getHandle(workflowId);
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        return undefined;
      }
      await client.workflow.getHandle(workflowId, description.runId).signal(alertsSignalName, batch);
      return { workflowId, runId: description.runId };
    });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return undefined;
    }
    throw isTemporalUnreachable(error) ? new TemporalUnavailableError(error) : error;
  }
}
