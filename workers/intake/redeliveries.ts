import type { IncidentRef } from './incidents';

/**
 * Recently stored alert ids of this intake process, with the incident each landed in, bounded to `capacity`
 * entries (least recently used evicted first). A hit means a redelivery (Alertmanager HA peers, sender retries)
 * that the intake accepts without a new signal. This cache is an optimisation only: it is per process and
 * forgets old ids, and the incident workflow de-duplicates by alert id as well.
 */
export class RecentAlertIds {
  private readonly entries = new Map<string, IncidentRef>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`invalid redelivery cache capacity ${capacity}: expected a positive integer`);
    }
  }

  /** Returns where the alert id was stored, and marks it as recently used. */
  get(alertId: string): IncidentRef | undefined {
    const ref = this.entries.get(alertId);
    if (ref !== undefined) {
      this.entries.delete(alertId);
      this.entries.set(alertId, ref);
    }
    return ref;
  }

  /** Records that the alert id is stored in an incident. */
  remember(alertId: string, ref: IncidentRef): void {
    this.entries.delete(alertId);
    this.entries.set(alertId, ref);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) {
        break;
      }
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
