import type { FastifyBaseLogger } from 'fastify';
import type { Alert } from '../../domain/alert';
import { fingerprintOf } from '../../domain/fingerprint';
import type { AlertArchive } from './archive';
import type { AlertOutcome, IncidentAlerts, IncidentBatcher } from './batcher';
import type { DeadLetterStore } from './dead-letter';
import { incidentIdOf } from './incidents';
import type { IntakeMetrics } from './metrics';

/** One incident that a request's alerts landed in. */
export interface AcceptedIncident {
  incidentId: string;
  workflowId: string;
  runId: string;
  accepted: number;
  redeliveries: number;
}

/**
 * The 202 response body. The top-level ids name the first incident (null when no alert reached one); `incidents` lists
 * every incident, because one Alertmanager group can span several.
 */
export interface AcceptedResponse {
  incidentId: string | null;
  workflowId: string | null;
  runId: string | null;
  accepted: number;
  redeliveries: number;
  incidents: AcceptedIncident[];
  /** Resolved alerts for which no incident was running: recorded as dead letters and not stored. */
  resolvedWithoutIncident: number;
}

export interface AcceptContext {
  batcher: IncidentBatcher;
  archive: AlertArchive;
  deadLetters: DeadLetterStore;
  metrics: IntakeMetrics;
  logger: FastifyBaseLogger;
}

export interface RequestInfo {
  route: string;
  requestId: string;
  receivedAt: string;
}

/** Groups items by key, keeping their order within each group. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [item]);
    } else {
      group.push(item);
    }
  }
  return groups;
}

/**
 * Groups alerts by incident, firing alerts first within each incident: the batcher sends an incident's
 * batches in order, so a resolved alert of the same body reaches the incident that its firing peers start.
 */
function incidentGroups(alerts: Alert[]): IncidentAlerts[] {
  return [...groupBy(alerts, fingerprintOf)].map(([fingerprint, group]) => ({
    fingerprint,
    alerts: [
      ...group.filter((alert) => alert.status === 'firing'),
      ...group.filter((alert) => alert.status !== 'firing'),
    ],
  }));
}

/**
 * Stores parsed alerts in their incidents and returns where they landed. Alerts above the size limits are cut
 * and their full text archived first. Firing alerts may start their incident (signalWithStart); resolved
 * alerts only reach a running one, and without one they are dead-lettered. Raises `IntakeBusyError` before
 * queueing anything when the request does not fit, and otherwise the first failure after every alert has
 * settled, so no response is sent early and no promise is left unobserved.
 */
export async function acceptAlerts(
  context: AcceptContext,
  alerts: Alert[],
  request: RequestInfo,
): Promise<AcceptedResponse> {
  const compacted = await context.archive.compact(alerts);
  const parts = context.batcher.submit(incidentGroups(compacted));
  const settled = await Promise.allSettled(parts);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    throw failure.reason;
  }

  const outcomes = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const dropped = outcomes.filter((outcome) => outcome.ref === undefined).map((outcome) => outcome.alert);
  if (dropped.length > 0) {
    await recordDropped(context, dropped, request);
  }
  countAccepted(context.metrics, alerts, outcomes);
  return summarise(outcomes, dropped.length);
}

async function recordDropped(context: AcceptContext, dropped: Alert[], request: RequestInfo): Promise<void> {
  context.metrics.droppedResolved.inc(dropped.length);
  const fingerprints = [...new Set(dropped.map(fingerprintOf))].join(', ');
  await context.deadLetters.write({
    reason: 'resolved_without_incident',
    message: `no incident is running for fingerprint ${fingerprints}; a resolved alert never starts one`,
    route: request.route,
    requestId: request.requestId,
    receivedAt: request.receivedAt,
    alertIds: dropped.map((alert) => alert.id),
    body: JSON.stringify(dropped),
  });
}

function countAccepted(metrics: IntakeMetrics, alerts: Alert[], outcomes: AlertOutcome[]): void {
  const source = alerts[0]?.source ?? 'generic';
  const stored = outcomes.filter((outcome) => outcome.ref !== undefined);
  metrics.alertsAccepted.inc({ source }, stored.filter((outcome) => !outcome.redelivery).length);
  metrics.redeliveries.inc({ source }, stored.filter((outcome) => outcome.redelivery).length);
}

function summarise(outcomes: AlertOutcome[], resolvedWithoutIncident: number): AcceptedResponse {
  const incidents = new Map<string, AcceptedIncident>();
  for (const { ref, redelivery } of outcomes) {
    if (ref === undefined) {
      continue;
    }
    const incidentId = incidentIdOf(ref);
    const entry = incidents.get(incidentId) ?? { incidentId, ...ref, accepted: 0, redeliveries: 0 };
    if (redelivery) {
      entry.redeliveries += 1;
    } else {
      entry.accepted += 1;
    }
    incidents.set(incidentId, entry);
  }
  const list = [...incidents.values()];
  const first = list[0];
  return {
    incidentId: first?.incidentId ?? null,
    workflowId: first?.workflowId ?? null,
    runId: first?.runId ?? null,
    accepted: list.reduce((sum, entry) => sum + entry.accepted, 0),
    redeliveries: list.reduce((sum, entry) => sum + entry.redeliveries, 0),
    incidents: list,
    resolvedWithoutIncident,
  };
}
