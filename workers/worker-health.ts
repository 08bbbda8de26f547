import { Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { hostPort, startHealthServer, type HealthServer, type HealthSettings, type Readiness } from './health';

/**
 * Health endpoints of the Temporal worker process: ready while the worker runs and the Temporal frontend responds,
 * with the worker's own state and load on /metrics. The Temporal SDK's metrics (task latencies, poll and task
 * failures, slots) come from the SDK's own Prometheus exporter on a second port; see `installTemporalMetrics`.
 */

const workerStates = ['INITIALIZED', 'RUNNING', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'] as const;

export interface WorkerHealthOptions extends HealthSettings {
  port: number;
  logger: Logger;
  /** Deadline of the Temporal call in each readiness check. */
  temporalDeadlineMs?: number;
}

/** Registers gauges that read the worker's status on each scrape. */
function registerWorkerGauges(registry: Registry, worker: Worker): void {
  const registers = [registry];
  new Gauge({
    name: 'firebreak_worker_state',
    help: 'Run state of the Temporal worker: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = worker.getState();
      for (const state of workerStates) this.set({ state }, state === current ? 1 : 0);
    },
  });
  const statusGauge = (name: string, help: string, read: (status: ReturnType<Worker['getStatus']>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(worker.getStatus()));
      },
    });
  statusGauge(
    'firebreak_worker_activities_in_flight',
    'Activities this worker is running.',
    (status) => status.numInFlightActivities,
  );
  statusGauge(
    'firebreak_worker_workflow_activations_in_flight',
    'Workflow activations this worker is processing.',
    (status) => status.numInFlightWorkflowActivations,
  );
  statusGauge(
    'firebreak_worker_cached_workflows',
    'Workflow executions cached in this worker.',
    (status) => status.numCachedWorkflows,
  );
}

/**
 * Ready while the worker is RUNNING and the Temporal frontend responds to `GetSystemInfo` within `temporalDeadlineMs`.
 * The wait is bounded here, because with @temporalio/worker 1.24 neither a deadline nor an abort signal ended the
 * call early when the frontend refused connections: the native client kept reconnecting for 6 to 10 s. A call still
 * running is shared by the next checks instead of starting another one.
 */
export function workerReadiness(worker: Worker, connection: NativeConnection, temporalDeadlineMs = 2000) {
  let inFlight: Promise<boolean> | undefined;
  const callTemporal = (): Promise<boolean> => {
    inFlight ??= connection
      .withDeadline(Date.now() + temporalDeadlineMs, () => connection.workflowService.getSystemInfo({}))
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return async (): Promise<Readiness> => {
    const state = worker.getState();
    if (state !== 'RUNNING') return { ready: false, reason: `worker_${state.toLowerCase()}` };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), temporalDeadlineMs);
    });
    const responded = await Promise.race([callTemporal(), timeout]).finally(() => clearTimeout(timer));
    return responded ? { ready: true } : { ready: false, reason: 'temporal_unavailable' };
  };
}

/** Starts the worker's health server; close it after `worker.run()` settles. */
export async function startWorkerHealth(
  worker: Worker,
  connection: NativeConnection,
  options: WorkerHealthOptions,
): Promise<HealthServer> {
  const registry = new Registry();
  registerWorkerGauges(registry, worker);
  return startHealthServer({
    host: options.host,
    port: options.port,
    registry,
    logger: options.logger,
    checkReadiness: workerReadiness(worker, connection, options.temporalDeadlineMs),
  });
}

/**
 * Installs the Temporal runtime with its Prometheus exporter at `host:port`, serving `/metrics` with the SDK's
 * `temporal_` series. Call it before any connection or worker is created. The runtime is a process-wide singleton
 * that the first connection creates with defaults, so a later call throws `IllegalStateError`. The exporter
 * is the SDK's own HTTP server, so it needs a port of its own. Without a port it installs nothing.
 */
export function installTemporalMetrics(settings: HealthSettings, logger: Logger): void {
  if (settings.port === undefined) return;
  const bindAddress = hostPort(settings.host, settings.port);
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
  logger.info({ url: `http://${bindAddress}/metrics` }, 'Temporal SDK metrics exporter listening');
}
