import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Alert } from '../../domain/alert';
import { parseAlertmanagerBody } from '../../domain/parsers/alertmanager';
import { AlertBodyError } from '../../domain/parsers/common';
import { parseFalcoBody } from '../../domain/parsers/falco';
import { parseGenericBody } from '../../domain/parsers/generic';
import type { BodyFormat } from '../../domain/parsers/json';
import { acceptAlerts, type AcceptContext } from './accept';
import { IntakeBusyError } from './batcher';
import { rejectRequest } from './errors';
import { TemporalUnavailableError } from './incidents';
import type { IntakeLimits } from './options';

/** Media types the intake reads; any other gets 415 before its body is read. */
export const alertMediaTypes = ['application/json', 'application/x-ndjson', 'application/jsonl'];
const lineDelimitedTypes = new Set(['application/x-ndjson', 'application/jsonl']);

type BodyParser = (text: string, format: BodyFormat) => Alert[];

interface AlertRoute {
  path: string;
  parse: BodyParser;
  /** Whether the route reads newline-delimited JSON as well as one JSON document. */
  lineDelimited: boolean;
}

const alertRoutes: AlertRoute[] = [
  { path: '/v1/alerts/falco', parse: parseFalcoBody, lineDelimited: true },
  { path: '/v1/alerts/alertmanager', parse: (text) => parseAlertmanagerBody(text), lineDelimited: false },
  { path: '/v1/alerts', parse: parseGenericBody, lineDelimited: true },
];

export type RouteContext = AcceptContext & { limits: IntakeLimits };

function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Registers the three alert endpoints. */
export function registerAlertRoutes(app: FastifyInstance, context: RouteContext): void {
  for (const route of alertRoutes) {
    app.post(route.path, async (request, reply) => handleAlertRequest(context, route, request, reply));
  }
}

async function handleAlertRequest(
  context: RouteContext,
  route: AlertRoute,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const mediaType = mediaTypeOf(request);
  const text = typeof request.body === 'string' ? request.body : '';
  if (lineDelimitedTypes.has(mediaType) && !route.lineDelimited) {
    const message = `unsupported content type ${mediaType} on ${route.path}: send application/json`;
    return rejectRequest(context, request, reply, 415, { error: 'unsupported_media_type', message });
  }

  let alerts: Alert[];
  try {
    alerts = route.parse(text, lineDelimitedTypes.has(mediaType) ? 'ndjson' : 'json');
  } catch (error) {
    if (!(error instanceof AlertBodyError)) {
      throw error;
    }
    const answer = { error: 'invalid_body' as const, message: error.message, issues: error.issues };
    return rejectRequest(context, request, reply, 400, answer, text);
  }
  if (alerts.length === 0) {
    const answer = { error: 'invalid_body' as const, message: 'the body contains no alert', issues: [] };
    return rejectRequest(context, request, reply, 400, answer, text);
  }

  const receivedAt = new Date().toISOString();
  try {
    const answer = await acceptAlerts(context, alerts, { route: route.path, requestId: request.id, receivedAt });
    request.log.info(
      { incidentId: answer.incidentId, accepted: answer.accepted, redeliveries: answer.redeliveries },
      'alerts accepted',
    );
    return reply.code(202).send(answer);
  } catch (error) {
    if (error instanceof TemporalUnavailableError || error instanceof IntakeBusyError) {
      return answerUnavailable(context, request, reply, error);
    }
    throw error;
  }
}

/** 503 with `Retry-After` (RFC 9110 section 10.2.3), so the sender retries: no alert of the body is reported stored. */
function answerUnavailable(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  error: Error,
): FastifyReply {
  context.metrics.rejections.inc({ reason: 'unavailable' });
  request.log.warn({ err: error }, 'alerts not accepted: Temporal unavailable or intake busy');
  return reply
    .code(503)
    .header('retry-after', String(context.limits.retryAfterSec))
    .send({ error: 'unavailable', message: `${error.message}; retry after ${context.limits.retryAfterSec} s` });
}
