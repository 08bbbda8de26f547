import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';

export interface KubeHttpRequest {
  method: 'GET' | 'POST';
  /** API path, for example `/api/v1/namespaces/shop/pods/web-0/log`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Time allowed for the response headers to arrive. */
  timeoutMs: number;
}

/**
 * Sends one request to the API server with the KubeConfig's credentials and returns the response as a
 * stream, so large bodies (logs, checkpoint archives) reach the evidence store without being buffered.
 */
export async function kubeRequest(kubeConfig: KubeConfig, request: KubeHttpRequest): Promise<http.IncomingMessage> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the KubeConfig has no current cluster: set current-context to a cluster entry');
  const url = new URL(cluster.server.replace(/\/$/, '') + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }

  const options: https.RequestOptions = { method: request.method, headers: {} };
  await kubeConfig.applyToHTTPSOptions(options);
  const transport = url.protocol === 'https:' ? https : http;
  return await new Promise((resolve, reject) => {
    const outgoing = transport.request(url, options, resolve);
    outgoing.setTimeout(request.timeoutMs, () => {
      outgoing.destroy(new Error(`${request.method} ${request.path} timed out after ${request.timeoutMs} ms`));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Reads a response body, stopping after `maxBytes`; returns what was read and whether the body had more. */
export async function readBody(
  response: http.IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buffer);
    bytes += buffer.length;
    if (bytes > maxBytes) break;
  }
  response.destroy();
  const body = Buffer.concat(chunks);
  return { body: body.subarray(0, maxBytes), truncated: body.length > maxBytes };
}

/** Reads at most `maxBytes` of a response body as text, for error messages. */
export async function readSmallBody(response: http.IncomingMessage, maxBytes = 4096): Promise<string> {
  return (await readBody(response, maxBytes)).body.toString('utf8');
}

/** Largest JSON body read into memory; object reads and 500-item list pages stay far below it. */
const MAX_JSON_BYTES = 32 * 1024 * 1024;

/**
 * GETs a JSON document from the API server. A status of 400 or more throws an `ApiException` carrying the
 * `Status` body, so the Kubernetes error classifier reads it like any client-node error.
 */
export async function kubeGetJson(
  kubeConfig: KubeConfig,
  path: string,
  query: KubeHttpRequest['query'],
  timeoutMs: number,
): Promise<unknown> {
  const response = await kubeRequest(kubeConfig, { method: 'GET', path, query, timeoutMs });
  const { body, truncated } = await readBody(response, MAX_JSON_BYTES);
  const text = body.toString('utf8');
  const status = response.statusCode ?? 0;
  if (status >= 400) {
    throw new ApiException(
      status,
      `GET ${path} failed with HTTP ${status}`,
      parseJsonOrText(text),
      headersOf(response),
    );
  }
  if (truncated) {
    throw new Error(`GET ${path} returned more than ${MAX_JSON_BYTES} bytes; request a smaller page`);
  }
  return JSON.parse(text);
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function headersOf(response: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
