import { alertDedupeKey, type Alert, type Severity } from '../domain/alert';
import { maxDeciderLength, type AlertBatch } from '../domain/incident';
import { classifySeverity, severityAtLeast } from '../domain/playbook-match';
import { cutToBytes, jsonBytes, shortHash, utf8Bytes } from './bounds';
import { queueForRating } from './playbook-rating';
import type { AlertLedger, IncidentState } from './state';
import { nowIso, record } from './timeline';

const maxRules = 20;
const maxRuleBytes = 256;
const maxMitreTags = 50;
/** UTF-8 bytes of all remembered triggering users together. */
const maxTriggererBytes = 64 * 1024;
/** Maximum length of a dedupe key stored whole; a longer key is stored as a prefix and a hash. */
const maxKeyLength = 128;
/** Sizes of the texts a compact sample keeps. */
const maxOutputBytes = 4096;
const maxProcessTextBytes = 1024;
const maxFieldBytes = 4096;
const maxFieldsBytes = 16 * 1024;

function addBounded(list: string[], value: string | undefined, max: number): void {
  if (value === undefined || value === '') return;
  const kept = cutToBytes(value, maxRuleBytes);
  if (!list.includes(kept) && list.length < max) list.push(kept);
}

function rememberedKey(alert: Alert): string {
  const key = alertDedupeKey(alert);
  return key.length <= maxKeyLength ? key : `${key.slice(0, maxKeyLength - 9)}#${shortHash(key)}`;
}

/** True when the alert's key was seen within the last `maxRecentAlertIds` alerts; else remembers it. */
export function isRedelivery(ledger: AlertLedger, maxKeys: number, alert: Alert): boolean {
  const key = rememberedKey(alert);
  if (ledger.recentKeys.includes(key)) return true;
  ledger.recentKeys.push(key);
  if (ledger.recentKeys.length > maxKeys) ledger.recentKeys.shift();
  return false;
}

function compactFields(fields: Alert['fields']): Alert['fields'] {
  const kept: Alert['fields'] = {};
  let bytes = 2;
  for (const [name, value] of Object.entries(fields)) {
    const cut = typeof value === 'string' ? cutToBytes(value, maxFieldBytes) : value;
    bytes += jsonBytes(name) + jsonBytes(cut) + 2;
    if (bytes > maxFieldsBytes) break;
    kept[name] = cut;
  }
  return kept;
}

/**
 * Returns the copy of an alert that the incident keeps in its state: without the raw event (which goes to
 * `storeAlertBodies`) and with long texts cut, so a few large alerts cannot fill the state.
 */
export function compactAlert(alert: Alert): Alert {
  const cut = (text: string | undefined, maxBytes: number) =>
    text === undefined ? undefined : cutToBytes(text, maxBytes);
  const { rawEvent: _rawEvent, ...rest } = alert;
  return {
    ...rest,
    output: cut(alert.output, maxOutputBytes),
    user: cut(alert.user, maxProcessTextBytes),
    process: {
      name: cut(alert.process.name, maxProcessTextBytes),
      cmdline: cut(alert.process.cmdline, maxProcessTextBytes),
      exePath: cut(alert.process.exePath, maxProcessTextBytes),
      parentName: cut(alert.process.parentName, maxProcessTextBytes),
    },
    fields: compactFields(alert.fields),
  };
}

function noteTriggerer(state: IncidentState, user: string | undefined): void {
  const ledger = state.alerts;
  // A user longer than any decider can never be a decider, so it never needs to be compared.
  if (user === undefined || user === '' || user.length > maxDeciderLength || ledger.triggerers.includes(user)) return;
  const bytes = utf8Bytes(user);
  if (ledger.triggerers.length >= state.limits.maxTriggerUsers || ledger.triggererBytes + bytes > maxTriggererBytes) {
    ledger.triggerersIncomplete ??= `more than ${ledger.triggerers.length} distinct users triggered alerts`;
    return;
  }
  ledger.triggerers.push(user);
  ledger.triggererBytes += bytes;
}

function sample(state: IncidentState, alert: Alert): void {
  const ledger = state.alerts;
  const compact = compactAlert(alert);
  const bytes = jsonBytes(compact);
  if (
    ledger.samples.length >= state.limits.maxAlertSamples ||
    ledger.sampleBytes + bytes > state.limits.maxAlertSampleBytes
  ) {
    return;
  }
  ledger.samples.push(compact);
  ledger.sampleBytes += bytes;
  const body = alert.rawEvent ?? alert;
  const bodyBytes = jsonBytes(body);
  if (ledger.pendingBodyBytes + bodyBytes > state.limits.maxPendingBodyBytes) {
    ledger.bodiesSkipped += 1;
    return;
  }
  ledger.pendingBodies.push(body);
  ledger.pendingBodyBytes += bodyBytes;
}

function noteAlert(state: IncidentState, alert: Alert): void {
  const ledger = state.alerts;
  sample(state, alert);
  addBounded(ledger.rules, alert.rule, maxRules);
  noteTriggerer(state, alert.user);
  for (const technique of alert.mitre.techniques) addBounded(ledger.mitre.techniques, technique, maxMitreTags);
  for (const tactic of alert.mitre.tactics) addBounded(ledger.mitre.tactics, tactic, maxMitreTags);
}

/** Raises the incident severity and records why; the caller checks that the new severity is worse. */
export function raiseSeverity(state: IncidentState, severity: Severity, reason: string, alertId: string): void {
  record(state, 'note', `severity raised from ${state.severity ?? 'none'} to ${severity}`, {
    reason,
    alertId: cutToBytes(alertId, 256),
  });
  state.severity = severity;
  state.severityHistory.push({ severity, at: nowIso(), reason });
}

