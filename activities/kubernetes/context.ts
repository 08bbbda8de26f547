import { asyncLocalStorage } from '@temporalio/activity';

/** Logger shape shared by the Temporal activity logger and pino. */
export interface ActivityLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

const silentLogger: ActivityLogger = { info: () => undefined, warn: () => undefined };

/** Sends a heartbeat when running inside a Temporal activity; outside one (a direct call) it does nothing. */
export function heartbeat(details?: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

/** The activity logger inside a Temporal activity, else the given fallback, else a logger that drops lines. */
export function activityLogger(fallback?: ActivityLogger): ActivityLogger {
  return asyncLocalStorage.getStore()?.log ?? fallback ?? silentLogger;
}

/** Temporal run id of the calling workflow, recorded on created objects when running inside an activity. */
export function workflowRunId(): string | undefined {
  return asyncLocalStorage.getStore()?.info.workflowExecution?.runId;
}
