import { defineSearchAttributeKey } from '@temporalio/common';
import type { IncidentRecord } from '../../domain/response';
import { alertsSignal, decideGateUpdate, standDownUpdate, statusQuery } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
import {
  gateOpen,
  startHarness,
  startIncident,
  waitForStatus,
  type Harness,
  type IncidentHandle,
} from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;
let unresolved: ReturnType<typeof recordingActivities>;
let unresolvedHarness: Harness;

beforeAll(async () => {
  recording = recordingActivities();
  unresolved = recordingActivities({ target: 'unresolved' });
  harness = await startHarness(recording.activities);
  unresolvedHarness = await startHarness(unresolved.activities);
});

afterAll(async () => {
  await harness.stop();
  await unresolvedHarness.stop();
});

const [first] = approvers as [string];

function callsFor(handle: IncidentHandle, activity: string, source = recording) {
  return source.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

/** Isolation automatic at P0 and P1, asked at P2 and P3; the later gates ask for an hour. */
const isolateAutoAtP0 = {
  isolate: {
    P0: { mode: 'auto' as const },
    P1: { mode: 'auto' as const },
    P2: ask('1h', 'reject'),
    P3: ask('1h', 'reject'),
  },
  escalate: everySeverity(ask('1h', 'reject')),
  restore: everySeverity(ask('1h', 'reject')),
};

test('worse alert raises severity and applies the new gate policy', async () => {
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: isolateAutoAtP0 }) },
    batchOf([testAlert()]),
  );
  const before = await gateOpen(handle, 'isolate');

  await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
  const after = await gateOpen(handle, 'escalate');

  expect(before.severity).toBe('P2');
  expect(after.severity).toBe('P0');
  expect(after.gates.find((gate) => gate.gate === 'isolate')?.result?.status).toBe('auto');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(defineSearchAttributeKey('FirebreakSeverity', 'KEYWORD'))).toBe('P0');
  await handle.terminate('test finished');
});

test('immediate P0 response clock is missed when a person must decide', async () => {
  const gates = { ...isolateAutoAtP0, isolate: everySeverity(ask('1h', 'reject')) };
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates }) },
    batchOf([testAlert({ priority: 'Critical' })]),
  );

  const status = await waitForStatus(handle, (current) => current.timeline.some((entry) => entry.kind === 'clock'));

  expect(status.severity).toBe('P0');
  expect(status.timeline.find((entry) => entry.kind === 'clock')?.summary).toContain('response target of 0 min missed');
  await waitForStatus(handle, () => callsFor(handle, 'escalateIncident').length > 0);
  expect(callsFor(handle, 'escalateIncident')[0]?.input['dedupKey']).toBe(`${handle.workflowId}-clock-response`);
  await handle.terminate('test finished');
});

test('stand-down leaves containment in place', async () => {
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: isolateAutoAtP0 }) },
    batchOf([testAlert({ priority: 'Critical' })]),
  );
  await gateOpen(handle, 'escalate');

  const accepted = await handle.executeUpdate(standDownUpdate, {
    args: [{ reason: 'false positive: load test', liftContainment: false, by: 'alice', channel: 'cli' }],
  });
  const result = await handle.result();

  expect(accepted.status).toBe('accepted');
  expect(result.outcome).toBe('stood down by alice, containment left in place');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  const status = await handle.query(statusQuery);
  expect(
    status.timeline.some(
      (entry) => entry.summary === 'stand-down requested by alice via cli: false positive: load test',
    ),
  ).toBe(true);
  expect(status.standDown).toMatchObject({ by: 'alice', channel: 'cli', liftContainment: false });
  expect(status.gates.find((gate) => gate.gate === 'escalate')?.result?.status).toBe('skipped');
});

test('stand-down with lift undoes containment', async () => {
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: isolateAutoAtP0 }) },
    batchOf([testAlert({ priority: 'Critical' })]),
  );
  await gateOpen(handle, 'escalate');

  await handle.executeUpdate(standDownUpdate, {
    args: [{ reason: 'contained by hand', liftContainment: true, by: 'alice', channel: 'cli' }],
  });
  const result = await handle.result();

  expect(result.outcome).toBe('stood down by alice, containment lifted');
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(1);
});

test('continue-as-new keeps the state and the open gate', async () => {
  const limits = { maxHistoryEvents: 60, maxAlertSamples: 3 };
  const handle = await startIncident(harness, { playbook: testPlaybook(), limits }, batchOf([testAlert()]));
  const opened = await gateOpen(handle, 'isolate');
  const firstRunId = (await handle.describe()).runId;

  const repeated = testAlert({ id: 'repeated-alert' });
  for (let index = 0; index < 30; index++) {
    await handle.signal(alertsSignal, batchOf([index % 3 === 0 ? repeated : testAlert()]));
  }
  const continued = await waitForStatus(handle, (status) =>
    status.timeline.some((entry) => entry.summary.startsWith('continuing as new')),
  );
  await waitForStatus(handle, (status) => status.alertCount === 1 + 20 + 1);
  const secondRunId = (await handle.describe()).runId;
  const status = await handle.query(statusQuery);

  expect(secondRunId).not.toBe(firstRunId);
  expect(continued.waitingGate).toBe('isolate');
  expect(status.alertCount).toBe(22);
  expect(status.redeliveries).toBe(9);
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.deadlineAt).toBe(
    opened.gates.find((gate) => gate.gate === 'isolate')?.deadlineAt,
  );
  expect(status.playbook).toEqual({ name: 'workflow-test', version: '3' });
  expect(status.timelineLength).toBeGreaterThan(30);

  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'approve', decider: first, channel: 'cli' }],
  });
  await gateOpen(handle, 'escalate');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  await handle.terminate('test finished');
});

