import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { signalIncident } from '../../workers/intake/incidents';
import { evidenceTaskQueueFromEnv } from '../../workers/intake/options';
import { testEnv } from '../support/env';
import { batchOf, newFingerprint, testAlert } from '../workflows/support/fixtures';

describe('evidence task queue setting', () => {
  test('evidence queue is read from FIREBREAK_EVIDENCE_TASK_QUEUE', () => {
    expect(evidenceTaskQueueFromEnv({ FIREBREAK_EVIDENCE_TASK_QUEUE: 'firebreak-evidence' })).toBe(
      'firebreak-evidence',
    );
  });

  test('unset or empty evidence queue is undefined', () => {
    expect(evidenceTaskQueueFromEnv({})).toBeUndefined();
    expect(evidenceTaskQueueFromEnv({ FIREBREAK_EVIDENCE_TASK_QUEUE: '' })).toBeUndefined();
  });

  test.each([
    ['with whitespace', 'firebreak evidence'],
    ['of 1001 characters', 'q'.repeat(1001)],
  ])('evidence queue %s is rejected', (_case, value) => {
    expect(() => evidenceTaskQueueFromEnv({ FIREBREAK_EVIDENCE_TASK_QUEUE: value })).toThrow(
      /FIREBREAK_EVIDENCE_TASK_QUEUE/,
    );
  });
});

describe('incident start arguments', () => {
  let connection: Connection;
  let client: Client;
  const taskQueue = `intake-evidence-test-${randomUUID()}`;

  beforeAll(async () => {
    const { address, namespace } = testEnv().temporal;
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace });
  });

  afterAll(async () => {
    await connection.close();
  });

  /** Starts an incident on a queue with no worker and returns the workflow's start argument. */
  async function startArgument(evidenceTaskQueue?: string): Promise<Record<string, unknown>> {
    const options = { client, taskQueue, deadlineMs: 10_000, ...(evidenceTaskQueue ? { evidenceTaskQueue } : {}) };
    const ref = await signalIncident(options, newFingerprint(), batchOf([testAlert()]));
    const handle = client.workflow.getHandle(ref.workflowId, ref.runId);
    try {
      const history = await handle.fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
      if (!payload) throw new Error(`workflow ${ref.workflowId} has no start argument in its history`);
      return z.record(z.string(), z.unknown()).parse(JSON.parse(Buffer.from(payload).toString('utf8')));
    } finally {
      await handle.terminate('test finished');
    }
  }

  test('signalWithStart passes the evidence queue', async () => {
    const start = await startArgument('firebreak-evidence');
    expect(start['evidenceTaskQueue']).toBe('firebreak-evidence');
    expect(typeof start['fingerprint']).toBe('string');
  });

  test('signalWithStart omits an unset evidence queue', async () => {
    expect(process.env['FIREBREAK_EVIDENCE_TASK_QUEUE']).toBeUndefined();
    const start = await startArgument();
    expect(Object.keys(start)).not.toContain('evidenceTaskQueue');
  });
});
