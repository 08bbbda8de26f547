import { dirname, join } from 'node:path';
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { AlertArchive } from './archive';
import { createBearerCheck } from './auth';
import { IncidentBatcher, type SendMode } from './batcher';
import { DeadLetterStore } from './dead-letter';
import { handleFastifyError, pathOf, rejectRequest } from './errors';
import { TemporalUnavailableError, signalIncident, signalResolved, type SignalOptions } from './incidents';
import { createIntakeMetrics, type IntakeMetrics } from './metrics';
import { defaultTaskQueue, intakeLimitsSchema, type IntakeServerOptions } from './options';
import { RecentAlertIds } from './redeliveries';
import { alertMediaTypes, registerAlertRoutes, unreadableBodyReason } from './routes';
import type { AlertBatch } from '../../domain/incident';

/** Paths that need no token: probes and metrics. */
const publicPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Picks the request fields for the request log. The URL loses its query string, so a token that a sender
 * misplaced there (`?token=...`) never reaches the log.
 */
function serializeRequest(request: FastifyRequest) {
  return { method: request.method, url: pathOf(request.url), remoteAddress: request.ip };
}

/** Returns a child of the logger with the request serializer above, which fastify uses for its request log lines. */
function requestLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: { req: serializeRequest } });
}

function sendWithMetrics(signal: SignalOptions, metrics: IntakeMetrics) {
  return async (fingerprint: string, batch: AlertBatch, mode: SendMode) => {
    const stopTimer = metrics.signalDurationSec.startTimer();
    try {
      const ref =
        mode === 'start'
          ? await signalIncident(signal, fingerprint, batch)
          : await signalResolved(signal, fingerprint, batch);
      stopTimer({ outcome: 'ok' });
      metrics.signals.inc({ outcome: 'ok' });
      metrics.batchAlerts.observe(batch.alerts.length);
      return ref;
    } catch (error) {
      const outcome = error instanceof TemporalUnavailableError ? 'unavailable' : 'error';
      stopTimer({ outcome });
      metrics.signals.inc({ outcome });
      throw error;
    }
  };
}

/**
 * Builds the alert intake HTTP server (not yet listening). Alerts go to `incidentWorkflow` on the task queue
 * through signalWithStart; a 202 response means Temporal stored them.
 */
export function buildIntakeServer(options: IntakeServerOptions): FastifyInstance {
  const limits = intakeLimitsSchema.parse(options.limits ?? {});
  // Node.js 24 applies `requestTimeout` only when the server is constructed with it. Fastify's own option sets it
  // afterwards, which had no effect in a slow-body test. Node.js checks it every `connectionsCheckingInterval`
  // (30 s by default), so a shorter interval ends a slow request close to its timeout.
  const nodeServerOptions = {
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.ceil(limits.requestTimeoutMs / 4)),
  };
  const app = fastify({
    loggerInstance: requestLogger(options.logger),
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    http: nodeServerOptions,
    ...(options.tls
      ? {
          https: {
            ...nodeServerOptions,
            cert: options.tls.cert,
            key: options.tls.key,
            ...(options.tls.clientCa ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
        }
      : {}),
  });

  const metrics = createIntakeMetrics();
  const signal: SignalOptions = {
    client: options.client,
    taskQueue: options.taskQueue ?? defaultTaskQueue,
    deadlineMs: limits.temporalDeadlineMs,
  };
  const batcher = new IncidentBatcher({
    windowMs: limits.batchWindowMs,
    maxBatchAlerts: limits.maxBatchAlerts,
    maxBatchBytes: limits.maxBatchBytes,
    maxPendingAlerts: limits.maxPendingAlerts,
    maxSendsInFlight: limits.maxSignalsInFlight,
    recent: new RecentAlertIds(limits.redeliveryCacheSize),
    send: sendWithMetrics(signal, metrics),
  });
  const deadLetters = new DeadLetterStore(options.deadLetterDir, [options.token], app.log);
  const archiveDir = options.archiveDir ?? join(dirname(options.deadLetterDir), 'alert-bodies');
  const archive = new AlertArchive(archiveDir, limits);
  const isAuthorized = createBearerCheck(options.token);

  // The hooks run before the body is read, so a request without a valid token never gets its body parsed, and
  // a body that cannot be read as sent is rejected unread.
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    if (publicPaths.has(path)) {
      return;
    }
    if (!isAuthorized(request.headers.authorization)) {
      metrics.rejections.inc({ reason: 'unauthorized' });
      request.log.warn({ path, remoteAddress: request.ip }, 'alert intake request rejected: missing or invalid token');
      return reply.code(401).header('www-authenticate', 'Bearer realm="firebreak"').send({
        error: 'unauthorized',
        message: 'missing or invalid bearer token: send Authorization: Bearer <token>',
      });
    }
    const unreadable = unreadableBodyReason(request);
    if (unreadable !== undefined) {
      const answer = { error: 'unsupported_media_type' as const, message: unreadable };
      return rejectRequest({ deadLetters, metrics }, request, reply, 415, answer);
    }
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  // Bodies stay text, so the parsers see the exact bytes (integers above 2^53 included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(alertMediaTypes, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler(handleFastifyError({ deadLetters, metrics }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await options.client.withDeadline(Date.now() + limits.temporalDeadlineMs, () =>
        options.client.workflowService.getSystemInfo({}),
      );
      return { status: 'ready' };
    } catch (error) {
      app.log.warn({ err: error }, 'readiness check failed: Temporal did not respond');
      return reply.code(503).header('retry-after', String(limits.retryAfterSec)).send({ status: 'unavailable' });
    }
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  registerAlertRoutes(app, { batcher, archive, deadLetters, metrics, logger: app.log, limits });
  return app;
}
