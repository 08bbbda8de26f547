import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer, type IncomingMessage } from 'node:http';
import { z } from 'zod';

/**
 * The physical floor of alert-to-policy latency: a plain HTTP receiver that, for each Falco event, reads the
 * pod from the API server and creates a deny-all NetworkPolicy for its labels, then responds 200. It keeps
 * nothing but two counters in memory: no incident, no record, no retry, no durability. A benchmark responder,
 * not a product: it shows the least time any responder needs on this machine and what a process without
 * durable state loses when it is killed.
 */

const configSchema = z.object({
  server: z.url(),
  token: z.string().min(1),
  caFile: z.string().min(1),
  port: z.number().int().min(0).default(0),
});

const eventSchema = z.object({
  uuid: z.string().optional(),
  rule: z.string(),
  output_fields: z.object({ 'k8s.pod.name': z.string().min(1), 'k8s.ns.name': z.string().min(1) }).loose(),
});

const podSchema = z.object({ metadata: z.object({ labels: z.record(z.string(), z.string()).default({}) }) });

const config = configSchema.parse(JSON.parse(process.env['FLOOR_CONFIG'] ?? '{}'));
const agent = new Agent({ keepAlive: true, maxSockets: 32, ca: readFileSync(config.caFile) });
const counters = { received: 0, acted: 0, failed: 0 };

function kube(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${config.server}${path}`,
      {
        method,
        agent,
        headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json' },
        timeout: 10_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out after 10 s`)));
    outgoing.on('error', reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Reads the pod and creates the deny-all policy; an existing policy of the same name counts as done. */
async function isolate(namespace: string, pod: string): Promise<void> {
  const read = await kube('GET', `/api/v1/namespaces/${namespace}/pods/${pod}`);
  if (read.status !== 200) throw new Error(`GET pod ${namespace}/${pod}: HTTP ${read.status}`);
  const labels = podSchema.parse(JSON.parse(read.text)).metadata.labels;
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `floor-${pod}`, namespace },
    spec: { podSelector: { matchLabels: labels }, policyTypes: ['Ingress', 'Egress'] },
  };
  const created = await kube('POST', `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`, policy);
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`POST NetworkPolicy ${namespace}/floor-${pod}: HTTP ${created.status}`);
  }
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer((incoming, response) => {
  if (incoming.method === 'GET' && incoming.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counters));
    return;
  }
  void (async () => {
    counters.received += 1;
    try {
      const event = eventSchema.parse(JSON.parse(await readBody(incoming)));
      await isolate(event.output_fields['k8s.ns.name'], event.output_fields['k8s.pod.name']);
      counters.acted += 1;
      response.writeHead(200).end('{"status":"isolated"}');
    } catch (error) {
      counters.failed += 1;
      response.writeHead(500).end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
  })();
});

server.listen(config.port, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
