import { parseDurationMs } from '../domain/duration';
import { containmentPhase, type ContainmentStep } from '../domain/playbook';
import { stepApplies } from '../domain/playbook-match';
import type { QuarantinePodInput, ScalableKind, TargetRef } from '../domain/response';
import { drainActivity, kubernetes } from './activities';
import { registerInverse, type InverseAction } from './compensation';
import type { ContainmentPhase, FailedStep, IncidentState } from './state';
import { errorMessage, nowIso, record } from './timeline';

interface StepOutcome {
  summary: string;
  result: Record<string, unknown>;
  inverse: InverseAction | undefined;
}

type EgressRule = Extract<ContainmentStep, { action: 'quarantine' }>['allowEgress'][number];

/** Cluster DNS: the kube-system namespace on port 53. */
const dnsEgress = { namespaceSelector: { 'kubernetes.io/metadata.name': 'kube-system' }, ports: [53] };

function egressAllowList(rules: readonly EgressRule[]): QuarantinePodInput['allowEgress'] {
  return rules.map((rule) =>
    rule.dns ? dnsEgress : { cidr: rule.cidr, namespaceSelector: rule.namespaceSelector, ports: rule.ports },
  );
}

function podInput(state: IncidentState, target: TargetRef) {
  return { incidentId: state.incidentId, namespace: target.namespace, pod: target.pod, dryRun: state.dryRun };
}

/** Returns the resolved uid, so the activity leaves alone a pod that replaced the target under its name. */
function podUid(target: TargetRef): { podUid?: string } {
  return target.uid === '' ? {} : { podUid: target.uid };
}

async function quarantine(state: IncidentState, target: TargetRef, rules: readonly EgressRule[]): Promise<StepOutcome> {
  const pod = podInput(state, target);
  const result = await kubernetes.quarantinePod({ ...pod, ...podUid(target), allowEgress: egressAllowList(rules) });
  if (result.isolation === 'incomplete') {
    record(state, 'error', `isolation of ${target.pod} is incomplete: other NetworkPolicies still allow traffic`, {
      allowingPolicies: result.allowingPolicies,
    });
  }
  const summary = `quarantined ${target.namespace}/${target.pod} with NetworkPolicy ${result.policyName}`;
  return { summary, result: { ...result }, inverse: { activity: 'releasePodQuarantine', input: pod } };
}

async function detach(state: IncidentState, target: TargetRef): Promise<StepOutcome> {
  const pod = podInput(state, target);
  const result = await kubernetes.detachPod({ ...pod, ...podUid(target) });
  const inverse: InverseAction = { activity: 'reattachPod', input: { ...pod, labels: result.removedLabels } };
  return { summary: `detached ${target.pod} from its controller and Services`, result: { ...result }, inverse };
}

async function onNode(state: IncidentState, target: TargetRef, step: ContainmentStep): Promise<StepOutcome> {
  if (target.node === undefined) {
    throw new Error(`cannot ${step.action} the node of ${target.pod}: the pod is not on a node`);
  }
  const node = { incidentId: state.incidentId, node: target.node, dryRun: state.dryRun };
  if (step.action === 'drain') {
    const gracePeriodSec = Math.ceil(parseDurationMs(step.gracePeriod) / 1000);
    const deadlineMs = parseDurationMs(step.deadline);
    const result = await drainActivity(deadlineMs)({ ...node, gracePeriodSec, deadlineMs });
    const inverse: InverseAction = { activity: 'uncordonNode', input: node };
    return { summary: `drained node ${target.node}`, result: { ...result }, inverse };
  }
  const result = await kubernetes.cordonNode(node);
  // A node that was already unschedulable stays so: uncordoning it would undo someone else's cordon.
  const inverse: InverseAction | undefined = result.wasUnschedulable
    ? undefined
    : { activity: 'uncordonNode', input: node };
  return { summary: `cordoned node ${target.node}`, result: { ...result }, inverse };
}

async function onWorkload(state: IncidentState, target: TargetRef, step: ContainmentStep): Promise<StepOutcome> {
  const workload = target.workload;
  if (workload === undefined || (workload.kind !== 'Deployment' && workload.kind !== 'StatefulSet')) {
    throw new Error(`cannot ${step.action} for ${target.pod}: its owner is not a Deployment or StatefulSet`);
  }
  const kind: ScalableKind = workload.kind === 'Deployment' ? 'Deployment' : 'StatefulSet';
  const base = { incidentId: state.incidentId, namespace: target.namespace, name: workload.name, dryRun: state.dryRun };
  if (step.action === 'pause-rollout') {
    await kubernetes.pauseRollout(base);
    const inverse: InverseAction = { activity: 'resumeRollout', input: base };
    return { summary: `paused the rollout of ${kind}/${workload.name}`, result: {}, inverse };
  }
  const result = await kubernetes.scaleWorkload({ ...base, kind, replicas: 0 });
  const inverse: InverseAction = {
    activity: 'scaleWorkload',
    input: { ...base, kind, replicas: result.previousReplicas, restore: true },
  };
  return { summary: `scaled ${kind}/${workload.name} to zero`, result: { ...result }, inverse };
}

async function deletePod(
  state: IncidentState,
  target: TargetRef,
  gracePeriod: string | undefined,
): Promise<StepOutcome> {
  const gracePeriodSec = gracePeriod === undefined ? undefined : Math.ceil(parseDurationMs(gracePeriod) / 1000);
  const uid = target.uid === '' ? {} : { uid: target.uid };
  const result = await kubernetes.deletePod({ ...podInput(state, target), gracePeriodSec, ...uid });
  return {
    summary: `deleted pod ${target.pod}: ${replacementNote(state, result.standalone)}`,
    result: { ...result },
    inverse: undefined,
  };
}

