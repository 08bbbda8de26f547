import { parseDurationMs } from '../domain/duration';
import { containmentPhase, type ContainmentStep } from '../domain/playbook';
import { stepApplies } from '../domain/playbook-match';
import type { QuarantinePodInput, ScalableKind, TargetRef } from '../domain/response';
import { drainActivity, kubernetes } from './activities';
import { registerInverse, type InverseAction } from './compensation';
import type { IncidentState } from './state';
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

async function quarantine(state: IncidentState, target: TargetRef, rules: readonly EgressRule[]): Promise<StepOutcome> {
  const pod = podInput(state, target);
  const result = await kubernetes.quarantinePod({ ...pod, allowEgress: egressAllowList(rules) });
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
  const result = await kubernetes.detachPod(pod);
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
    input: { ...base, kind, replicas: result.previousReplicas },
  };
  return { summary: `scaled ${kind}/${workload.name} to zero`, result: { ...result }, inverse };
}

async function deletePod(
  state: IncidentState,
  target: TargetRef,
  gracePeriod: string | undefined,
): Promise<StepOutcome> {
  const gracePeriodSec = gracePeriod === undefined ? undefined : Math.ceil(parseDurationMs(gracePeriod) / 1000);
  const result = await kubernetes.deletePod({ ...podInput(state, target), gracePeriodSec, uid: target.uid });
  const replaced = result.standalone ? 'a standalone pod, so nothing replaces it' : 'its controller replaces it';
  return { summary: `deleted pod ${target.pod}: ${replaced}`, result: { ...result }, inverse: undefined };
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

function recordFailure(state: IncidentState, step: ContainmentStep, target: TargetRef, error: unknown): void {
  const message = errorMessage(error);
  state.containment.push({
    step: step.action,
    summary: `${step.action} failed`,
    at: nowIso(),
    dryRun: state.dryRun,
    status: 'failed',
    error: message,
    inverse: { status: 'not_needed' },
  });
  record(state, 'error', `${step.action} failed on ${target.namespace}/${target.pod}`, { error: message });
}

/**
 * Runs the playbook's containment steps of one phase, in order, that apply at the incident severity.
 * Each success registers its inverse. A failed step is recorded and the next step still runs, because a
 * partial containment beats none; a stand-down stops before the next step.
 */
export async function runContainment(state: IncidentState, phase: 'isolate' | 'eradicate'): Promise<void> {
  const target = state.target;
  const severity = state.severity;
  if (target === undefined || severity === undefined || state.playbook === undefined) {
    return;
  }
  const steps = state.playbook.containment.filter(
    (step) => containmentPhase(step.action) === phase && stepApplies(step, severity),
  );
  for (const step of steps) {
    if (state.standDown) {
      record(state, 'note', `${step.action} not run: the incident is standing down`);
      continue;
    }
    try {
      recordStep(state, step, await runStep(state, target, step));
    } catch (error) {
      recordFailure(state, step, target, error);
    }
  }
}
