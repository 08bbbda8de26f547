import type { Alert } from '../../domain/alert';
import type { AlertBatch } from '../../domain/incident';
import type { IncidentRef } from './incidents';
import { ConcurrencyLimiter } from './limiter';
import { redeliveryKey, type RecentAlertIds } from './redeliveries';

/** Raised when more alerts wait for Temporal than `maxPendingAlerts`; the sender should retry later. */
export class IntakeBusyError extends Error {
  constructor(pendingAlerts: number, maxPendingAlerts: number) {
    super(`${pendingAlerts} alerts are waiting for Temporal, above the limit of ${maxPendingAlerts}; retry later`);
    this.name = 'IntakeBusyError';
  }
}

/**
 * How a batch reaches its incident. `start` adds it to the running incident or starts one (signalWithStart).
 * `existing` only signals a running incident, because a batch of resolved alerts never starts one.
 */
export type SendMode = 'start' | 'existing';

export interface BatcherOptions {
  /** How long the first alert of an idle incident waits for more before its signal is sent. */
  windowMs: number;
  maxBatchAlerts: number;
  /** Upper bound of the JSON size of the alerts in one signal; Temporal rejects payloads above 2 MB by default. */
  maxBatchBytes: number;
  /** Alerts that may wait for Temporal across all incidents before new requests get 503. */
  maxPendingAlerts: number;
  /** Batches sent to Temporal at once across all incidents; the others wait for a free slot. */
  maxSendsInFlight: number;
  recent: RecentAlertIds;
  /** Stores a batch. Returns undefined when the mode is `existing` and no incident is running. */
  send: (fingerprint: string, batch: AlertBatch, mode: SendMode) => Promise<IncidentRef | undefined>;
}

/** The alerts of one request that belong to one incident. */
export interface IncidentAlerts {
  fingerprint: string;
  alerts: Alert[];
}

/** Outcome of one alert of a request. */
export interface AlertOutcome {
  alert: Alert;
  /** Incident run that stores the alert; undefined for a resolved alert that found no running incident. */
  ref: IncidentRef | undefined;
  /** True when an earlier delivery of the alert was already stored or waiting. */
  redelivery: boolean;
}

interface Deferred {
  promise: Promise<IncidentRef | undefined>;
  resolve: (ref: IncidentRef | undefined) => void;
  reject: (error: unknown) => void;
}

interface PendingBatch {
  mode: SendMode;
  alerts: Alert[];
  keys: string[];
  bytes: number;
  receivedAt: string;
  outcome: Deferred;
}

function deferred(): Deferred {
  let resolve: Deferred['resolve'] = () => undefined;
  let reject: Deferred['reject'] = () => undefined;
  const promise = new Promise<IncidentRef | undefined>((onResolve, onReject) => {
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
 * `maxBatchBytes`), and every alert is carried. Batches of one incident are sent one at a time, in order, so a
 * resolved alert queued after firing ones finds the incident they started.
 */
export class IncidentBatcher {
  private readonly queues = new Map<string, PendingBatch[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private readonly waiting = new Map<string, Deferred>();
  /** Redeliveries resolved from the cache, reported to the workflow with the incident's next signal. */
  private readonly carriedRedeliveries = new Map<string, number>();
  private readonly limiter: ConcurrencyLimiter;
  private pendingAlerts = 0;

  constructor(private readonly options: BatcherOptions) {
    this.limiter = new ConcurrencyLimiter(options.maxSendsInFlight);
  }

  /**
   * Queues the alerts of one request. Raises `IntakeBusyError` before queueing any alert when the request does
   * not fit under `maxPendingAlerts`, so no part of a rejected request is left running. Each returned promise
   * settles once Temporal has stored (or failed to store) its alert; the caller must await all of them.
   */
  submit(groups: IncidentAlerts[]): Promise<AlertOutcome>[] {
    let fresh = 0;
    for (const { fingerprint, alerts } of groups) {
      fresh += alerts.filter((alert) => this.isNew(redeliveryKey(fingerprint, alert))).length;
    }
    if (this.pendingAlerts + fresh > this.options.maxPendingAlerts) {
      throw new IntakeBusyError(this.pendingAlerts, this.options.maxPendingAlerts);
    }
    return groups.flatMap(({ fingerprint, alerts }) => alerts.map((alert) => this.submitOne(fingerprint, alert)));
  }

  private isNew(key: string): boolean {
    return this.options.recent.get(key) === undefined && !this.waiting.has(key);
  }

  private submitOne(fingerprint: string, alert: Alert): Promise<AlertOutcome> {
    const key = redeliveryKey(fingerprint, alert);
    const stored = this.options.recent.get(key);
    if (stored !== undefined) {
      this.carryRedeliveries(fingerprint, 1);
      return Promise.resolve({ alert, ref: stored, redelivery: true });
    }
    const waiting = this.waiting.get(key);
    if (waiting !== undefined) {
      this.carryRedeliveries(fingerprint, 1);
      return waiting.promise.then((ref) => ({ alert, ref, redelivery: true }));
    }
    const mode: SendMode = alert.status === 'firing' ? 'start' : 'existing';
    const batch = this.openBatch(fingerprint, Buffer.byteLength(JSON.stringify(alert)), mode);
    batch.alerts.push(alert);
    batch.keys.push(key);
    this.waiting.set(key, batch.outcome);
    this.pendingAlerts += 1;
    this.schedule(fingerprint);
    return batch.outcome.promise.then((ref) => ({ alert, ref, redelivery: false }));
  }

  private carryRedeliveries(fingerprint: string, count: number): void {
    this.carriedRedeliveries.set(fingerprint, (this.carriedRedeliveries.get(fingerprint) ?? 0) + count);
  }

  /**
   * Returns the incident's last queued batch when the alert fits in it, else a new batch. A firing alert never
   * joins an `existing` batch, because that batch must not start the incident. A resolved alert may join a
   * `start` batch, which reaches the incident once it exists.
   */
  private openBatch(fingerprint: string, alertBytes: number, mode: SendMode): PendingBatch {
    const queue = this.queues.get(fingerprint) ?? [];
    this.queues.set(fingerprint, queue);
    const last = queue.at(-1);
    const fits =
      last !== undefined &&
      (last.mode === 'start' || mode === 'existing') &&
      last.alerts.length < this.options.maxBatchAlerts &&
      last.bytes + alertBytes <= this.options.maxBatchBytes;
    if (last !== undefined && fits) {
      last.bytes += alertBytes;
      return last;
    }
    const batch: PendingBatch = {
      mode,
      alerts: [],
      keys: [],
      bytes: alertBytes,
      receivedAt: new Date().toISOString(),
      outcome: deferred(),
    };
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

  /** Sends one batch and settles its outcome; never raises. */
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
      const ref = await this.limiter.run(() => this.options.send(fingerprint, signal, batch.mode));
      if (ref === undefined) {
        this.carryRedeliveries(fingerprint, redeliveries);
      } else {
        for (const key of batch.keys) {
          this.options.recent.remember(key, ref);
        }
      }
      batch.outcome.resolve(ref);
    } catch (error) {
      this.carryRedeliveries(fingerprint, redeliveries);
      batch.outcome.reject(error);
    } finally {
      for (const key of batch.keys) {
        this.waiting.delete(key);
      }
      this.pendingAlerts -= batch.alerts.length;
    }
  }

  /** Alerts waiting for Temporal, across all incidents. */
  get pending(): number {
    return this.pendingAlerts;
  }
}
