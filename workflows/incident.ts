import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AlertBatch } from '../domain/incident';
import type { IncidentLimits, IncidentResult, IncidentWorkflowInput } from '../domain/response';
import { escalateSeverity, ingestBatch } from './alerts';
import { watchClocks } from './clocks';
import { decideGate, validateDecisionInput } from './gate-decisions';
import { alertsSignal, decideGateUpdate, standDownSignal, statusQuery, type StandDownInput } from './messages';
import { publishIncident } from './search-attributes';
import type { StageContext } from './stage-context';
import { collectEvidence, escalateGate, isolate, isolateGate, triage } from './stages-detect';
import { closeIncident, eradicate, quietPeriod, restore, restoreGate, standDown, watch } from './stages-recover';
import type { IncidentState, Stage } from './state';
import { incidentStatus } from './status';
import { nowIso, record } from './timeline';

/** Argument of the workflow; `continued` carries the state into a run started by continue-as-new. */
export interface IncidentWorkflowArgs extends IncidentWorkflowInput {
  continued?: IncidentState;
}

export const defaultLimits: IncidentLimits = {
  maxAlertSamples: 20,
  maxTimelineEntries: 500,
  maxRecentAlertIds: 1000,
  maxHistoryEvents: 10_000,
};

const stages: Record<Exclude<Stage, 'done'>, (context: StageContext) => Promise<Stage>> = {
  triage,
  isolateGate,
  isolate,
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
    stage: 'triage',
    phase: 'detect',
    phaseTimes: { detect: openedAt },
    openedAt,
    dryRun: input.dryRun ?? false,
    limits: { ...defaultLimits, ...input.limits },
    severityHistory: [],
    alerts: {
      samples: [],
      count: 0,
      redeliveries: 0,
      firing: 0,
      resolved: 0,
      recentIds: [],
      sinceQuiet: 0,
      rules: [],
      users: [],
      mitre: { techniques: [], tactics: [] },
    },
    timeline: [],
    timelineDropped: 0,
    slackMessages: {},
    gates: [],
    decisions: {},
    clocks: [],
    containment: [],
    inverses: [],
    uiBaseUrl: input.uiBaseUrl,
    continuedRuns: 0,
  };
}

function startState(input: IncidentWorkflowArgs): IncidentState {
  const state = initialState(input);
  if (input.previousRunId !== undefined) {
    record(state, 'note', `follows the closed incident run ${input.previousRunId} of the same fingerprint`);
  }
  return state;
}

function onAlerts(state: IncidentState, batch: AlertBatch): void {
  const { newAlerts } = ingestBatch(state, batch);
  for (const alert of newAlerts) {
    escalateSeverity(state, alert);
  }
  publishIncident(state);
}

function onStandDown(state: IncidentState, request: StandDownInput): void {
  if (state.standDown !== undefined || state.phase === 'closed') {
    record(
      state,
      'note',
      `stand-down by ${request.by} ignored: the incident is already ${state.phase === 'closed' ? 'closed' : 'standing down'}`,
    );
    return;
  }
  state.standDown = { ...request, at: nowIso() };
  record(state, 'note', `stand-down requested by ${request.by}: ${request.reason}`, {
    liftContainment: request.liftContainment,
  });
}

function registerHandlers(state: IncidentState): void {
  setHandler(alertsSignal, (batch) => onAlerts(state, batch));
  setHandler(standDownSignal, (request) => onStandDown(state, request));
  setHandler(statusQuery, () => incidentStatus(state));
  setHandler(decideGateUpdate, (input) => decideGate(state, input), { validator: validateDecisionInput });
}

function shouldContinueAsNew(state: IncidentState): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= state.limits.maxHistoryEvents;
}

function stageContext(state: IncidentState, input: IncidentWorkflowArgs): StageContext {
  const shouldContinue = () => shouldContinueAsNew(state);
  const checkpoint = async (): Promise<void> => {
    if (!shouldContinue()) return;
    await condition(allHandlersFinished);
    state.continuedRuns += 1;
    record(state, 'note', `continuing as new after ${workflowInfo().historyLength} history events`);
    await continueAsNew<typeof incidentWorkflow>({ ...input, continued: state });
  };
  return { state, input, checkpoint, shouldContinue, gateOptions: { checkpoint, shouldContinue } };
}

/**
 * One incident, from its first alert to its report: detect and confirm, isolate and analyse, eradicate
 * and clean, recover and review. Each stage returns the next one. Between stages, and while a gate or
 * the quiet period waits, the workflow continues as new when history grows long and carries the whole
 * state, so an incident may run for days.
 */
export async function incidentWorkflow(input: IncidentWorkflowArgs): Promise<IncidentResult> {
  const state = input.continued ?? startState(input);
  registerHandlers(state);
  watchClocks(state);
  publishIncident(state);

  const context = stageContext(state, { ...input, continued: undefined });
  while (state.stage !== 'done') {
    if (state.standDown && !['standDown', 'report'].includes(state.stage)) {
      state.stage = 'standDown';
    }
    state.stage = await stages[state.stage](context);
    publishIncident(state);
    await context.checkpoint();
  }

  await condition(allHandlersFinished);
  return {
    incidentId: state.incidentId,
    outcome: state.outcome ?? 'closed',
    severity: state.severity,
    report: state.report,
  };
}
