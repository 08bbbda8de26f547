import type { IncidentRecord, TargetRef } from '../../../domain/response';

/**
 * Builds a realistic record of a closed P1 incident: a shell, then a dropped binary in one checkout pod, isolated
 * after approval, evidence captured, the pod replaced and the workload restored from a trusted digest.
 */
export function incidentRecordFor(target: TargetRef, evidence?: IncidentRecord['evidence']): IncidentRecord {
  return {
    incidentId: 'incident-5e1f0c9a7b3d2e11',
    fingerprint: '5e1f0c9a7b3d2e11',
    playbook: { name: 'container-drift', version: '3' },
    dryRun: false,
    severity: 'P1',
    severityHistory: [
      { severity: 'P2', at: '2024-12-04T12:00:03.000Z', reason: 'first alert: Terminal shell in container (Notice)' },
      { severity: 'P1', at: '2024-12-04T12:04:10.000Z', reason: 'Drop and execute new binary in container (Critical)' },
    ],
    phase: 'closed',
    phaseTimes: {
      detect: '2024-12-04T12:00:03.000Z',
      isolate: '2024-12-04T12:06:30.000Z',
      eradicate: '2024-12-04T12:40:00.000Z',
      recover: '2024-12-04T16:10:00.000Z',
      closed: '2024-12-04T16:30:00.000Z',
    },
    openedAt: '2024-12-04T12:00:03.000Z',
    closedAt: '2024-12-04T16:30:00.000Z',
    outcome: 'contained and restored from a trusted image',
    clocks: [
      {
        name: 'detect',
        targetMs: 900_000,
        startedAt: '2024-12-04T12:00:03.000Z',
        dueAt: '2024-12-04T12:15:03.000Z',
        metAt: '2024-12-04T12:06:30.000Z',
      },
      {
        name: 'isolate',
        targetMs: 3_600_000,
        startedAt: '2024-12-04T12:00:03.000Z',
        dueAt: '2024-12-04T13:00:03.000Z',
        metAt: '2024-12-04T12:07:02.000Z',
      },
      {
        name: 'eradicate',
        targetMs: 14_400_000,
        startedAt: '2024-12-04T12:00:03.000Z',
        dueAt: '2024-12-04T16:00:03.000Z',
        missedAt: '2024-12-04T16:00:03.000Z',
      },
    ],
    target,
    timeline: [
      {
        at: '2024-12-04T12:00:03.000Z',
        kind: 'alert',
        summary: 'Terminal shell in container: shell=bash user=root | cmdline=<script>alert(1)</script>',
        data: { rule: 'Terminal shell in container', tags: ['T1059', 'container', 'mitre_execution', 'shell'] },
      },
      { at: '2024-12-04T12:00:05.000Z', kind: 'step', summary: 'resolved target to the checkout pod' },
      {
        at: '2024-12-04T12:04:10.000Z',
        kind: 'alert',
        summary: 'Drop and execute new binary in container: /tmp/xmrig',
        data: { rule: 'Drop and execute new binary in container', tags: ['TA0003', 'container', 'mitre_persistence'] },
      },
      { at: '2024-12-04T12:06:30.000Z', kind: 'decision', summary: 'isolate approved by U024BE7LH via slack' },
      {
        at: '2024-12-04T12:07:02.000Z',
        kind: 'step',
        summary: 'quarantined the pod with NetworkPolicy firebreak-quarantine-5e1f0c9a7b3d2e11',
      },
      { at: '2024-12-04T12:09:40.000Z', kind: 'step', summary: 'captured evidence' },
      { at: '2024-12-04T16:00:03.000Z', kind: 'clock', summary: 'eradicate clock missed' },
      { at: '2024-12-04T16:10:00.000Z', kind: 'decision', summary: 'restore approved by U0G9QF9C6 via cli' },
      {
        at: '2024-12-04T16:11:00.000Z',
        kind: 'step',
        summary: `Deployment checkout container app rolled out on registry.example/shop/checkout@sha256:${'a'.repeat(64)}`,
      },
      { at: '2024-12-04T16:12:00.000Z', kind: 'step', summary: 'releasePodQuarantine undid quarantine' },
    ],
    timelineDropped: 0,
    gates: [
      {
        gate: 'isolate',
        status: 'approved',
        decision: 'approve',
        decider: 'U024BE7LH',
        channel: 'slack',
        at: '2024-12-04T12:06:30.000Z',
        reason: 'miner binary dropped',
      },
      {
        gate: 'escalate',
        status: 'timed_out',
        decision: 'reject',
        at: '2024-12-04T13:06:30.000Z',
        defaultApplied: 'reject',
      },
      {
        gate: 'restore',
        status: 'approved',
        decision: 'approve',
        decider: 'U0G9QF9C6',
        channel: 'cli',
        at: '2024-12-04T16:10:00.000Z',
      },
    ],
    containment: [
      {
        step: 'quarantine',
        summary: 'NetworkPolicy firebreak-quarantine-5e1f0c9a7b3d2e11 denies all traffic',
        at: '2024-12-04T12:07:02.000Z',
        dryRun: false,
        status: 'done',
        inverse: { activity: 'releasePodQuarantine', status: 'done', at: '2024-12-04T16:12:00.000Z' },
      },
      {
        step: 'scale-to-zero',
        summary: 'Deployment checkout scaled from 3 to 0',
        at: '2024-12-04T12:40:00.000Z',
        dryRun: false,
        status: 'done',
        inverse: { activity: 'scaleWorkload', status: 'pending' },
      },
    ],
    evidence,
    alertCount: 7,
    redeliveries: 2,
    rules: ['Terminal shell in container', 'Drop and execute new binary in container'],
    mitre: { techniques: ['T1059'], tactics: ['mitre_execution', 'mitre_persistence'] },
  };
}

/** A target for tests that run without a cluster. */
export const sampleTarget: TargetRef = {
  namespace: 'shop',
  pod: 'checkout-7d9f8b6c5-x2k4q',
  uid: '0d9c8f0e-5a5b-4f7e-9a53-0c1d2e3f4a5b',
  resourceVersion: '918273',
  node: 'ip-10-0-12-34.eu-west-1.compute.internal',
  serviceAccount: 'checkout',
  owners: [{ kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5', uid: '7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928' }],
  workload: { kind: 'Deployment', name: 'checkout' },
  images: [{ container: 'app', image: 'registry.example/shop/checkout:1.4.2' }],
  labels: { app: 'checkout' },
};
