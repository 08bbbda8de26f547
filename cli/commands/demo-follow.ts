import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { GateName } from '../../domain/incident';
import type { TimelineEntry } from '../../domain/response';
import { decideGateUpdate, statusQuery, type IncidentStatus } from '../../workflows/messages';
import { printable } from '../playbooks/terminal-text';
import { decisionFailure } from './decide';

/** The workflow result, checked at the edge because it crosses from Temporal into the CLI. */
const incidentResultSchema = z.object({
  incidentId: z.string(),
  outcome: z.string(),
  severity: z.enum(['P0', 'P1', 'P2', 'P3']).optional(),
  report: z.object({ markdownPath: z.string(), jsonPath: z.string() }).optional(),
});
export type FollowedIncident = z.infer<typeof incidentResultSchema>;

export interface FollowOptions {
  client: Client;
  workflowId: string;
  runId: string;
  /** Identity that approves the gates, as `firebreak decide` uses it. */
  operator: string;
  /** Image to restore on, as `repository@sha256:…`, for a playbook that takes the trusted digest from a person. */
  imageDigest?: string;
  out: (text: string) => void;
  pollIntervalMs?: number;
  /** After this long without a new timeline entry, print what the incident waits for. */
  idleNoticeMs?: number;
}

const gateReasons: Record<GateName, string> = {
  isolate: 'demo: contain the compromised pod now',
  escalate: 'demo: a miner on a production pod calls for the on-call security team',
  restore: 'demo: the quiet period passed without new alerts',
};

function clockTime(iso: string): string {
  return new Date(iso).toISOString().slice(11, 19);
}

const maxErrorLength = 200;

/** Formats one timeline entry as a line. An error entry also shows the error it recorded, cut to 200 characters. */
function entryLine(entry: TimelineEntry): string {
  const summary = printable(entry.summary);
  if (entry.kind !== 'error') return `  ${clockTime(entry.at)}  ${summary}`;
  const recorded = entry.data?.['error'];
  const detail = typeof recorded === 'string' ? ` (${printable(recorded.slice(0, maxErrorLength))})` : '';
  return `  ${clockTime(entry.at)}  error: ${summary}${detail}`;
}

/**
 * Follows an incident until its workflow completes. Prints every new timeline entry, and approves as the
 * operator each gate that opens with the operator among its approvers, through the `decideGate` Update as
 * `firebreak decide` sends it. A gate that the operator may not decide is left to the people it names.
 * Returns the workflow result.
 */
export async function followIncident(options: FollowOptions): Promise<FollowedIncident> {
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const idleNoticeMs = options.idleNoticeMs ?? 30_000;
  const handle = options.client.workflow.getHandle(options.workflowId);
  let done = false;
  const result = options.client.workflow
    .getHandle(options.workflowId, options.runId)
    .result()
    .finally(() => {
      done = true;
    });
  const printer = timelinePrinter(options.out);
  const attempted = new Set<string>();
  let lastNewsAt = Date.now();
  let idleNotices = 0;

  while (!done) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status !== undefined) {
      if (printer.print(status)) {
        lastNewsAt = Date.now();
        idleNotices = 0;
      }
      await decideOpenGate(options, status, attempted);
    }
    if (Date.now() - lastNewsAt > idleNoticeMs * 2 ** idleNotices) {
      idleNotices += 1;
      options.out(`  ... ${waitingLine(status)}; Ctrl-C stops the demo, the incident goes on`);
    }
    await Promise.race([result.catch(() => undefined), sleep(pollIntervalMs)]);
  }
  const final = await handle.query(statusQuery).catch(() => undefined);
  if (final !== undefined) printer.print(final);
  return incidentResultSchema.parse(await result);
}

function waitingLine(status: IncidentStatus | undefined): string {
  if (status === undefined) return 'waiting for the worker to answer the status query';
  const gate = status.waitingGate === 'none' ? '' : `, gate ${status.waitingGate} open`;
  return `waiting (phase ${status.phase}${gate})`;
}

/** Prints the timeline entries that a status shows and the previous one did not, and returns whether any were new. */
function timelinePrinter(out: (text: string) => void) {
  let printed = 0;
  return {
    print(status: IncidentStatus): boolean {
      const fresh = status.timelineLength - printed;
      if (fresh <= 0) return false;
      const shown = status.timeline.slice(-Math.min(fresh, status.timeline.length));
      if (fresh > shown.length) out(`  (${fresh - shown.length} earlier entries not shown)`);
      for (const entry of shown) out(entryLine(entry));
      printed = status.timelineLength;
      return true;
    },
  };
}

async function decideOpenGate(options: FollowOptions, status: IncidentStatus, attempted: Set<string>): Promise<void> {
  const open = status.gates.find((gate) => gate.state === 'open');
  const key = open === undefined ? undefined : `${open.gate}@${open.deadlineAt ?? ''}`;
  if (open === undefined || key === undefined || attempted.has(key)) return;
  attempted.add(key);

  if (!open.approvers.includes(options.operator)) {
    const people = [...open.approvers, ...open.approverGroups].join(', ') || 'nobody';
    options.out(`  gate ${open.gate} waits for ${people}; ${options.operator} may not decide it`);
    options.out(`  decide it with: ./bin/firebreak decide ${options.workflowId} ${open.gate} approve --reason TEXT`);
    return;
  }
  const imageDigest = open.gate === 'restore' ? options.imageDigest : undefined;
  const rejected = await approveGate(options, open.gate, imageDigest);
  // A playbook that lists its trusted digests itself rejects a decision that names one, so try once without.
  if (rejected !== undefined && imageDigest !== undefined) {
    await approveGate(options, open.gate, undefined);
  }
}

/** Approves a gate as the operator, prints the result, and returns the reason when the workflow rejected it. */
async function approveGate(
  options: FollowOptions,
  gate: GateName,
  imageDigest: string | undefined,
): Promise<string | undefined> {
  const input = {
    gate,
    decision: 'approve' as const,
    decider: options.operator,
    channel: 'cli' as const,
    reason: gateReasons[gate],
    ...(imageDigest === undefined ? {} : { imageDigest }),
  };
  const command = `firebreak decide ${options.workflowId} ${gate} approve`;
  const digest = imageDigest === undefined ? '' : ` on ${imageDigest}`;
  try {
    const decided = await options.client.workflow
      .getHandle(options.workflowId)
      .executeUpdate(decideGateUpdate, { args: [input] });
    const waiting = decided.status === 'open' ? ': it waits for a second approver' : '';
    options.out(`  > ${command}${digest}, as ${options.operator}${waiting}`);
    return undefined;
  } catch (error) {
    const reason = decisionFailure(error, options.workflowId);
    if (reason === undefined) throw error;
    options.out(`  > ${command}${digest}, as ${options.operator}, was rejected: ${reason}`);
    return reason;
  }
}
