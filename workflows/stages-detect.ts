import { ApplicationFailure, condition, patched } from '@temporalio/workflow';
import type { Alert, AlertSummary } from '../domain/alert';
import { resolvedPlaybookSchema } from '../domain/playbook';
import { classifySeverity } from '../domain/playbook-match';
import type { CollectorKind, EvidenceLimits, SelectPlaybookResult, TargetRef } from '../domain/response';
import { parseDurationMs } from '../domain/duration';
import type { Playbook } from '../domain/playbook';
import { escalateSeverity } from './alerts';
import { flushAlertBodies, keepEvidence } from './alert-bodies';
import { escalation, evidenceActivities, kubernetes, playbooks } from './activities';
import { createClocks, watchClocks } from './clocks';
import { runContainment } from './containment';
import { runGate } from './gates';
import { startPage } from './notify';
import { enterPhase } from './phase';
import { publishIncident } from './search-attributes';
import type { StageContext } from './stage-context';
import type { IncidentState, Stage } from './state';
import { errorMessage, nowIso, record } from './timeline';

async function pinPlaybook(context: StageContext, alert: Alert): Promise<SelectPlaybookResult> {
  const supplied = context.input.playbook;
  if (supplied === undefined) {
    return playbooks.selectPlaybook({ alert });
  }
  const parsed = resolvedPlaybookSchema.safeParse(supplied);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid playbook in the workflow input: ${issues}`, 'InvalidPlaybook');
  }
  const { severity, reason } = classifySeverity(alert, parsed.data);
  const selectionReason = `playbook ${parsed.data.metadata.name} given in the workflow input`;
  return { playbook: parsed.data, selectionReason, usedDefault: false, severity, severityReason: reason };
}

async function resolveTarget(state: IncidentState, alert: Alert): Promise<void> {
  const { namespace, pod, containerId, node } = alert.target;
  try {
    const result = await kubernetes.resolveTarget({ incidentId: state.incidentId, namespace, pod, containerId, node });
    if (result.status === 'resolved') {
      state.target = result.target;
      record(state, 'step', `target resolved: ${result.target.namespace}/${result.target.pod}`, {
        uid: result.target.uid,
      });
    } else {
      state.targetUnresolvedReason = result.reason;
      record(state, 'error', `target not resolved, so no automatic action: ${result.reason}`);
    }
  } catch (error) {
    state.targetUnresolvedReason = errorMessage(error);
    record(state, 'error', `target not resolved, so no automatic action`, { error: state.targetUnresolvedReason });
  }
  publishIncident(state);
}

/** Builds an alert from the start arguments' summary, for an incident whose alerts arrived as a count only. */
function alertFromSummary(summary: AlertSummary): Alert {
  return {
    ...summary,
    tags: [],
    mitre: { techniques: [], tactics: [] },
    process: {},
    fields: {},
    priorityRecognised: true,
  };
}

function firstAlertOf(state: IncidentState): Alert | undefined {
  const { samples } = state.alerts;
  const summary = state.firstAlert;
  return samples.find((alert) => alert.status === 'firing') ?? samples[0] ?? (summary && alertFromSummary(summary));
}

/** Detect and confirm: pin the playbook, classify severity, start the clocks and resolve the target. */
export async function triage(context: StageContext): Promise<Stage> {
  const { state } = context;
  const counted = () => state.alerts.count + state.alerts.resolvedCount > 0 && state.firstAlert !== undefined;
  await condition(() => state.alerts.samples.length > 0 || counted() || state.standDown !== undefined);
  const first = firstAlertOf(state);
  if (first === undefined) {
    return 'standDown';
  }

  const selected = await pinPlaybook(context, first);
  state.playbook = selected.playbook;
  state.dryRun = state.dryRun || selected.playbook.dryRun;
  state.severity = selected.severity;
  state.severityHistory.push({ severity: selected.severity, at: nowIso(), reason: selected.severityReason });
  const { name, version } = selected.playbook.metadata;
  record(state, 'step', `playbook ${name} v${version} pinned, severity ${selected.severity}`, {
    selection: selected.selectionReason,
    severityReason: selected.severityReason,
    dryRun: state.dryRun,
  });
  for (const alert of state.alerts.samples) escalateSeverity(state, alert);
  createClocks(state);
  watchClocks(state);
  publishIncident(state);

  if (state.alerts.count === 0) {
    record(state, 'note', 'every alert so far is resolved at its source, so no containment starts');
    state.outcome = 'resolved at the source before any response';
    return 'report';
  }
  await resolveTarget(state, first);
  return 'isolateGate';
}

export async function isolateGate(context: StageContext): Promise<Stage> {
  const { state } = context;
  const forceAsk = state.target === undefined ? 'the target is unresolved, so nothing acts automatically' : undefined;
  await runGate(state, 'isolate', { ...context.gateOptions, forceAsk });
  return 'isolate';
}

/** Isolate and analyse: quarantine when the isolate gate approved; a failed step goes to a person. */
export async function isolate(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'isolate');
  if (state.decisions.isolate !== 'approve') {
    record(state, 'note', 'isolation not approved, so the workload keeps running');
  } else if (state.target === undefined) {
    record(state, 'note', 'isolation approved but the target is unresolved: contain it by hand');
  } else {
    await runContainment(state, 'isolate');
    if (state.failedSteps.some((failed) => failed.phase === 'isolate')) {
      state.retryPhase = 'isolate';
      return 'containmentRetry';
    }
  }
  return 'evidence';
}

const collectorOf: Record<string, CollectorKind | undefined> = {
  pod: 'objects',
  owners: 'objects',
  node: 'objects',
  events: 'objects',
  'network-policies': 'objects',
  rbac: 'objects',
  logs: 'logs',
  processes: 'exec',
  connections: 'exec',
  'file-changes': 'exec',
  checkpoint: 'checkpoint',
};

function evidenceLimits(playbook: Playbook): EvidenceLimits {
  const options = playbook.evidenceOptions;
  return {
    ...(options.maxLogBytes === undefined ? {} : { maxLogBytes: options.maxLogBytes }),
    ...(options.execDeadline === undefined ? {} : { execDeadlineMs: parseDurationMs(options.execDeadline) }),
  };
}

async function collectFromCluster(
  state: IncidentState,
  target: TargetRef,
  playbook: Playbook,
  evidenceTaskQueue: string | undefined,
): Promise<void> {
  const kinds = [...new Set(playbook.evidence.map((kind) => collectorOf[kind]).filter((kind) => kind !== undefined))];
  if (kinds.length === 0) return;
  const input = {
    incidentId: state.incidentId,
    target,
    kinds,
    limits: evidenceLimits(playbook),
    keepSecretsInRaw: playbook.evidenceOptions.keepSecrets,
  };
  const result = await evidenceActivities(evidenceTaskQueue).collectEvidence(input);
  const kept = keepEvidence(state, result);
  record(state, 'step', `evidence collected: ${result.artefacts.length} artefacts`, {
    manifestPath: result.manifestPath,
    ...(kept.custodyHeadSha256 === undefined
      ? {}
      : { custodyHeadSha256: kept.custodyHeadSha256, custodyEntryCount: kept.custodyEntryCount }),
  });
}

/** Captures the playbook's evidence; a failed collector is recorded and the response goes on. */
export async function collectEvidence(context: StageContext): Promise<Stage> {
  const { state } = context;
  const { evidenceTaskQueue } = context.input;
  const playbook = state.playbook;
  if (playbook === undefined) return 'escalateGate';
  try {
    await flushAlertBodies(state, evidenceTaskQueue);
    if (state.target !== undefined) await collectFromCluster(state, state.target, playbook, evidenceTaskQueue);
  } catch (error) {
    record(state, 'error', 'evidence collection failed', { error: errorMessage(error) });
  }
  return 'escalateGate';
}

/** Marks histories whose escalation page runs in the background while the response goes on. */
const pageInBackgroundPatch = 'page-escalation-in-background';

/**
 * Gate 2: calls external help when approved. The page runs in the background, so a failing paging service
 * that retries for many minutes does not hold up eradication. Its result is recorded when it ends.
 */
export async function escalateGate(context: StageContext): Promise<Stage> {
  const { state } = context;
  const result = await runGate(state, 'escalate', context.gateOptions);
  if (result.decision !== 'approve') {
    return 'eradicate';
  }
  const escalationPolicy = state.playbook?.escalation;
  if (escalationPolicy === undefined || state.severity === undefined) {
    record(state, 'error', 'escalation approved but the playbook has no escalation target');
    return 'eradicate';
  }
  const summary = `Firebreak ${state.severity} incident ${state.incidentId}: ${state.alerts.rules[0] ?? 'alert'}`;
  const input = {
    incidentId: state.incidentId,
    target: { url: escalationPolicy.url, routingKeyEnv: escalationPolicy.routingKeyEnv },
    summary,
    severity: state.severity,
    source: 'firebreak',
    dedupKey: state.incidentId,
  };
  if (patched(pageInBackgroundPatch)) {
    record(state, 'note', 'paging the external responders; the response goes on while the page is sent');
    startPage(state, input);
    return 'eradicate';
  }
  try {
    const paged = await escalation.escalateIncident(input);
    record(state, 'step', 'external responders paged', { dedupKey: paged.dedupKey, status: paged.status });
  } catch (error) {
    record(state, 'error', 'paging the external responders failed', { error: errorMessage(error) });
  }
  return 'eradicate';
}
