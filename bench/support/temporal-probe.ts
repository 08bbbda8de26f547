import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { serverBinary } from '../../tools/lab/binaries';
import { freePort, startProcess, stopProcess, tcpOpen, waitFor } from '../../tools/lab/process';
import { paced } from './http';
import { summarise, type LatencySummary } from './stats';

/**
 * Starts a second Temporal dev server that keeps its SQLite database in memory, as a reference for how much
 * of a latency is the dev server's SQLite file. Returns its address and a stop function.
 */
export async function startMemoryTemporal(logDir: string): Promise<{ address: string; stop: () => Promise<void> }> {
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--headless',
    '--log-level',
    'warn',
  ];
  const proc = startProcess(`temporal-memory-${port}`, serverBinary('temporal'), args, logDir);
  await waitFor(proc, 'the frontend port open', () => tcpOpen(port), 60_000);
  return { address: `127.0.0.1:${port}`, stop: () => stopProcess(proc) };
}

/**
 * Sends `count` signals at `ratePerSec` straight to a Temporal server, spread over `workflows` workflow ids on
 * a task queue that no worker polls, each as the intake does it: describe, then signalWithStart. Returns the
 * latency of the pair and of signalWithStart alone.
 */
export async function probeSignals(
  address: string,
  options: { ratePerSec: number; count: number; workflows: number; prefix: string },
): Promise<{ pair: LatencySummary; signal: LatencySummary }> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const pair: number[] = [];
    const signal: number[] = [];
    await paced({
      ratePerSec: options.ratePerSec,
      count: options.count,
      maxDurationMs: (options.count / options.ratePerSec) * 1000 + 30_000,
      send: async (index) => {
        const workflowId = `${options.prefix}-${index % options.workflows}`;
        const started = performance.now();
        await client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        const signalled = performance.now();
        await client.workflow.signalWithStart('incidentWorkflow', {
          workflowId,
          taskQueue: `${options.prefix}-no-worker`,
          args: [{ fingerprint: workflowId }],
          signal: 'alerts',
          signalArgs: [{ index }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        pair.push(performance.now() - started);
        signal.push(performance.now() - signalled);
      },
    });
    return { pair: summarise(pair), signal: summarise(signal) };
  } finally {
    await connection.close();
  }
}

export const probeLogDir = (dir: string) => join(dir, 'logs');
