import type {
  ClockRecord,
  ContainmentRecord,
  GateResult,
  IncidentRecord,
  TargetRef,
  TimelineEntry,
} from '../../domain/response';
import type { RecordCustodyHead } from '../evidence/anchor';
import type { ChainSummary, CustodyEntry } from '../evidence/custody';
import type { VerifyResult } from '../evidence/verify';
import { artefactStatusOf, artefactStatusOfRef, type ArtefactState, type ArtefactStatus } from './artefact-state';
import { findHardeningIssues, type HardeningFinding } from './hardening';
import { recoverySteps, type RecoveryStep } from './recovery';
import { fiveWhys, followUpActions, type WhyAnswer } from './root-cause';
import { buildTimeline, mapAttackChain, type AttackChainStage } from './timeline';

/** One row of the evidence table. */
export interface EvidenceRow {
  name: string;
  sha256: string;
  bytes: number;
  /** complete, truncated, partial, stopped (by the collector's deadline), unsupported or failed. */
  state: ArtefactState;
  /** Reason the artefact is not complete; absent when it is complete. */
  stateReason?: string;
  incomplete: boolean;
  truncated: boolean;
  unsupported: boolean;
  collectedAt?: string;
  collector?: string;
  source?: string;
}

/** Evidence store contents for a report: the custody manifest, its verification and the pod object. */
export interface EvidenceContext {
  manifestPath: string;
  entries: CustodyEntry[];
  verification?: Pick<VerifyResult, 'ok' | 'problems'>;
  /** Head and length of the custody chain in the store. */
  chain?: ChainSummary;
  /** Head that the workflow recorded at collection, as the incident record carries it. */
  recordedHead?: RecordCustodyHead;
  /** True when `verification` compared the chain with `recordedHead`. */
  verifiedAgainstRecordedHead?: boolean;
  /** The captured pod object (its redacted copy), for hardening findings. */
  pod?: unknown;
}

export interface IncidentReport {
  schemaVersion: 1;
  generatedAt: string;
  summary: {
    incidentId: string;
    fingerprint: string;
    playbook: string;
    outcome: string;
    phase: string;
    dryRun: boolean;
    openedAt: string;
    closedAt?: string;
    durationMs?: number;
    alertCount: number;
    redeliveries: number;
    rules: string[];
    target: string;
    standDown?: IncidentRecord['standDown'];
  };
  severity: { current: string; history: IncidentRecord['severityHistory'] };
  clocks: (ClockRecord & { status: ClockStatus })[];
  target: TargetRef | { unresolved: string };
  timeline: { entries: TimelineEntry[]; dropped: number };
  attackChain: AttackChainStage[];
  decisions: GateResult[];
  evidence: {
    manifestPath?: string;
    artefacts: EvidenceRow[];
    /** Artefacts that the table lacks because it was built from the bounded record; the manifest lists them. */
    omittedArtefacts?: number;
    verification?: EvidenceContext['verification'];
    chain?: ChainSummary;
    recordedHead?: RecordCustodyHead;
    verifiedAgainstRecordedHead: boolean;
  };
  containment: ContainmentRecord[];
  recovery: RecoveryStep[];
  rootCause: WhyAnswer[];
  hardening: { findings: HardeningFinding[] } | { unavailable: string };
  followUps: string[];
}