/**
 * Raises the incident severity when a firing alert is worse under the current playbook, and queues an alert
 * that the current playbook does not claim for rating by the playbook that would claim it. Severity only
 * ever rises within an incident; a resolved alert never changes it.
 */
export function escalateSeverity(state: IncidentState, alert: Alert): boolean {
  if (state.playbook === undefined || state.severity === undefined || alert.status === 'resolved') {
    return false;
  }
  queueForRating(state, alert);
  const candidate = classifySeverity(alert, state.playbook, { podLabels: state.target?.labels });
  if (candidate.severity === state.severity || !severityAtLeast(candidate.severity, state.severity)) {
    return false;
  }
  raiseSeverity(state, candidate.severity, cutToBytes(`${alert.rule}: ${candidate.reason}`, 1024), alert.id);
  return true;
}

/** Counts of one batch after de-duplication. */
interface BatchCounts {
  firing: number;
  resolved: number;
  redeliveries: number;
  unsampled: number;
}

function countBatch(batch: AlertBatch, fresh: Alert[]): BatchCounts {
  const unsampled = Math.max(0, batch.count - batch.alerts.length);
  // The intake sends resolved alerts in batches of their own, so a batch of resolved samples is resolved.
  const unsampledResolved = batch.alerts.length > 0 && batch.alerts.every((alert) => alert.status === 'resolved');
  const firing = fresh.filter((alert) => alert.status === 'firing').length;
  return {
    firing: firing + (unsampledResolved ? 0 : unsampled),
    resolved: fresh.length - firing + (unsampledResolved ? unsampled : 0),
    redeliveries: batch.redeliveries + batch.alerts.length - fresh.length,
    unsampled: unsampledResolved ? 0 : unsampled,
  };
}

/**
 * Adds a batch to the incident. Alerts whose `alertDedupeKey` was seen within the last `maxRecentAlertIds`
 * count as redeliveries and are not evidence again. Resolved alerts are counted apart and never restart the
 * quiet period or the watch. Only the first alerts that fit `maxAlertSamples` and `maxAlertSampleBytes` are
 * kept as compact samples; the rest are counted, so a storm keeps the state bounded.
 */
export function ingestBatch(state: IncidentState, batch: AlertBatch): { fresh: Alert[] } {
  const ledger = state.alerts;
  const fresh = batch.alerts.filter((alert) => !isRedelivery(ledger, state.limits.maxRecentAlertIds, alert));
  const counts = countBatch(batch, fresh);

  ledger.count += counts.firing;
  ledger.resolvedCount += counts.resolved;
  ledger.redeliveries += counts.redeliveries;
  ledger.sinceQuiet += counts.firing;
  if (counts.firing > 0) ledger.lastAt = nowIso();
  if (counts.unsampled > 0) {
    ledger.triggerersIncomplete ??= `${counts.unsampled} alerts arrived as a count without their users`;
  }
  for (const alert of fresh) noteAlert(state, alert);

  if (counts.firing + counts.resolved + counts.redeliveries > 0) {
    const rules = [...new Set(fresh.map((alert) => cutToBytes(alert.rule, maxRuleBytes)))].slice(0, 5);
    const resolved = counts.resolved > 0 ? `, ${counts.resolved} resolved` : '';
    // The distinct rules and MITRE ids of the batch let the report date each attack stage. Each list keeps a
    // few short values, so every value stays under the 512 bytes that boundEntryData keeps.
    const distinct = (values: string[], maxItems: number, maxBytes: number) =>
      [...new Set(values.map((value) => cutToBytes(value, maxBytes)))].slice(0, maxItems);
    const batchRules = distinct(
      fresh.map((alert) => alert.rule),
      4,
      96,
    );
    const tactics = distinct(
      fresh.flatMap((alert) => alert.mitre.tactics),
      6,
      32,
    );
    const techniques = distinct(
      fresh.flatMap((alert) => alert.mitre.techniques),
      6,
      32,
    );
    record(state, 'alert', `${counts.firing} new alerts${resolved} (${rules.join(', ') || 'no sample'})`, {
      count: batch.count,
      redeliveries: counts.redeliveries,
      storedAt: batch.storedAt,
      ids: fresh.slice(0, 5).map((alert) => cutToBytes(alert.id, 128)),
      rules: batchRules,
      mitre: { tactics, techniques },
    });
  }
  return { fresh };
}

/** Largest JSON size of the alerts held for the next incident; later ones are counted only. */
const maxLateAlertBytes = 256 * 1024;

/**
 * Holds firing alerts that arrive after the incident decided to close (it is closing, or a stand-down was
 * accepted), so the next incident starts with them. Resolved ones are counted on this incident.
 */
export function holdLateAlerts(state: IncidentState, batch: AlertBatch): void {
  const fresh = batch.alerts.filter((alert) => !isRedelivery(state.alerts, state.limits.maxRecentAlertIds, alert));
  const counts = countBatch(batch, fresh);
  state.alerts.resolvedCount += counts.resolved;
  state.alerts.redeliveries += counts.redeliveries;
  if (counts.firing === 0) return;

  const late = (state.lateAlerts ??= { alerts: [], count: 0, redeliveries: 0, bytes: 0 });
  late.count += counts.firing;
  for (const alert of fresh.filter((candidate) => candidate.status === 'firing')) {
    const bytes = jsonBytes(alert);
    if (late.bytes + bytes > maxLateAlertBytes) continue;
    late.alerts.push(alert);
    late.bytes += bytes;
  }
  record(
    state,
    'alert',
    `${counts.firing} alerts arrived after the incident decided to close; they start the next incident`,
  );
}
