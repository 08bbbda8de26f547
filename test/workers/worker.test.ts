import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { DEFAULT_RATE_LIMIT } from '../../activities/kubernetes';
import { decideGateUpdate } from '../../workflows/messages';
import {
  activityDepsFromEnv,
  createFirebreakWorker,
  DEFAULT_MAX_CACHED_WORKFLOWS,
  workerTuningFromEnv,
} from '../../workers/worker';
import { temporalSettingsFromEnv } from '../../workers/temporal';
import { testEnv } from '../support/env';
import { batchOf, testAlert, testPlaybook } from '../workflows/support/fixtures';
import { gateOpen, startIncident, workflowBundle } from '../workflows/support/harness';
import { recordingActivities } from '../workflows/support/recording-activities';

describe('worker settings', () => {
  test('sticky cache size defaults to a fixed bound', () => {
    expect(workerTuningFromEnv({}).maxCachedWorkflows).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
  });

  test('sticky cache size is read from FIREBREAK_MAX_CACHED_WORKFLOWS', () => {
    expect(workerTuningFromEnv({ FIREBREAK_MAX_CACHED_WORKFLOWS: '40' }).maxCachedWorkflows).toBe(40);
    expect(workerTuningFromEnv({ FIREBREAK_MAX_CACHED_WORKFLOWS: '0' }).maxCachedWorkflows).toBe(0);
  });

  test.each(['1', '-5', 'many', '2.5', ''])('sticky cache size %p is rejected', (value) => {
    expect(() => workerTuningFromEnv({ FIREBREAK_MAX_CACHED_WORKFLOWS: value })).toThrow(
      /FIREBREAK_MAX_CACHED_WORKFLOWS/,
    );
  });

  test('Kubernetes rate limit is read from the environment', () => {
    const settings = temporalSettingsFromEnv({});
    const deps = activityDepsFromEnv(settings, { FIREBREAK_KUBE_QPS: '50', FIREBREAK_KUBE_BURST: '75' });

    expect(deps.kubernetes?.rateLimit).toEqual({ qps: 50, burst: 75 });
  });

  test('Kubernetes rate limit defaults to the client default', () => {
    const deps = activityDepsFromEnv(temporalSettingsFromEnv({}), {});

    expect(deps.kubernetes?.rateLimit).toEqual(DEFAULT_RATE_LIMIT);
  });

  test('Kubernetes rate limit of zero is rejected', () => {
    expect(() => activityDepsFromEnv(temporalSettingsFromEnv({}), { FIREBREAK_KUBE_QPS: '0' })).toThrow(
      /FIREBREAK_KUBE_QPS/,
    );
  });
});

describe('worker sticky cache', () => {
  test('worker keeps at most maxCachedWorkflows incidents in memory', async () => {
    const { address, namespace } = testEnv().temporal;
    const taskQueue = `worker-cache-test-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    const worker = await createFirebreakWorker({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: recordingActivities().activities,
      maxCachedWorkflows: 2,
    });
    const running = worker.run();
    try {
      const harness = { client, taskQueue, stop: async () => undefined };
      const handles = [];
      for (let index = 0; index < 4; index += 1) {
        handles.push(await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()])));
      }
      for (const handle of handles) await gateOpen(handle, 'isolate');
      const cachedWhileWaiting = worker.getStatus().numCachedWorkflows;
      const first = handles[0];
      if (first === undefined) throw new Error('no incident was started');
      const decision = await first.executeUpdate(decideGateUpdate, {
        args: [{ gate: 'isolate', decision: 'approve', decider: 'alice', channel: 'cli', reason: 'evicted incident' }],
      });

      expect(worker.options.maxCachedWorkflows).toBe(2);
      expect(cachedWhileWaiting).toBeLessThanOrEqual(2);
      expect(decision.status).toBe('approved');
      expect(worker.getStatus().numCachedWorkflows).toBeLessThanOrEqual(2);
    } finally {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    }
  }, 120_000);
});
