import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { statusQuery } from '../../workflows/messages';
import { falcoAlertBody, benchRules } from './alerts';
import { storedAlertIds } from './history';
import { inParallel, type JsonPoster, type PostResult } from './http';

/** One alert of a mixed load, with the incident it must land in (its pod and rule). */
export interface MixedAlert {
  key: string;
  id: string;
  body: string;
}

/**
 * Alerts for many incidents: each alert opens a new incident with probability `newShare` (a new pod, with the
 * rules taking turns), else repeats one of the `openWindow` most recent incidents. The pods do not exist, so
 * each incident resolves no target and waits at its isolate gate for a person, which keeps the worker's work
 * per incident small and the same for every benchmark that uses this mix.
 */
export class IncidentMix {
  private readonly keys: { pod: string; rule: string }[] = [];
  private sequence = 0;

  constructor(
    private readonly options: { namespace: string; node: string; newShare: number; openWindow: number; prefix: string },
  ) {}

  /** Returns the next alert; the first one always opens an incident. */
  next(): MixedAlert {
    const opensIncident = this.keys.length === 0 || Math.random() < this.options.newShare;
    if (opensIncident) {
      const index = this.keys.length;
      this.keys.push({
        pod: `${this.options.prefix}-${index}`,
        rule: benchRules[index % benchRules.length] ?? benchRules[0],
      });
    }
    const window = Math.min(this.options.openWindow, this.keys.length);
    const pick = opensIncident ? this.keys.length - 1 : this.keys.length - 1 - Math.floor(Math.random() * window);
    const target = this.keys[pick] ?? this.keys[0];
    if (target === undefined) throw new Error('the incident mix has no incident');
    this.sequence += 1;
    const alert = falcoAlertBody({
      namespace: this.options.namespace,
      pod: target.pod,
      node: this.options.node,
      rule: target.rule,
    });
    return { key: `${target.pod}|${target.rule}`, id: alert.id, body: alert.body };
  }

  get incidents(): number {
    return this.keys.length;
  }
}

const acceptedSchema = z.object({
  workflowId: z.string(),
  accepted: z.number(),
  redeliveries: z.number(),
});

/** The sender's record per incident key: the acknowledged alert ids and the workflow ids the intake returned. */
export class DeliveryLedger {
  readonly acknowledged = new Map<string, Set<string>>();
  readonly workflowIds = new Map<string, Set<string>>();
  readonly ackLatenciesMs: number[] = [];
  sent = 0;
  retries = 0;
  /** Alerts that got no 202 after every retry. */
  unacknowledged = 0;
  statusCounts = new Map<number, number>();

