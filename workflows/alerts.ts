import type { Alert } from '../domain/alert';
import type { AlertBatch } from '../domain/incident';
import { classifySeverity, severityAtLeast } from '../domain/playbook-match';
import type { IncidentState } from './state';
import { nowIso, record } from './timeline';

const maxRules = 20;
const maxUsers = 20;
const maxMitreTags = 50;

function addBounded(list: string[], value: string | undefined, max: number): void {
  if (value !== undefined && value !== '' && !list.includes(value) && list.length < max) {
    list.push(value);
  }
}

function isRedelivery(state: IncidentState, alert: Alert): boolean {
  if (state.alerts.recentIds.includes(alert.id)) {
    return true;
  }
  state.alerts.recentIds.push(alert.id);
  if (state.alerts.recentIds.length > state.limits.maxRecentAlertIds) {
    state.alerts.recentIds.shift();
  }
  return false;
}

function noteAlert(state: IncidentState, alert: Alert): void {
  const alerts = state.alerts;
  if (alerts.samples.length < state.limits.maxAlertSamples) {
    alerts.samples.push(alert);
  }
  if (alert.status === 'resolved') {
    alerts.resolved += 1;
  } else {
    alerts.firing += 1;
  }
  addBounded(alerts.rules, alert.rule, maxRules);
  addBounded(alerts.users, alert.user, maxUsers);
  for (const technique of alert.mitre.techniques) addBounded(alerts.mitre.techniques, technique, maxMitreTags);
  for (const tactic of alert.mitre.tactics) addBounded(alerts.mitre.tactics, tactic, maxMitreTags);
}

/**
 * Raises the incident severity when a firing alert is worse under the pinned playbook. Severity only
 * ever rises within an incident; a resolved alert never changes it.
 */
export function escalateSeverity(state: IncidentState, alert: Alert): boolean {
  if (state.playbook === undefined || state.severity === undefined || alert.status === 'resolved') {
    return false;
  }
  const candidate = classifySeverity(alert, state.playbook, { podLabels: state.target?.labels });
  if (candidate.severity === state.severity || !severityAtLeast(candidate.severity, state.severity)) {
    return false;
  }
  const reason = `${alert.rule}: ${candidate.reason}`;
  record(state, 'note', `severity raised from ${state.severity} to ${candidate.severity}`, {
    reason,
    alertId: alert.id,
  });
  state.severity = candidate.severity;
  state.severityHistory.push({ severity: candidate.severity, at: nowIso(), reason });
  return true;
}

/**
 * Adds a batch to the incident. Alert ids already seen (within the last `maxRecentAlertIds`) count as
 * redeliveries and are not evidence again. Only the first `maxAlertSamples` alerts are kept whole; the
 * rest are counted, so a storm of alerts keeps the state bounded.
 */
export function ingestBatch(state: IncidentState, batch: AlertBatch): { newAlerts: Alert[] } {
  const newAlerts = batch.alerts.filter((alert) => !isRedelivery(state, alert));
  const duplicatesInBatch = batch.alerts.length - newAlerts.length;
  const unsampled = Math.max(0, batch.count - batch.alerts.length);

  state.alerts.count += newAlerts.length + unsampled;
  state.alerts.redeliveries += batch.redeliveries + duplicatesInBatch;
  state.alerts.firing += unsampled;
  state.alerts.sinceQuiet += newAlerts.length + unsampled;
  if (newAlerts.length + unsampled > 0) {
    state.alerts.lastAt = nowIso();
  }
  for (const alert of newAlerts) {
    noteAlert(state, alert);
  }

  const rules = [...new Set(newAlerts.map((alert) => alert.rule))].slice(0, 5);
  if (newAlerts.length + unsampled > 0 || duplicatesInBatch + batch.redeliveries > 0) {
    record(state, 'alert', `${newAlerts.length + unsampled} new alerts (${rules.join(', ') || 'no sample'})`, {
      count: batch.count,
      redeliveries: batch.redeliveries + duplicatesInBatch,
      storedAt: batch.storedAt,
      ids: newAlerts.slice(0, 5).map((alert) => alert.id),
    });
  }
  return { newAlerts };
}
