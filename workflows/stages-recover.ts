import { condition } from '@temporalio/workflow';
import { parseDurationMs } from '../domain/duration';
import { kubernetes, report } from './activities';
import { keepContainment, runCompensation } from './compensation';
import { runContainment } from './containment';
import { runGate } from './gates';
import { page, settleNotifications } from './notify';
import { enterPhase } from './phase';
import type { StageContext } from './stage-context';
import { incidentRecord } from './status';
import type { IncidentState, Stage } from './state';
import { addMs, errorMessage, msUntil, nowIso, record } from './timeline';

const notificationGraceMs = 30_000;

/** Eradicate and clean: remove the threat when isolation was approved. */
export async function eradicate(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'eradicate');
  if (state.decisions.isolate !== 'approve' || state.target === undefined) {
    record(state, 'note', 'nothing was contained, so nothing is eradicated or restored');
    state.outcome ??= 'closed without containment';
    return 'report';
  }
  await runContainment(state, 'eradicate');
  return 'quiet';
}

/** Waits until no new alert has arrived for the playbook's quiet period; each alert restarts it. */
export async function quietPeriod(context: StageContext): Promise<Stage> {
  const { state } = context;
  const quietMs = parseDurationMs(state.playbook?.restore.quietPeriod ?? '0s');
  if (state.quietSince === undefined) {
    state.quietSince = nowIso();
    state.alerts.sinceQuiet = 0;
    record(state, 'note', `quiet period of ${state.playbook?.restore.quietPeriod ?? '0s'} started`);
  }
  for (;;) {
    if (state.standDown) return 'standDown';
    const quietUntil = addMs(state.quietSince, quietMs);
    if (msUntil(quietUntil) === 0) return 'restoreGate';
    await context.checkpoint();

    const seen = state.alerts.sinceQuiet;
    const alerted = await condition(
      () => state.alerts.sinceQuiet !== seen || state.standDown !== undefined || context.shouldContinue(),
      Math.max(1, msUntil(quietUntil)),
    );
    if (alerted && state.alerts.sinceQuiet !== seen) {
      state.quietSince = state.alerts.lastAt ?? nowIso();
      record(state, 'note', 'new alerts arrived, so the quiet period starts again');
    }
  }
}

export async function restoreGate(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'recover');
  const result = await runGate(state, 'restore', context.gateOptions);
  if (result.decision === 'approve') {
    return 'restore';
  }
  keepContainment(state);
  state.outcome ??= `containment kept in place (restore gate ${result.status})`;
  return 'report';
}

/** Repository of an image reference, without tag or digest: `registry:5000/app:1.2` gives `registry:5000/app`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

async function rollOutContainer(
  state: IncidentState,
  container: string,
  imageDigest: string,
): Promise<string | undefined> {
  const target = state.target;
  const workload = target?.workload;
  if (target === undefined || workload === undefined) return undefined;
  const name = `${workload.kind}/${workload.name}`;
  const input = {
    incidentId: state.incidentId,
    namespace: target.namespace,
    kind: workload.kind,
    name: workload.name,
    container,
    imageDigest,
    dryRun: state.dryRun,
  };
  try {
    await kubernetes.restoreWorkload(input);
    record(state, 'step', `${name} container ${container} rolled out on ${imageDigest}`);
    return undefined;
  } catch (error) {
    record(state, 'error', `rolling out ${name} container ${container} on ${imageDigest} failed`, {
      error: errorMessage(error),
    });
    return `restoreWorkload ${container}: ${errorMessage(error)}`;
  }
}

/** Rolls the owner out on the playbook's trusted digests; returns the failures. */
async function rollOutTrustedImages(state: IncidentState): Promise<string[]> {
  const restorePolicy = state.playbook?.restore;
  if (restorePolicy === undefined || state.target?.workload === undefined) return [];
  if (restorePolicy.trustedDigestSource === 'person') {
    // NOTE: a decision does not carry an image digest yet, so the person rolls the trusted image out.
    record(state, 'note', 'the trusted image digest comes from a person: roll the workload out on it by hand');
    return [];
  }
  const failures: string[] = [];
  for (const image of state.target.images) {
    const repository = imageRepository(image.image);
    const digest = restorePolicy.trustedImages[repository];
    if (digest === undefined) {
      record(state, 'note', `no trusted digest for ${repository}, so container ${image.container} keeps its image`);
      continue;
    }
    const failure = await rollOutContainer(state, image.container, `${repository}@${digest}`);
    if (failure !== undefined) failures.push(failure);
  }
  return failures;
}

/** Recover: undo containment in reverse order and roll out the trusted image; failures are reported. */
export async function restore(context: StageContext): Promise<Stage> {
  const { state } = context;
  const failures = await runCompensation(state);
  failures.push(...(await rollOutTrustedImages(state)));
  state.outcome = failures.length === 0 ? 'restored' : `restore incomplete: ${failures.join('; ')}`;
  const watchMs = parseDurationMs(state.playbook?.restore.watchPeriod ?? '0s');
  state.watchUntil = addMs(nowIso(), watchMs);
  return 'watch';
}

/** Heightened watch after restore: alerts in this window are recorded and page the escalation target. */
export async function watch(context: StageContext): Promise<Stage> {
  const { state } = context;
  const until = state.watchUntil ?? nowIso();
  const before = state.alerts.count;
  while (msUntil(until) > 0 && !state.standDown) {
    await context.checkpoint();
    await condition(() => state.standDown !== undefined || context.shouldContinue(), msUntil(until));
  }
  const during = state.alerts.count - before;
  if (during > 0) {
    const summary = `${during} alerts arrived during the heightened watch after restore`;
    record(state, 'note', summary);
    page(state, 'watch', summary);
  }
  return 'report';
}

/** Stand down: record who and why; lift containment only when asked. */
export async function standDown(context: StageContext): Promise<Stage> {
  const { state } = context;
  const request = state.standDown;
  if (request === undefined) {
    return 'report';
  }
  if (request.liftContainment) {
    const failures = await runCompensation(state);
    state.outcome =
      failures.length === 0
        ? `stood down by ${request.by}, containment lifted`
        : `stood down by ${request.by}, lifting containment failed: ${failures.join('; ')}`;
  } else {
    keepContainment(state);
    state.outcome = `stood down by ${request.by}, containment left in place`;
  }
  return 'report';
}

/** Closes the incident and writes its report. */
export async function closeIncident(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'closed');
  await settleNotifications(notificationGraceMs);
  try {
    state.report = await report.writeIncidentReport({ incidentId: state.incidentId, record: incidentRecord(state) });
    record(state, 'step', 'incident report written', { ...state.report });
  } catch (error) {
    record(state, 'error', 'writing the incident report failed', { error: errorMessage(error) });
  }
  return 'done';
}