  /**
   * Posts one alert, retrying a failed connection or a 5xx up to `maxRetries` times with backoff from 200 ms, as
   * Alertmanager and Falcosidekick resend failed notifications (about 50 s in all, each wait at most 10 s).
   * Records the latency of first attempts that got 202.
   */
  async deliver(poster: JsonPoster, alert: MixedAlert, maxRetries = 8): Promise<PostResult> {
    this.sent += 1;
    let result = await poster.post('/v1/alerts/falco', alert.body, 15_000);
    this.count(result.status);
    if (result.status === 202) this.ackLatenciesMs.push(result.durationMs);
    for (let attempt = 1; attempt <= maxRetries && (result.status === 0 || result.status >= 500); attempt += 1) {
      this.retries += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 200 * 2 ** (attempt - 1))));
      result = await poster.post('/v1/alerts/falco', alert.body, 15_000);
      this.count(result.status);
    }
    if (result.status !== 202) {
      this.unacknowledged += 1;
      return result;
    }
    const parsed = acceptedSchema.safeParse(JSON.parse(result.body));
    if (parsed.success) {
      this.add(this.acknowledged, alert.key, alert.id);
      this.add(this.workflowIds, alert.key, parsed.data.workflowId);
    } else {
      this.unacknowledged += 1;
    }
    return result;
  }

  private count(status: number): void {
    this.statusCounts.set(status, (this.statusCounts.get(status) ?? 0) + 1);
  }

  private add(map: Map<string, Set<string>>, key: string, value: string): void {
    const set = map.get(key) ?? new Set<string>();
    set.add(value);
    map.set(key, set);
  }

  get acknowledgedCount(): number {
    let total = 0;
    for (const ids of this.acknowledged.values()) total += ids.size;
    return total;
  }

  statusSummary(): string {
    return [...this.statusCounts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status === 0 ? 'no response' : status}: ${count}`)
      .join(', ');
  }
}

/**
 * Counts the incidents of a Kubernetes namespace: distinct workflow ids, because an incident that continued as
 * new has one execution per run.
 */
export async function countIncidents(client: Client, namespace: string): Promise<number> {
  const ids = new Set<string>();
  const query = `WorkflowType = 'incidentWorkflow' AND FirebreakNamespace = '${namespace}'`;
  for await (const execution of client.workflow.list({ query })) ids.add(execution.workflowId);
  return ids.size;
}

/** Reads an incident's status, or undefined when the query fails or takes longer than 10 s. */
function queryStatus(client: Client, workflowId: string) {
  return client
    .withDeadline(Date.now() + 10_000, () => client.workflow.getHandle(workflowId).query(statusQuery))
    .catch(() => undefined);
}

export interface LedgerCheck {
  incidentsExpected: number;
  incidentsFound: number;
  alertsAcknowledged: number;
  alertsCounted: number;
  /** Incidents whose history lacks some of their acknowledged alerts: lost alerts. */
  mismatched: string[];
  /** Incidents whose every acknowledged alert is in their history, while the worker had not yet counted them all. */
  storedNotCounted: number;
  /** Incidents whose history could not be read before the deadline. */
  unverified: string[];
  problems: string[];
}

/**
 * Checks the sender's view against Temporal. Every incident key must have gone to exactly one workflow, and no
 * two keys to the same one. The incident workflows in the Kubernetes `namespace` must number as many as the keys,
 * and each incident's `status` query must count exactly the alerts acknowledged for it. The queries are retried
 * until `deadlineMs` while the worker catches up.
 */
export async function checkLedger(
  client: Client,
  ledger: DeliveryLedger,
  namespace: string,
  deadlineMs: number,
): Promise<LedgerCheck> {
  const problems: string[] = [];
  if (ledger.unacknowledged > 0) problems.push(`${ledger.unacknowledged} alerts were never acknowledged with 202`);
  const owners = new Map<string, string>();
  for (const [key, ids] of ledger.workflowIds) {
    if (ids.size !== 1) problems.push(`alerts of ${key} landed in ${ids.size} incidents: ${[...ids].join(', ')}`);
    for (const id of ids) {
      const other = owners.get(id);
      if (other !== undefined && other !== key) problems.push(`${key} and ${other} share incident ${id}`);
      owners.set(id, key);
    }
  }
  // Visibility lags behind the workflows a little, so the count is read until it matches or 30 s pass.
  const countDeadline = Math.min(deadlineMs, Date.now() + 30_000);
  let incidentsFound = await countIncidents(client, namespace);
  while (incidentsFound !== ledger.workflowIds.size && Date.now() < countDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    incidentsFound = await countIncidents(client, namespace);
  }
  if (incidentsFound !== ledger.workflowIds.size) {
    problems.push(`${incidentsFound} incident workflows exist for ${ledger.workflowIds.size} incident keys`);
  }
  const pending = new Map([...ledger.workflowIds].map(([key, ids]) => [key, [...ids][0] ?? '']));
  let alertsCounted = 0;
  const mismatched: string[] = [];
  while (pending.size > 0 && Date.now() < deadlineMs) {
    await inParallel([...pending], 8, async ([key, workflowId]) => {
      if (Date.now() >= deadlineMs) return;
      const expected = ledger.acknowledged.get(key)?.size ?? 0;
      const status = await queryStatus(client, workflowId);
      if (status !== undefined && status.alertCount === expected) {
        alertsCounted += status.alertCount;
        pending.delete(key);
      }
    });
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  // The incidents whose worker did not answer in time are checked against their histories, which need no worker.
  const finalDeadlineMs = Date.now() + 120_000;
  let storedNotCounted = 0;
  const unverified: string[] = [];
  await inParallel([...pending], 8, async ([key, workflowId]) => {
    const acknowledged = ledger.acknowledged.get(key) ?? new Set<string>();
    const stored =
      Date.now() < finalDeadlineMs ? await storedAlertIds(client, workflowId).catch(() => undefined) : undefined;
    if (stored === undefined) {
      unverified.push(`${workflowId} (${key}): its history could not be read before the deadline`);
      return;
    }
    const missing = [...acknowledged].filter((id) => !stored.has(id)).length;
    if (missing > 0) {
      mismatched.push(
        `${workflowId} (${key}): ${missing} of ${acknowledged.size} acknowledged alerts are not in its history`,
      );
    } else {
      storedNotCounted += 1;
    }
  });
  return {
    incidentsExpected: ledger.workflowIds.size,
    incidentsFound,
    alertsAcknowledged: ledger.acknowledgedCount,
    alertsCounted,
    mismatched,
    storedNotCounted,
    unverified,
    problems,
  };
}
