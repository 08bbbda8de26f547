import { defineSearchAttributeKey, type SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { cutSearchAttributeValue, incidentSearchAttributes as names } from '../domain/search-attributes';
import { cutToBytes } from './bounds';
import type { IncidentState } from './state';

/** Search attributes that make the Temporal Web UI Firebreak's incident tracker. */
export const searchAttributeKeys = {
  phase: defineSearchAttributeKey(names.phase.name, names.phase.type),
  severity: defineSearchAttributeKey(names.severity.name, names.severity.type),
  namespace: defineSearchAttributeKey(names.namespace.name, names.namespace.type),
  workload: defineSearchAttributeKey(names.workload.name, names.workload.type),
  node: defineSearchAttributeKey(names.node.name, names.node.type),
  rule: defineSearchAttributeKey(names.rule.name, names.rule.type),
  gate: defineSearchAttributeKey(names.gate.name, names.gate.type),
  alertCount: defineSearchAttributeKey(names.alertCount.name, names.alertCount.type),
} as const;

function keyword(value: string | undefined): string | null {
  return value === undefined ? null : cutSearchAttributeValue(value);
}

/** Returns the search attribute values that describe the incident now; keyword values are cut to 1 KiB. */
export function searchAttributeValues(state: IncidentState): SearchAttributeUpdatePair[] {
  const first = state.alerts.samples[0]?.target ?? state.firstAlert?.target;
  const workload = state.target?.workload;
  const rule = state.alerts.rules[0] ?? state.firstAlert?.rule;
  return [
    { key: searchAttributeKeys.phase, value: state.phase },
    { key: searchAttributeKeys.severity, value: state.severity ?? null },
    { key: searchAttributeKeys.namespace, value: keyword(state.target?.namespace ?? first?.namespace) },
    {
      key: searchAttributeKeys.workload,
      value: keyword(workload ? `${workload.kind}/${workload.name}` : first?.workload),
    },
    { key: searchAttributeKeys.node, value: keyword(state.target?.node ?? first?.node) },
    { key: searchAttributeKeys.rule, value: keyword(rule) },
    { key: searchAttributeKeys.gate, value: state.openGate?.gate ?? 'none' },
    { key: searchAttributeKeys.alertCount, value: state.alerts.count },
  ];
}

/** Returns the one-line summary that the memo holds for the Web UI and `firebreak incidents list`. */
export function summaryLine(state: IncidentState): string {
  const target = state.target ? `${state.target.namespace}/${state.target.pod}` : 'target unresolved';
  const rule = cutToBytes(state.alerts.rules[0] ?? state.firstAlert?.rule ?? 'no rule yet', 256);
  const gate = state.openGate ? `, waiting at gate ${state.openGate.gate}` : '';
  const outcome = state.outcome ? `: ${state.outcome}` : '';
  const line = `${state.severity ?? 'P?'} ${rule} on ${target}, ${state.alerts.count} alerts, phase ${state.phase}${gate}${outcome}`;
  return cutToBytes(line, 2048);
}

/**
 * Upserts the search attributes and the memo summary when they changed. Each upsert adds one event to
 * history, so unchanged values are not written again.
 */
export function publishIncident(state: IncidentState): void {
  const current = workflowInfo().typedSearchAttributes;
  const changed = searchAttributeValues(state).filter((pair) => current.get(pair.key) !== (pair.value ?? undefined));
  if (changed.length > 0) {
    upsertSearchAttributes(changed);
  }

  const summary = summaryLine(state);
  if (workflowInfo().memo?.['summary'] !== summary) {
    upsertMemo({ summary });
  }
}
