import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { severitySchema, type Severity } from '../../domain/alert';
import type { EscalateIncidentResult } from '../../domain/response';

/**
 * Pages people through a webhook that takes PagerDuty Events API v2 `trigger` events (the PagerDuty
 * Events API itself, or any service that accepts that body). The routing key is read from the
 * environment variable that the playbook names, so it never passes through workflow history.
 */

/** Maximum length of one `details` value; the workflow cuts longer error messages before paging. */
const maxDetailLength = 2000;

export const escalateIncidentInputSchema = z.object({
  incidentId: z.string().min(1),
  target: z.object({ url: z.url({ protocol: /^https?$/ }), routingKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }),
  summary: z.string().min(1),
  severity: severitySchema,
  source: z.string().min(1),
  dedupKey: z.string().min(1),
  details: z.record(z.string(), z.string().max(maxDetailLength)).optional(),
});

const eventsResponseSchema = z.object({
  status: z.string(),
  message: z.string().optional(),
  dedup_key: z.string().optional(),
});

/** PagerDuty event severities, from the Events API v2 `payload.severity` field. */
const pagerDutySeverity: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  P0: 'critical',
  P1: 'error',
  P2: 'warning',
  P3: 'info',
};

/** PagerDuty rejects summaries longer than 1024 characters. */
const maxSummaryLength = 1024;

export interface EscalationActivityDeps {
  /** Environment to read routing keys from; `process.env` when absent. */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'InvalidEscalation', nonRetryable: true });
}

/** Builds the Events API v2 body of a `trigger` event. */
export function triggerEvent(input: z.infer<typeof escalateIncidentInputSchema>, routingKey: string) {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: input.dedupKey,
    payload: {
      summary: Array.from(input.summary).slice(0, maxSummaryLength).join(''),
      source: input.source,
      severity: pagerDutySeverity[input.severity],
      component: input.incidentId,
      class: 'security-incident',
      custom_details: { ...input.details, incidentId: input.incidentId, firebreakSeverity: input.severity },
    },
  };
}

async function failureOf(response: Response, url: string): Promise<ApplicationFailure> {
  const body = (await response.text()).slice(0, 500);
  const message = `escalation webhook ${url} responded ${response.status}: ${body}`;
  // 400 means the event itself is wrong and a retry sends the same event; 429 and 5xx pass.
  if (response.status === 400 || response.status === 401 || response.status === 403 || response.status === 404) {
    return invalid(`${message}; check the escalation url and the routing key`);
  }
  const retryAfterSec = Number(response.headers.get('retry-after'));
  const nextRetryDelay = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : undefined;
  return ApplicationFailure.create({ message, type: 'EscalationUnavailable', nextRetryDelay });
}

/** Builds the `escalateIncident` activity. */
export function createEscalationActivities(deps: EscalationActivityDeps = {}) {
  const env = deps.env ?? process.env;
  const send = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;

  async function escalateIncident(raw: unknown): Promise<EscalateIncidentResult> {
    const parsed = escalateIncidentInputSchema.safeParse(raw);
    if (!parsed.success) {
      throw invalid(`escalateIncident received invalid input: ${z.prettifyError(parsed.error)}`);
    }
    const input = parsed.data;
    const routingKey = env[input.target.routingKeyEnv];
    if (routingKey === undefined || routingKey === '') {
      throw invalid(`environment variable ${input.target.routingKeyEnv} is not set: set it to the routing key`);
    }

    const response = await send(input.target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(triggerEvent(input, routingKey)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      throw await failureOf(response, input.target.url);
    }
    const answer = eventsResponseSchema.safeParse(await response.json().catch(() => ({ status: 'accepted' })));
    const status = answer.success ? answer.data.status : 'accepted';
    const dedupKey = (answer.success ? answer.data.dedup_key : undefined) ?? input.dedupKey;
    return { status, dedupKey };
  }

  return { escalateIncident };
}
