import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The body of a PagerDuty Events API v2 `trigger` event, as far as Firebreak fills it. The stand-in parses every
 * request with this schema and returns 400 to a body of another shape, as PagerDuty does for an invalid event.
 */
export const triggerEventSchema = z.object({
  routing_key: z.string().min(1),
  event_action: z.literal('trigger'),
  dedup_key: z.string().min(1),
  payload: z.object({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    component: z.string().optional(),
    class: z.string().optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type TriggerEvent = z.infer<typeof triggerEventSchema>;

/** One request that reached the stand-in. */
export interface EscalationRequest {
  path: string;
  contentType: string | undefined;
  /** The parsed event, or undefined when the body was not a valid trigger event. */
  event: TriggerEvent | undefined;
  rawBody: string;
}

/**
 * A local stand-in for the PagerDuty Events API v2 on 127.0.0.1. It returns 202 with `{status: "success",
 * message: "Event processed", dedup_key}` to `POST /v2/enqueue` with a valid trigger event, in PagerDuty's
 * response shape, and 400 or 404 to any other request. Every request is recorded.
 */
export class EscalationStandIn {
  readonly requests: EscalationRequest[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(): Promise<EscalationStandIn> {
    const standIn = new EscalationStandIn(createServer());
    standIn.server.on('request', (request, response) => {
      void standIn.handle(request).then(({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  /** URL of the enqueue endpoint, for a playbook's `escalation.url`. */
  get enqueueUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v2/enqueue`;
  }

  /** The valid trigger events received so far, oldest first. */
  get events(): TriggerEvent[] {
    return this.requests.flatMap((request) => (request.event === undefined ? [] : [request.event]));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> {
    const rawBody = await readBody(request);
    const path = request.url ?? '';
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      json = undefined;
    }
    const parsed = triggerEventSchema.safeParse(json);
    const event = parsed.success ? parsed.data : undefined;
    this.requests.push({ path, contentType: request.headers['content-type'], event, rawBody });

    if (request.method !== 'POST' || path !== '/v2/enqueue') {
      return { status: 404, body: { status: 'not found', message: `no endpoint ${request.method} ${path}` } };
    }
    if (event === undefined) {
      return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid' } };
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: event.dedup_key } };
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Returns a random routing key of 32 characters, the length of PagerDuty's. */
export function standInRoutingKey(): string {
  return randomUUID().replace(/-/g, '');
}
