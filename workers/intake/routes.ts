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
/** `charset` values of a body the intake reads; JSON text is UTF-8 (RFC 8259 section 8.1), and ASCII is a subset. */
const acceptedCharsets = new Set(['utf-8', 'utf8', 'us-ascii']);

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

/** Returns the `charset` parameter of the content type, lowercase and unquoted, or undefined when absent. */
function charsetOf(request: FastifyRequest): string | undefined {
  const parameters = (request.headers['content-type'] ?? '').split(';').slice(1);
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=', 2).map((part) => part.trim());
    if (name?.toLowerCase() === 'charset' && value !== undefined) {
      return value.replace(/^"|"$/g, '').toLowerCase();
    }
  }
  return undefined;
}

/**
 * Returns why the body cannot be read as sent, or undefined when it can: a `Content-Encoding` other than
 * `identity` (compressed bodies are not decoded) or a charset other than UTF-8. Checked before the body is read.
 */
export function unreadableBodyReason(request: FastifyRequest): string | undefined {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    return `compressed bodies are not accepted (Content-Encoding: ${encoding}): send the body uncompressed`;
  }
  const charset = charsetOf(request);
  if (charset !== undefined && !acceptedCharsets.has(charset)) {
    return `charset ${charset} is not supported: send the body as UTF-8`;
  }
  return undefined;
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
  const maxAlerts = context.limits.maxAlertsPerRequest;
  if (alerts.length > maxAlerts) {
    const message =
      `the body carries ${alerts.length} alerts, above the maximum of ${maxAlerts} alerts per request: ` +
      'split it into smaller requests';
    return rejectRequest(context, request, reply, 413, { error: 'too_large', message }, text);
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
