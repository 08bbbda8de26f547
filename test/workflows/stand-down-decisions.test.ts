import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DecideGateInput, StandDownInput } from '../../domain/incident';
import { createFirebreakWorker } from '../../workers/worker';
import { decideGateUpdate, standDownUpdate, statusQuery } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
import { gateOpen, startHarness, startIncident, workflowBundle, type Harness } from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;

beforeAll(async () => {
  recording = recordingActivities();
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first, second] = approvers as [string, string];
const gates = {
  isolate: everySeverity(ask('1h', 'reject')),
  escalate: everySeverity({ mode: 'skip' }),
  restore: everySeverity({ mode: 'skip' }),
};

/** Starts a worker on `taskQueue`; returns the function that stops it. */
async function startWorker(taskQueue: string): Promise<() => Promise<void>> {
  const { address, namespace } = testEnv().temporal;
  const connection = await NativeConnection.connect({ address });
  const worker = await createFirebreakWorker({
    connection,
    namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: recording.activities,
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return (error as WorkflowUpdateFailedError).cause?.message ?? '';
}

test('decideGate rejects a decision that arrives with an accepted stand-down', async () => {
  const taskQueue = `stand-down-race-${randomUUID()}`;
  let stopWorker = await startWorker(taskQueue);
  const handle = await startIncident(
    { ...harness, taskQueue },
    { playbook: testPlaybook({ gates }) },
    batchOf([testAlert()]),
  );
  await gateOpen(handle, 'isolate');
  await stopWorker();

  // With the worker stopped, both Updates wait on the server and reach the next workflow task together.
  const standDown: StandDownInput = { reason: 'false positive', liftContainment: false, by: second, channel: 'slack' };
  const approve: DecideGateInput = { gate: 'isolate', decision: 'approve', decider: first, channel: 'slack' };
  const standDownResult = handle.executeUpdate(standDownUpdate, { args: [standDown] });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const decision = failureOf(handle.executeUpdate(decideGateUpdate, { args: [approve] }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  stopWorker = await startWorker(taskQueue);
  const accepted = await standDownResult;
  const reason = await decision;
  await handle.result();
  const status = await handle.query(statusQuery);
  await stopWorker();

  const quarantines = recording
    .callsOf('quarantinePod')
    .filter((call) => call.input['incidentId'] === handle.workflowId);
  expect(accepted.status).toBe('accepted');
  expect(reason).toContain(`was stood down by ${second}`);
  expect(reason).toContain('so its gates take no decisions');
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.result?.status).toBe('skipped');
  expect(
    status.timeline.some((entry) => entry.summary.startsWith(`rejected approve on gate isolate by ${first}`)),
  ).toBe(true);
  expect(quarantines).toHaveLength(0);
});

test('standDown validator rejects a reason with an escape sequence', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  const forged = 'fp\u001b[2J\u001b[1;31mSTATUS: RESTORED\u001b[0m';

  const reason = await failureOf(
    handle.executeUpdate(standDownUpdate, {
      args: [{ reason: forged, liftContainment: false, by: second, channel: 'cli' }],
    }),
  );
  const status = await handle.query(statusQuery);

  expect(reason).toContain('invalid stand-down: reason: must not contain control characters');
  expect(status.standDown).toBeUndefined();
  expect(status.waitingGate).toBe('isolate');
  await handle.terminate('test finished');
});
