import type { Alert } from '../../domain/alert';
import type { IncidentRef } from './incidents';

/**
 * Key of an alert in the redelivery cache: its source, its incident fingerprint and the sender's id. Senders
 * choose ids freely (a generic alert may reuse a CVE id or a Falcosidekick uuid), so the id alone would take a
 * different alert for a redelivery and leave its own incident unstarted.
 */
export function redeliveryKey(fingerprint: string, alert: Pick<Alert, 'source' | 'id'>): string {
  return JSON.stringify([alert.source, fingerprint, alert.id]);
}

/**
 * Recently stored alerts of this intake process by `redeliveryKey`, with the incident each landed in, bounded
 * to `capacity` entries (least recently used evicted first). A hit means a redelivery (Alertmanager HA peers,
 * sender retries) that the intake accepts without a new signal. This cache is an optimisation only: it is per
 * process and evicts old keys, and the incident workflow de-duplicates the alerts of its incident as well.
 */
export class RecentAlertIds {
  private readonly entries = new Map<string, IncidentRef>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`invalid redelivery cache capacity ${capacity}: expected a positive integer`);
    }
  }

  /** Returns where the alert with this key was stored, and marks the key as recently used. */
  get(key: string): IncidentRef | undefined {
    const ref = this.entries.get(key);
    if (ref !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, ref);
    }
    return ref;
  }

  /** Records that the alert with this key is stored in an incident. */
  remember(key: string, ref: IncidentRef): void {
    this.entries.delete(key);
    this.entries.set(key, ref);
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
