import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { BodyIssue } from '../../domain/parsers/common';
import type { DeadLetterReason, DeadLetterStore } from './dead-letter';
import type { IntakeMetrics } from './metrics';

/** The JSON body of every error response. */
export interface ErrorAnswer {
  error: DeadLetterReason | 'unavailable' | 'unauthorized';
  message: string;
  issues?: BodyIssue[];
}

export interface RejectContext {
  deadLetters: DeadLetterStore;
  metrics: IntakeMetrics;
}

/** Returns the path of a request URL without its query string, which may carry secrets such as a misplaced token. */
export function pathOf(url: string): string {
  return url.split('?')[0] ?? '';
}

/** Sends the error response of a rejected request and writes its dead-letter record; `body` is the text when it was read. */
export async function rejectRequest(
  context: RejectContext,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  answer: ErrorAnswer & { error: DeadLetterReason },
  body?: string,
): Promise<FastifyReply> {
  context.metrics.rejections.inc({ reason: answer.error });
  await context.deadLetters.write({
    reason: answer.error,
    message: answer.message,
    route: request.routeOptions.url ?? pathOf(request.url),
    requestId: request.id,
    receivedAt: new Date().toISOString(),
    contentType: request.headers['content-type'],
    contentLength: request.headers['content-length'],
    remoteAddress: request.ip,
    ...(answer.issues ? { issues: answer.issues } : {}),
    ...(body !== undefined ? { body } : {}),
  });
  return reply.code(status).send(answer);
}

/** Fastify error codes that the body reader raises, with the response for each. */
const bodyErrors: Record<string, { status: number; error: DeadLetterReason }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, error: 'too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, error: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, error: 'invalid_body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, error: 'invalid_body' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, error: 'unsupported_media_type' },
};

/** Error handler: body reader errors become 413, 415 or 400 with a dead-letter record; anything else is a 500. */
export function handleFastifyError(context: RejectContext) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const known = bodyErrors[error.code];
    if (known !== undefined) {
      const message =
        known.status === 415
          ? `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`
          : error.message;
      return rejectRequest(context, request, reply, known.status, { error: known.error, message });
    }
    request.log.error({ err: error }, 'alert intake request failed');
    const body = typeof request.body === 'string' ? request.body : undefined;
    return rejectRequest(
      context,
      request,
      reply,
      500,
      { error: 'internal_error', message: 'the intake failed to store the alerts; see the intake log' },
      body,
    );
  };
}