/** Builds the report model from the workflow's record and, when available, the evidence store's view. */
export function buildIncidentReport(
  record: IncidentRecord,
  evidence: EvidenceContext | undefined,
  now = new Date(),
): IncidentReport {
  const chain = mapAttackChain(record);
  const findings = evidence?.pod === undefined ? undefined : findHardeningIssues(evidence.pod);
  const artefacts = evidenceRows(record, evidence);
  const incompleteEvidence = artefacts.filter((row) => row.incomplete || row.truncated).map((row) => row.name);
  const rootCauseInput = { record, chain, findings };

  return {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    summary: summaryOf(record),
    severity: { current: record.severity, history: record.severityHistory },
    clocks: record.clocks.map((clock) => ({ ...clock, status: clockStatus(clock) })),
    target: record.target ?? { unresolved: record.targetUnresolvedReason ?? 'no reason recorded' },
    timeline: { entries: buildTimeline(record), dropped: record.timelineDropped },
    attackChain: chain,
    decisions: record.gates,
    evidence: {
      manifestPath: evidence?.manifestPath ?? record.evidence?.manifestPath,
      artefacts,
      ...(evidence && evidence.entries.length > 0 ? {} : { omittedArtefacts: record.evidence?.omittedArtefacts }),
      verification: evidence?.verification,
      chain: evidence?.chain,
      recordedHead: evidence?.recordedHead,
      verifiedAgainstRecordedHead: evidence?.verifiedAgainstRecordedHead ?? false,
    },
    containment: record.containment,
    recovery: recoverySteps(record),
    rootCause: fiveWhys(rootCauseInput),
    hardening: findings
      ? { findings }
      : { unavailable: evidence ? 'the pod object was not captured' : 'no evidence store was available' },
    followUps: followUpActions({ ...rootCauseInput, incompleteEvidence }),
  };
}

/** `stopped`: the incident was stood down before the clock's work was done, so it was neither met nor missed. */
export type ClockStatus = 'met' | 'missed' | 'stopped' | 'running';

function clockStatus(clock: ClockRecord): ClockStatus {
  if (clock.metAt) return 'met';
  if (clock.missedAt) return 'missed';
  if (clock.stoppedAt) return 'stopped';
  return 'running';
}

function summaryOf(record: IncidentRecord): IncidentReport['summary'] {
  const durationMs = record.closedAt ? Date.parse(record.closedAt) - Date.parse(record.openedAt) : undefined;
  const target = record.target
    ? `${record.target.namespace}/${record.target.pod}${record.target.workload ? ` (${record.target.workload.kind} ${record.target.workload.name})` : ''}`
    : 'unresolved';
  return {
    incidentId: record.incidentId,
    fingerprint: record.fingerprint,
    playbook: `${record.playbook.name}@${record.playbook.version}`,
    outcome: record.outcome,
    phase: record.phase,
    dryRun: record.dryRun,
    openedAt: record.openedAt,
    closedAt: record.closedAt,
    durationMs: durationMs !== undefined && !Number.isNaN(durationMs) ? durationMs : undefined,
    alertCount: record.alertCount,
    redeliveries: record.redeliveries,
    rules: record.rules,
    target,
    standDown: record.standDown,
  };
}

/** Rows from the custody manifest when the store is readable (it lists every artefact), else from the record. */
function evidenceRows(record: IncidentRecord, evidence: EvidenceContext | undefined): EvidenceRow[] {
  if (evidence && evidence.entries.length > 0) {
    return evidence.entries.map((entry) => ({
      name: entry.name,
      sha256: entry.sha256,
      bytes: entry.bytes,
      ...stateFields(artefactStatusOf(entry)),
      incomplete: entry.incomplete,
      truncated: entry.truncated,
      unsupported: entry.details?.unsupported === true,
      collectedAt: entry.collectedAt,
      collector: `${entry.collector.name}/${entry.collector.version}`,
      source: `${entry.source.kind} ${entry.source.namespace ? `${entry.source.namespace}/` : ''}${entry.source.name}${entry.source.container ? ` [${entry.source.container}]` : ''}`,
    }));
  }
  return (record.evidence?.artefacts ?? []).map((artefact) => ({
    name: artefact.name,
    sha256: artefact.sha256,
    bytes: artefact.bytes,
    ...stateFields(artefactStatusOfRef(artefact)),
    incomplete: artefact.incomplete ?? false,
    truncated: artefact.truncated ?? false,
    unsupported: artefact.unsupported ?? false,
  }));
}

function stateFields(status: ArtefactStatus): Pick<EvidenceRow, 'state' | 'stateReason'> {
  return status.reason === undefined ? { state: status.state } : { state: status.state, stateReason: status.reason };
}
