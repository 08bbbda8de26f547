import fastify, { type FastifyInstance } from 'fastify';
import { createBearerCheck } from './auth';
import { IncidentBatcher } from './batcher';
import { DeadLetterStore } from './dead-letter';
import { handleFastifyError } from './errors';
import { TemporalUnavailableError, signalIncident, type SignalOptions } from './incidents';
import { createIntakeMetrics } from './metrics';
import { defaultTaskQueue, intakeLimitsSchema, type IntakeServerOptions } from './options';
import { RecentAlertIds } from './redeliveries';
import { alertMediaTypes, registerAlertRoutes } from './routes';

/** Paths that need no token: probes and metrics. */
const publicPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Builds the alert intake HTTP server (not yet listening). Alerts go to `incidentWorkflow` on the task queue
 * through signalWithStart; a 202 response means Temporal stored them.
 */
export function buildIntakeServer(options: IntakeServerOptions): FastifyInstance {
  const limits = intakeLimitsSchema.parse(options.limits ?? {});
  const app = fastify({
    loggerInstance: options.logger,
    bodyLimit: limits.maxBodyBytes,
    ...(options.tls
      ? {
          https: {
            cert: options.tls.cert,
            key: options.tls.key,
            ...(options.tls.clientCa ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
        }
      : {}),
  });

  const metrics = createIntakeMetrics();
  const recent = new RecentAlertIds(limits.redeliveryCacheSize);
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
    recent,
    send: async (fingerprint, batch) => {
      const stopTimer = metrics.signalDurationSec.startTimer();
      try {
        const ref = await signalIncident(signal, fingerprint, batch);
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
    },
  });
  const deadLetters = new DeadLetterStore(options.deadLetterDir, [options.token], app.log);
  const isAuthorized = createBearerCheck(options.token);

  // The hook runs before the body is read, so a request without a valid token never gets its body parsed.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (publicPaths.has(path) || isAuthorized(request.headers.authorization)) {
      return;
    }
    metrics.rejections.inc({ reason: 'unauthorized' });
    request.log.warn({ path, remoteAddress: request.ip }, 'alert intake request rejected: missing or invalid token');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="firebreak"')
      .send({ error: 'unauthorized', message: 'missing or invalid bearer token: send Authorization: Bearer <token>' });
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

  registerAlertRoutes(app, { batcher, recent, signal, deadLetters, metrics, logger: app.log, limits });
  return app;
}
