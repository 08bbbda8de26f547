import type { Alert } from '../../domain/alert';
import type { AlertBatch } from '../../domain/incident';
import type { IncidentRef } from './incidents';
import type { RecentAlertIds } from './redeliveries';

/** Raised when more alerts wait for Temporal than `maxPendingAlerts`; the sender should retry later. */
export class IntakeBusyError extends Error {
  constructor(pendingAlerts: number, maxPendingAlerts: number) {
    super(`${pendingAlerts} alerts are waiting for Temporal, above the limit of ${maxPendingAlerts}; retry later`);
    this.name = 'IntakeBusyError';
  }
}

export interface BatcherOptions {
  /** How long the first alert of an idle incident waits for more before its signal is sent. */
  windowMs: number;
  maxBatchAlerts: number;
  /** Upper bound of the JSON size of the alerts in one signal; Temporal rejects payloads above 2 MB by default. */
  maxBatchBytes: number;
  /** Alerts that may wait for Temporal across all incidents before new requests get 503. */
  maxPendingAlerts: number;
  recent: RecentAlertIds;
  send: (fingerprint: string, batch: AlertBatch) => Promise<IncidentRef>;
}

/** Outcome for part of a request: where its alerts landed, how many were new, and how many were redeliveries. */
export interface BatchOutcome {
  ref: IncidentRef;
  accepted: number;
  redeliveries: number;
}

interface Deferred {
  promise: Promise<IncidentRef>;
  resolve: (ref: IncidentRef) => void;
  reject: (error: unknown) => void;
}

interface PendingBatch {
  alerts: Alert[];
  bytes: number;
  receivedAt: string;
  outcome: Deferred;
}

function deferred(): Deferred {
  let resolve: (ref: IncidentRef) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<IncidentRef>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // A batch whose every request already failed must not raise an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Collects alerts per incident and sends them as few signals as possible. The first alert for an idle incident
 * waits `windowMs`. While a signal is in flight, new alerts for that incident queue up and leave in the next
 * signal at once. So an alert storm costs one signal per round trip (split by `maxBatchAlerts` and
 * `maxBatchBytes`), and every alert is carried. Signals of one incident are sent one at a time, in order.
 */
export class IncidentBatcher {
  private readonly queues = new Map<string, PendingBatch[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private readonly waitingIds = new Map<string, Deferred>();
  /** Redeliveries resolved from the cache, reported to the workflow with the incident's next signal. */
  private readonly carriedRedeliveries = new Map<string, number>();
  private pendingAlerts = 0;

  constructor(private readonly options: BatcherOptions) {}

  /** Queues alerts of one incident; each outcome settles once Temporal has stored (or failed to store) them. */
  submit(fingerprint: string, alerts: Alert[]): Promise<BatchOutcome>[] {
    const fresh = alerts.filter((alert) => this.options.recent.get(alert.id) === undefined);
    if (this.pendingAlerts + fresh.length > this.options.maxPendingAlerts) {
      throw new IntakeBusyError(this.pendingAlerts, this.options.maxPendingAlerts);
    }
    return alerts.map((alert) => this.submitOne(fingerprint, alert));
  }

  private submitOne(fingerprint: string, alert: Alert): Promise<BatchOutcome> {
    const stored = this.options.recent.get(alert.id);
    if (stored !== undefined) {
      this.carriedRedeliveries.set(fingerprint, (this.carriedRedeliveries.get(fingerprint) ?? 0) + 1);
      return Promise.resolve({ ref: stored, accepted: 0, redeliveries: 1 });
    }
    const waiting = this.waitingIds.get(alert.id);
    if (waiting !== undefined) {
      this.carriedRedeliveries.set(fingerprint, (this.carriedRedeliveries.get(fingerprint) ?? 0) + 1);
      return waiting.promise.then((ref) => ({ ref, accepted: 0, redeliveries: 1 }));
    }
    const batch = this.openBatch(fingerprint, Buffer.byteLength(JSON.stringify(alert)));
    batch.alerts.push(alert);
    this.waitingIds.set(alert.id, batch.outcome);
    this.pendingAlerts += 1;
    this.schedule(fingerprint);
    return batch.outcome.promise.then((ref) => ({ ref, accepted: 1, redeliveries: 0 }));
  }

  /** Returns the incident's last queued batch when the alert fits in it, else a new batch. */
  private openBatch(fingerprint: string, alertBytes: number): PendingBatch {
    const queue = this.queues.get(fingerprint) ?? [];
    this.queues.set(fingerprint, queue);
    const last = queue.at(-1);
    const fits =
      last !== undefined &&
      last.alerts.length < this.options.maxBatchAlerts &&
      last.bytes + alertBytes <= this.options.maxBatchBytes;
    if (last !== undefined && fits) {
      last.bytes += alertBytes;
      return last;
    }
    const batch = { alerts: [], bytes: alertBytes, receivedAt: new Date().toISOString(), outcome: deferred() };
    queue.push(batch);
    return batch;
  }

  /** Sends at once when a batch is full or more than one waits, else after the window. */
  private schedule(fingerprint: string): void {
    if (this.running.has(fingerprint)) {
      return;
    }
    const queue = this.queues.get(fingerprint) ?? [];
    const first = queue[0];
    const full =
      first !== undefined &&
      (first.alerts.length >= this.options.maxBatchAlerts || first.bytes >= this.options.maxBatchBytes);
    if (queue.length > 1 || full) {
      void this.run(fingerprint);
    } else if (!this.timers.has(fingerprint)) {
      this.timers.set(
        fingerprint,
        setTimeout(() => void this.run(fingerprint), this.options.windowMs),
      );
    }
  }

  private async run(fingerprint: string): Promise<void> {
    clearTimeout(this.timers.get(fingerprint));
    this.timers.delete(fingerprint);
    this.running.add(fingerprint);
    const queue = this.queues.get(fingerprint) ?? [];
    try {
      for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
        await this.sendBatch(fingerprint, batch);
      }
    } finally {
      this.running.delete(fingerprint);
      this.queues.delete(fingerprint);
    }
  }

  private async sendBatch(fingerprint: string, batch: PendingBatch): Promise<void> {
    const redeliveries = this.carriedRedeliveries.get(fingerprint) ?? 0;
    this.carriedRedeliveries.delete(fingerprint);
    const signal: AlertBatch = {
      alerts: batch.alerts,
      count: batch.alerts.length,
      redeliveries,
      receivedAt: batch.receivedAt,
    };
    try {
      const ref = await this.options.send(fingerprint, signal);
      for (const alert of batch.alerts) {
        this.options.recent.remember(alert.id, ref);
      }
      batch.outcome.resolve(ref);
    } catch (error) {
      this.carriedRedeliveries.set(fingerprint, (this.carriedRedeliveries.get(fingerprint) ?? 0) + redeliveries);
      batch.outcome.reject(error);
    } finally {
      for (const alert of batch.alerts) {
        this.waitingIds.delete(alert.id);
      }
      this.pendingAlerts -= batch.alerts.length;
    }
  }

  /** Alerts waiting for Temporal, across all incidents. */
  get pending(): number {
    return this.pendingAlerts;
  }
}