/** Says what replaces a deleted pod. A detached pod is standalone, but its controller started a replacement at detach. */
function replacementNote(state: IncidentState, standalone: boolean): string {
  const detached = state.containment.find((step) => step.step === 'detach' && step.status === 'done');
  if (detached?.result?.['replacementExpected'] === true) {
    return 'it was detached, and its controller started a replacement then';
  }
  return standalone ? 'a standalone pod, so nothing replaces it' : 'its controller replaces it';
}

function runStep(state: IncidentState, target: TargetRef, step: ContainmentStep): Promise<StepOutcome> {
  switch (step.action) {
    case 'quarantine':
      return quarantine(state, target, step.allowEgress);
    case 'detach':
      return detach(state, target);
    case 'cordon':
    case 'drain':
      return onNode(state, target, step);
    case 'scale-to-zero':
    case 'pause-rollout':
      return onWorkload(state, target, step);
    case 'delete-pod':
      return deletePod(state, target, step.gracePeriod);
  }
}

function recordStep(state: IncidentState, step: ContainmentStep, outcome: StepOutcome): void {
  const index = state.containment.length;
  state.containment.push({
    step: step.action,
    summary: outcome.summary,
    at: nowIso(),
    dryRun: state.dryRun,
    status: 'done',
    result: outcome.result,
    inverse: { status: 'not_needed' },
  });
  if (outcome.inverse) {
    registerInverse(state, { ...outcome.inverse, containmentIndex: index });
  }
  record(state, 'step', state.dryRun ? `${outcome.summary} (dry run)` : outcome.summary, { action: step.action });
}

function recordFailure(state: IncidentState, planned: PlannedStep, target: TargetRef, error: unknown): void {
  const message = errorMessage(error);
  const { step, index, phase } = planned;
  state.containment.push({
    step: step.action,
    summary: `${step.action} failed`,
    at: nowIso(),
    dryRun: state.dryRun,
    status: 'failed',
    error: message,
    inverse: { status: 'not_needed' },
  });
  state.failedSteps = state.failedSteps.filter((failed) => failed.index !== index);
  state.failedSteps.push({ index, phase, step: step.action, error: message, at: nowIso() });
  record(state, 'error', `${step.action} failed on ${target.namespace}/${target.pod}`, { error: message });
}

/** A containment step of the playbook with its position, which names it across retries. */
interface PlannedStep {
  step: ContainmentStep;
  index: number;
  phase: ContainmentPhase;
}

/** Lists the playbook's containment steps of one phase that apply at the incident severity, in order. */
function plannedSteps(state: IncidentState, phase: ContainmentPhase): PlannedStep[] {
  const { playbook, severity } = state;
  if (playbook === undefined || severity === undefined) return [];
  return playbook.containment
    .map((step, index) => ({ step, index, phase }))
    .filter(({ step }) => containmentPhase(step.action) === phase && stepApplies(step, severity));
}

/**
 * Runs the playbook's containment steps of one phase that apply at the incident severity, in order. With
 * `onlyIndexes` it runs only those steps, to retry failed ones. Each success registers its inverse and
 * clears an earlier failure of the same step. A failed step is recorded in `failedSteps` and the next step
 * still runs, because a partial containment beats none. A stand-down stops before the next step.
 */
export async function runContainment(
  state: IncidentState,
  phase: ContainmentPhase,
  onlyIndexes?: readonly number[],
): Promise<void> {
  const target = state.target;
  if (target === undefined) return;
  const steps = plannedSteps(state, phase).filter(({ index }) => onlyIndexes?.includes(index) ?? true);
  for (const planned of steps) {
    if (state.standDown) {
      record(state, 'note', `${planned.step.action} not run: the incident is standing down`);
      continue;
    }
    try {
      recordStep(state, planned.step, await runStep(state, target, planned.step));
      state.failedSteps = state.failedSteps.filter((failed) => failed.index !== planned.index);
    } catch (error) {
      recordFailure(state, planned, target, error);
    }
  }
}

/**
 * Runs the steps of one phase that a playbook adopted after that phase began would add: those that apply at
 * the incident severity and whose action has no record yet. Steps already done or failed stay as they are,
 * so a quarantine in place keeps its policy. Does nothing when the incident never changed playbook.
 */
export async function runAdoptedSteps(state: IncidentState, phase: ContainmentPhase): Promise<void> {
  if ((state.playbookRating?.switches.length ?? 0) === 0) return;
  const recorded = new Set(state.containment.map((done) => done.step));
  const missing = plannedSteps(state, phase).filter(({ step }) => !recorded.has(step.action));
  if (missing.length === 0) return;
  const actions = missing.map(({ step }) => step.action).join(', ');
  record(state, 'note', `running the ${phase} steps that playbook ${state.playbook?.metadata.name} adds: ${actions}`);
  await runContainment(
    state,
    phase,
    missing.map(({ index }) => index),
  );
}

/** True when at least one containment step succeeded, so there is something in place to keep or lift. */
export function anyContainmentDone(state: IncidentState): boolean {
  return state.containment.some((step) => step.status === 'done');
}

/** Describes each failed step and its error on one line. */
export function describeFailures(failures: readonly FailedStep[]): string {
  return failures.map((failed) => `${failed.step}: ${failed.error}`).join('; ');
}
