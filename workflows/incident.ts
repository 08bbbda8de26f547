import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AlertBatch } from '../domain/incident';
import type { IncidentLimits, IncidentResult, IncidentWorkflowInput } from '../domain/response';
import { flushAlertBodies } from './alert-bodies';
import { receiveAlertSignal } from './alert-signal';
import { escalateSeverity, holdLateAlerts, ingestBatch } from './alerts';
import { watchClocks } from './clocks';
import { decideGate, validateDecisionInput } from './gate-decisions';
import { alertsSignal, decideGateUpdate, standDownUpdate, statusQuery } from './messages';
import { nextIncidentInput } from './next-incident';
import { newRatingState, rateQueuedAlerts } from './playbook-rating';
import { resumePages } from './notify';
import { publishIncident } from './search-attributes';
import type { StageContext } from './stage-context';
import { requestStandDown, validateStandDownInput } from './stand-down';
import { standDown, closeIncident } from './stages-close';
import { collectEvidence, escalateGate, isolate, isolateGate, triage } from './stages-detect';
import { eradicate, quietPeriod, restore, restoreGate, watch } from './stages-recover';
import { containmentRetry } from './stages-retry';
import type { IncidentState, Stage } from './state';
import { incidentStatus } from './status';
import { nowIso, record } from './timeline';

/** Argument of the workflow; `continued` carries the state into a run started by continue-as-new. */
export interface IncidentWorkflowArgs extends IncidentWorkflowInput {
  continued?: IncidentState;
}

export const defaultLimits: IncidentLimits = {
  maxAlertSamples: 20,
  maxAlertSampleBytes: 128 * 1024,
  maxPendingBodyBytes: 256 * 1024,
  maxTimelineEntries: 500,
  maxTimelineBytes: 192 * 1024,
  maxAuditBytes: 256 * 1024,
  maxRecentAlertIds: 1000,
  maxTriggerUsers: 1000,
  maxHistoryEvents: 10_000,
};

const stages: Record<Exclude<Stage, 'done'>, (context: StageContext) => Promise<Stage>> = {
  triage,
  isolateGate,
  isolate,
  containmentRetry,
  evidence: collectEvidence,
  escalateGate,
  eradicate,
  quiet: quietPeriod,
  restoreGate,
  restore,
  watch,
  standDown,
  report: closeIncident,
};

function initialState(input: IncidentWorkflowArgs): IncidentState {
  const openedAt = nowIso();
  return {
    incidentId: workflowInfo().workflowId,
    fingerprint: input.fingerprint,
    ...(input.firstAlert === undefined ? {} : { firstAlert: input.firstAlert }),
    ...(input.previousRunId === undefined ? {} : { previousRunId: input.previousRunId }),
    stage: 'triage',
    phase: 'detect',
    phaseTimes: { detect: openedAt },
    openedAt,
    dryRun: input.dryRun ?? false,
    limits: { ...defaultLimits, ...input.limits },
    // A playbook given in the input rates every alert; a selected one gives way to a stronger playbook.
    ...(input.playbook === undefined ? { playbookRating: newRatingState() } : {}),
    severityHistory: [],
    alerts: {
      samples: [],
      sampleBytes: 0,
      count: 0,
      resolvedCount: 0,
      redeliveries: 0,
      recentKeys: [],
      sinceQuiet: 0,
      rules: [],
      triggerers: [],
      triggererBytes: 0,
      mitre: { techniques: [], tactics: [] },
      pendingBodies: [],
      pendingBodyBytes: 0,
      bodiesSkipped: 0,
    },
    timeline: [],
    timelineBytes: 0,
    audit: [],
    auditBytes: 0,
    timelineDropped: 0,
    entrySeq: 0,
    rejectedAttempts: 0,
    slackMessages: {},
    gates: [],
    decisions: {},
    clocks: [],
    containment: [],
    inverses: [],
    failedSteps: [],
    containmentRetries: 0,
    pendingPages: [],
    uiBaseUrl: input.uiBaseUrl,
    continuedRuns: 0,
  };
}

/** Adds a batch; once the incident is closing or standing down, firing alerts are held for the next incident. */
function onAlerts(state: IncidentState, batch: AlertBatch): void {
  if (state.phase === 'closed' || state.standDown !== undefined) {
    holdLateAlerts(state, batch);
    return;
  }
  const { fresh } = ingestBatch(state, batch);
  for (const alert of fresh) {
    escalateSeverity(state, alert);
  }
  publishIncident(state);
}

function startState(input: IncidentWorkflowArgs): IncidentState {
  const state = initialState(input);
  if (input.previousRunId !== undefined) {
    record(state, 'note', `follows the closed incident run ${input.previousRunId} of the same fingerprint`);
  }
  if (input.lateAlerts !== undefined) onAlerts(state, input.lateAlerts);
  return state;
}

function registerHandlers(state: IncidentState): void {
  setHandler(alertsSignal, (payload) => receiveAlertSignal(state, payload, (batch) => onAlerts(state, batch)));
  setHandler(statusQuery, () => incidentStatus(state));
  setHandler(decideGateUpdate, (input) => decideGate(state, input), { validator: validateDecisionInput });
  setHandler(standDownUpdate, (input) => requestStandDown(state, input), { validator: validateStandDownInput });
}

function shouldContinueAsNew(state: IncidentState): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= state.limits.maxHistoryEvents;
}

function stageContext(state: IncidentState, input: IncidentWorkflowArgs): StageContext {
  const shouldContinue = () => shouldContinueAsNew(state);
  const checkpoint = async (): Promise<void> => {
    if (!shouldContinue()) return;
    await flushAlertBodies(state, input.evidenceTaskQueue);
    await condition(allHandlersFinished);
    state.continuedRuns += 1;
    record(state, 'note', `continuing as new after ${workflowInfo().historyLength} history events`);
    await continueAsNew<typeof incidentWorkflow>({ ...input, continued: state });
  };
  return { state, input, checkpoint, shouldContinue, gateOptions: { checkpoint, shouldContinue } };
}

/**
 * Runs one incident, from its first alert to its report: detect and confirm, isolate and analyse, eradicate
 * and clean, recover and review. Each stage returns the next one. Between stages, and while a gate or
 * the quiet period waits, the workflow continues as new when history grows long and carries the whole
 * state, so an incident may run for days. Firing alerts that arrive once the incident has decided to close
 * are not dropped: the run continues as new into the next incident, which starts with them.
 */
export async function incidentWorkflow(input: IncidentWorkflowArgs): Promise<IncidentResult> {
  const state = input.continued ?? startState(input);
  registerHandlers(state);
  watchClocks(state);
  void rateQueuedAlerts(state);
  if (input.continued !== undefined) resumePages(state);
  publishIncident(state);

  const context = stageContext(state, { ...input, continued: undefined, lateAlerts: undefined });
  while (state.stage !== 'done') {
    if (state.standDown && !['standDown', 'report'].includes(state.stage)) {
      state.stage = 'standDown';
    }
    state.stage = await stages[state.stage](context);
    publishIncident(state);
    await context.checkpoint();
  }

  await condition(allHandlersFinished);
  // Signals that arrive while this task completes make Temporal reject the completion, so their handlers
  // run first and this check finds their alerts.
  if (state.lateAlerts !== undefined) {
    await continueAsNew<typeof incidentWorkflow>(nextIncidentInput(state, input, workflowInfo().runId));
  }
  return {
    incidentId: state.incidentId,
    outcome: state.outcome ?? 'closed',
    severity: state.severity,
    report: state.report,
  };
}
