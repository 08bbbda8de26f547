import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFirebreakWorker } from '../../../workers/worker';
import { alertSummarySchema } from '../../../domain/alert';
import { incidentWorkflowId, type AlertBatch } from '../../../domain/incident';
import type { FirebreakActivities, IncidentWorkflowInput } from '../../../domain/response';
import type { incidentWorkflow } from '../../../workflows';
import { alertsSignal, statusQuery, type IncidentStatus } from '../../../workflows/messages';
import { testEnv } from '../../support/env';
import { newFingerprint } from './fixtures';

/** A worker with the incident workflow on its own task queue, and a client, on the real dev server. */
export interface Harness {
  client: Client;
  taskQueue: string;
  stop: () => Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Builds the workflow bundle once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../../workflows') });
  return bundle;
}

export async function startHarness(activities: FirebreakActivities | object): Promise<Harness> {
  const { address, namespace } = testEnv().temporal;
  const taskQueue = `workflow-test-${randomUUID()}`;
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await createFirebreakWorker({
    connection: workerConnection,
    namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });

  const stop = async () => {
    worker.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
  };
  return { client, taskQueue, stop };
}

export type IncidentHandle = WorkflowHandle<typeof incidentWorkflow>;

/**
 * Starts an incident the way the intake does: `signalWithStart` with the key fields of the first alert in
 * the start arguments and the first batch of alerts in the signal.
 */
export async function startIncident(
  harness: Harness,
  input: Partial<IncidentWorkflowInput>,
  batch: AlertBatch,
): Promise<IncidentHandle> {
  const fingerprint = input.fingerprint ?? newFingerprint();
  const first = batch.alerts[0];
  const firstAlert = first === undefined ? {} : { firstAlert: alertSummarySchema.parse(first) };
  return harness.client.workflow.signalWithStart<typeof incidentWorkflow, [AlertBatch]>('incidentWorkflow', {
    workflowId: incidentWorkflowId(fingerprint),
    taskQueue: harness.taskQueue,
    args: [{ ...firstAlert, ...input, fingerprint }],
    signal: alertsSignal,
    signalArgs: [batch],
  });
}

/** Polls the `status` query until `predicate` holds; fails with the last status after `timeoutMs`. */
export async function waitForStatus(
  handle: IncidentHandle,
  predicate: (status: IncidentStatus) => boolean,
  timeoutMs = 30_000,
): Promise<IncidentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery);
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `status did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last, null, 2)}`,
  );
}

/** Waits until the named gate is open. */
export function gateOpen(handle: IncidentHandle, gate: string, timeoutMs?: number): Promise<IncidentStatus> {
  return waitForStatus(handle, (status) => status.waitingGate === gate, timeoutMs);
}
