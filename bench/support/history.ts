import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';

const EventType = temporal.api.enums.v1.EventType;

/** An activity of an incident as its history records it: event times in epoch milliseconds. */
export interface ActivityTimes {
  name: string;
  scheduledMs: number;
  startedMs?: number;
  completedMs?: number;
}

/** Times of an incident run taken from its Temporal history. */
export interface RunTimes {
  startedMs?: number;
  /** Completion times of the workflow tasks, in order. */
  workflowTasksCompletedMs: number[];
  activities: ActivityTimes[];
  historyLength: number;
  signals: number;
  /** Times of the accepted Updates (gate decisions), in order. */
  updatesAcceptedMs: number[];
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

/** Converts a protobuf timestamp to epoch milliseconds, keeping the sub-millisecond part. */
export function timestampMs(ts: Timestamp): number {
  if (!ts) return Number.NaN;
  const seconds = ts.seconds;
  const whole = typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0);
  return whole * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** Reads the event times of one workflow run from the Temporal server. */
export async function runTimes(client: Client, workflowId: string, runId?: string): Promise<RunTimes> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const times: RunTimes = {
    workflowTasksCompletedMs: [],
    activities: [],
    historyLength: events.length,
    signals: 0,
    updatesAcceptedMs: [],
  };
  const byScheduledId = new Map<number, ActivityTimes>();
  for (const event of events) {
    const at = timestampMs(event.eventTime);
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        times.startedMs = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        times.workflowTasksCompletedMs.push(at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        times.signals += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        times.updatesAcceptedMs.push(at);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const activity = {
          name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          scheduledMs: at,
        };
        byScheduledId.set(id, activity);
        times.activities.push(activity);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const activity = byScheduledId.get(Number(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (activity) activity.startedMs = at;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const attributes =
          event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? undefined;
        const activity = byScheduledId.get(Number(attributes?.scheduledEventId));
        if (activity) activity.completedMs = at;
        break;
      }
      default:
        break;
    }
  }
  return times;
}

/** Returns the first activity of a type, or undefined when the run scheduled none. */
export function activityNamed(times: RunTimes, name: string): ActivityTimes | undefined {
  return times.activities.find((activity) => activity.name === name);
}

const storedBatchSchema = z.object({ alerts: z.array(z.object({ id: z.string() }).loose()) }).loose();

/**
 * Returns the ids of the alerts that Temporal stored for a workflow: those in the `alerts` signals of its
 * history. It needs no worker, so it checks an incident whose worker is still busy.
 */
export async function storedAlertIds(client: Client, workflowId: string): Promise<Set<string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ids = new Set<string>();
  for (const event of history.events ?? []) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== 'alerts') continue;
    for (const payload of signal.input?.payloads ?? []) {
      const batch = storedBatchSchema.safeParse(defaultPayloadConverter.fromPayload(payload));
      if (batch.success) for (const alert of batch.data.alerts) ids.add(alert.id);
    }
  }
  return ids;
}
