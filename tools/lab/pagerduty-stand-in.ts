import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';

/** Largest request body the stand-in reads; a larger one gets 413. */
const maxBodyBytes = 512 * 1024;

/** The fields of a PagerDuty Events API v2 `trigger` event that the stand-in checks and prints. */
const triggerEventSchema = z.object({
  routing_key: z.string().min(1),
  event_action: z.literal('trigger'),
  dedup_key: z.string().min(1),
  payload: z.object({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    component: z.string().optional(),
  }),
});
export type TriggerEvent = z.infer<typeof triggerEventSchema>;

/** A PagerDuty stand-in running on loopback. */
export interface PagerDutyStandIn {
  /** URL of `POST /v2/enqueue`, for a playbook's `escalation.url`. */
  enqueueUrl: string;
  /** Routing key that the stand-in accepts; events with another key get 400. */
  routingKey: string;
  close(): Promise<void>;
}

type Reply = { status: number; body: Record<string, unknown> };

function reply(response: ServerResponse, { status, body }: Reply): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += buffer.length;
    if (bytes > maxBodyBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseEvent(text: string): TriggerEvent | undefined {
  try {
    return triggerEventSchema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

/** Builds the reply that the Events API v2 sends: 202 for a valid trigger event, else 400, 404 or 413. */
async function handle(request: IncomingMessage, routingKey: string, onEvent: (event: TriggerEvent) => void) {
  if (request.method !== 'POST' || request.url !== '/v2/enqueue') {
    return { status: 404, body: { status: 'not found', message: `no endpoint ${request.method} ${request.url}` } };
  }
  const text = await readBody(request);
  if (text === undefined) {
    return { status: 413, body: { status: 'invalid event', message: 'Request body is too large' } };
  }
  const event = parseEvent(text);
  if (event === undefined) {
    return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid' } };
  }
  if (event.routing_key !== routingKey) {
    return { status: 400, body: { status: 'invalid event', message: 'Routing key is not valid' } };
  }
  onEvent(event);
  return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: event.dedup_key } };
}

/**
 * Starts a local stand-in for the PagerDuty Events API v2 on 127.0.0.1, for the lab, where
 * events.pagerduty.com is out of reach and no routing key exists. It accepts `trigger` events with its own
 * random routing key on `POST /v2/enqueue`, replies 202 with `{status, message, dedup_key}` as PagerDuty
 * does, and passes each accepted event to `onEvent`.
 */
export async function startPagerDutyStandIn(
  onEvent: (event: TriggerEvent) => void,
  port = 0,
): Promise<PagerDutyStandIn> {
  // 32 characters, the length of PagerDuty's routing keys.
  const routingKey = randomUUID().replace(/-/g, '');
  const server: Server = createServer((request, response) => {
    void handle(request, routingKey, onEvent).then(
      (result) => reply(response, result),
      (error: unknown) => reply(response, { status: 500, body: { status: 'error', message: String(error) } }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`the PagerDuty stand-in did not bind a TCP port on 127.0.0.1 (address ${String(address)})`);
  }
  return {
    enqueueUrl: `http://127.0.0.1:${address.port}/v2/enqueue`,
    routingKey,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