test('resolved alert never starts containment', async () => {
  const playbook = testPlaybook({ gates: isolateAutoAtP0 });
  const handle = await startIncident(
    harness,
    { playbook },
    batchOf([testAlert({ priority: 'Critical', status: 'resolved' })]),
  );

  const result = await handle.result();

  expect(result.outcome).toBe('resolved at the source before any response');
  expect(callsFor(handle, 'resolveTarget')).toHaveLength(0);
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(0);
});

test('unresolved target makes an automatic isolate gate ask', async () => {
  const auto = { mode: 'auto' as const };
  const isolate = { P0: auto, P1: auto, P2: auto, P3: ask('1h', 'approve') };
  const playbook = testPlaybook({ gates: { ...isolateAutoAtP0, isolate } });
  const handle = await startIncident(unresolvedHarness, { playbook }, batchOf([testAlert()]));

  const status = await gateOpen(handle, 'isolate');
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'approve', decider: first, channel: 'cli' }],
  });
  await gateOpen(handle, 'escalate');

  expect(status.targetUnresolvedReason).toContain('not found');
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.onTimeout).toBe('reject');
  expect(callsFor(handle, 'quarantinePod', unresolved)).toHaveLength(0);
  await handle.terminate('test finished');
});

test('dry-run incident passes dryRun to every mutating activity', async () => {
  const gates = {
    isolate: everySeverity({ mode: 'auto' }),
    escalate: everySeverity({ mode: 'skip' }),
    restore: everySeverity({ mode: 'auto' }),
  };
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates }), dryRun: true },
    batchOf([testAlert()]),
  );

  await handle.result();

  const mutating = ['quarantinePod', 'scaleWorkload', 'releasePodQuarantine', 'restoreWorkload'];
  const calls = mutating.flatMap((activity) => callsFor(handle, activity));
  expect(calls.map((call) => call.activity).sort()).toEqual([
    'quarantinePod',
    'releasePodQuarantine',
    'restoreWorkload',
    'scaleWorkload',
    'scaleWorkload',
  ]);
  expect(calls.every((call) => call.input['dryRun'] === true)).toBe(true);
});

test('visibility query finds incidents by phase and severity', async () => {
  const p1 = testPlaybook({ gates: isolateAutoAtP0, severity: { default: 'P1', reason: 'several nodes', rules: [] } });
  const inIsolate = await startIncident(harness, { playbook: p1 }, batchOf([testAlert()]));
  const inDetect = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: isolateAutoAtP0 }) },
    batchOf([testAlert()]),
  );
  await gateOpen(inIsolate, 'escalate');
  await gateOpen(inDetect, 'isolate');

  const query = `FirebreakPhase='isolate' AND FirebreakSeverity='P1' AND TaskQueue='${harness.taskQueue}'`;
  let found: string[] = [];
  for (let attempt = 0; attempt < 50 && !found.includes(inIsolate.workflowId); attempt++) {
    found = [];
    for await (const info of harness.client.workflow.list({ query })) found.push(info.workflowId);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  expect(found).toContain(inIsolate.workflowId);
  expect(found).not.toContain(inDetect.workflowId);
  await inIsolate.terminate('test finished');
  await inDetect.terminate('test finished');
});

test('alert during heightened watch pages responders', async () => {
  const auto = everySeverity({ mode: 'auto' });
  const gates = { isolate: auto, escalate: everySeverity({ mode: 'skip' }), restore: auto };
  const base = testPlaybook({ gates });
  const playbook = { ...base, restore: { ...base.restore, watchPeriod: '4s' } };
  const handle = await startIncident(harness, { playbook, previousRunId: 'run-0001' }, batchOf([testAlert()]));
  await waitForStatus(handle, (status) => status.outcome === 'restored');

  await handle.signal(alertsSignal, batchOf([testAlert()]));
  await handle.result();

  const pages = callsFor(handle, 'escalateIncident').map((call) => call.input['dedupKey']);
  expect(pages).toEqual([`${handle.workflowId}-watch`]);
  const status = await handle.query(statusQuery);
  expect(
    status.timeline.some(
      (entry) => entry.summary === '1 firing alerts arrived during the heightened watch after restore',
    ),
  ).toBe(true);
  const report = callsFor(handle, 'writeIncidentReport')[0]?.input['record'] as IncidentRecord | undefined;
  expect(report?.timeline[0]?.summary).toBe('follows the closed incident run run-0001 of the same fingerprint');
});
