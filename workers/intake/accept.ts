import type { FastifyBaseLogger } from 'fastify';
import type { Alert } from '../../domain/alert';
import { fingerprintOf } from '../../domain/fingerprint';
import type { AlertBatch } from '../../domain/incident';
import type { BatchOutcome, IncidentBatcher } from './batcher';
import type { DeadLetterStore } from './dead-letter';
import { incidentIdOf, signalResolved, type SignalOptions } from './incidents';
import type { IntakeMetrics } from './metrics';
import type { RecentAlertIds } from './redeliveries';

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
  recent: RecentAlertIds;
  signal: SignalOptions;
  deadLetters: DeadLetterStore;
  metrics: IntakeMetrics;
  logger: FastifyBaseLogger;
}

export interface RequestInfo {
  route: string;
  requestId: string;
  receivedAt: string;
}

function groupByFingerprint(alerts: Alert[]): Map<string, Alert[]> {
  const groups = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const fingerprint = fingerprintOf(alert);
    groups.set(fingerprint, [...(groups.get(fingerprint) ?? []), alert]);
  }
  return groups;
}

/**
 * Stores parsed alerts in their incidents and returns where they landed. Firing alerts go through the batcher
 * (signalWithStart). Resolved alerts only reach a running incident: they never start one, and without one they
 * are dead-lettered. Raises the first failure after every part has settled, so no response is sent early.
 */
export async function acceptAlerts(
  context: AcceptContext,
  alerts: Alert[],
  request: RequestInfo,
): Promise<AcceptedResponse> {
  const firing = alerts.filter((alert) => alert.status === 'firing');
  const resolved = alerts.filter((alert) => alert.status === 'resolved');
  const firingParts = [...groupByFingerprint(firing)].flatMap(([fingerprint, group]) =>
    context.batcher.submit(fingerprint, group),
  );
  const resolvedParts = [...groupByFingerprint(resolved)].map(([fingerprint, group]) =>
    sendResolved(context, fingerprint, group, request),
  );

  const firingSettled = await Promise.allSettled(firingParts);
  const resolvedSettled = await Promise.allSettled(resolvedParts);
  const failure = [...firingSettled, ...resolvedSettled].find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    throw failure.reason;
  }
  const outcomes = firingSettled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  let dropped = 0;
  for (const result of resolvedSettled) {
    if (result.status === 'fulfilled') {
      dropped += result.value.dropped;
      outcomes.push(...(result.value.outcome ? [result.value.outcome] : []));
    }
  }
  countAccepted(context.metrics, alerts, outcomes);
  return summarise(outcomes, dropped);
}

/** Resolved alerts of one incident: where they landed, or how many were dropped for want of a running incident. */
interface ResolvedOutcome {
  outcome?: BatchOutcome;
  dropped: number;
}

async function sendResolved(
  context: AcceptContext,
  fingerprint: string,
  alerts: Alert[],
  request: RequestInfo,
): Promise<ResolvedOutcome> {
  const fresh = alerts.filter((alert) => context.recent.get(alert.id) === undefined);
  const redeliveries = alerts.length - fresh.length;
  const known = alerts.map((alert) => context.recent.get(alert.id)).find((ref) => ref !== undefined);
  if (fresh.length === 0 && known !== undefined) {
    return { outcome: { ref: known, accepted: 0, redeliveries }, dropped: 0 };
  }
  const batch: AlertBatch = { alerts: fresh, count: fresh.length, redeliveries, receivedAt: request.receivedAt };
  const ref = await signalResolved(context.signal, fingerprint, batch);
  if (ref === undefined) {
    context.metrics.droppedResolved.inc(fresh.length);
    await context.deadLetters.write({
      reason: 'resolved_without_incident',
      message: `no incident is running for fingerprint ${fingerprint}; a resolved alert never starts one`,
      route: request.route,
      requestId: request.requestId,
      receivedAt: request.receivedAt,
      alertIds: fresh.map((alert) => alert.id),
      body: JSON.stringify(fresh),
    });
    return { dropped: fresh.length };
  }
  for (const alert of fresh) {
    context.recent.remember(alert.id, ref);
  }
  return { outcome: { ref, accepted: fresh.length, redeliveries }, dropped: 0 };
}

function countAccepted(metrics: IntakeMetrics, alerts: Alert[], outcomes: BatchOutcome[]): void {
  const source = alerts[0]?.source ?? 'generic';
  metrics.alertsAccepted.inc(
    { source },
    outcomes.reduce((sum, outcome) => sum + outcome.accepted, 0),
  );
  metrics.redeliveries.inc(
    { source },
    outcomes.reduce((sum, outcome) => sum + outcome.redeliveries, 0),
  );
}

function summarise(outcomes: BatchOutcome[], resolvedWithoutIncident: number): AcceptedResponse {
  const incidents = new Map<string, AcceptedIncident>();
  for (const { ref, accepted, redeliveries } of outcomes) {
    const incidentId = incidentIdOf(ref);
    const entry = incidents.get(incidentId) ?? { incidentId, ...ref, accepted: 0, redeliveries: 0 };
    entry.accepted += accepted;
    entry.redeliveries += redeliveries;
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
