import { Agent, request } from 'node:http';

/** Milliseconds since the Unix epoch with sub-millisecond resolution, comparable across local processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface PostResult {
  /** HTTP status, or 0 when the connection failed. */
  status: number;
  body: string;
  sentAtMs: number;
  durationMs: number;
  error?: string;
}

/** Posts JSON bodies to one loopback server over kept-alive connections. */
export class JsonPoster {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string>,
    maxSockets = 64,
  ) {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1') {
      throw new Error(`benchmarks send load to 127.0.0.1 only, not to ${url.hostname}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, body: string, timeoutMs = 30_000): Promise<PostResult> {
    const sentAtMs = epochMs();
    const started = performance.now();
    return new Promise((resolve) => {
      const finish = (status: number, text: string, error?: string) =>
        resolve({ status, body: text, sentAtMs, durationMs: performance.now() - started, ...(error && { error }) });
      const outgoing = request(
        `${this.baseUrl}${path}`,
        {
          method: 'POST',
          agent: this.agent,
          timeout: timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.headers },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => finish(response.statusCode ?? 0, text));
          response.on('error', (error) => finish(0, text, error.message));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no response within ${timeoutMs} ms`)));
      outgoing.on('error', (error) => finish(0, '', error.message));
      outgoing.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface PacedRun {
  sent: number;
  /** Sends that started more than 50 ms after their slot, because the sender or the machine fell behind. */
  late: number;
  elapsedMs: number;
}

/**
 * Sends `count` requests at `ratePerSec` (open loop: each request leaves at its own time slot, whatever the
 * earlier ones are doing), stopping early when `maxDurationMs` passes, and waits for every request to settle.
 * At most `maxInFlight` requests are outstanding; past that the loop waits, and the late count shows it.
 */
export async function paced(options: {
  ratePerSec: number;
  count: number;
  maxDurationMs: number;
  maxInFlight?: number;
  send: (index: number) => Promise<void>;
}): Promise<PacedRun> {
  const maxInFlight = options.maxInFlight ?? 4000;
  const started = performance.now();
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let allSettled: (() => void) | undefined;
  let sent = 0;
  let late = 0;
  while (sent < options.count && performance.now() - started < options.maxDurationMs) {
    const dueMs = (sent * 1000) / options.ratePerSec;
    const waitMs = dueMs - (performance.now() - started);
    if (waitMs > 1) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    if (inFlight >= maxInFlight) {
      await new Promise<void>((resolve) => (slotFreed = resolve));
      continue;
    }
    if (performance.now() - started - dueMs > 50) late += 1;
    const index = sent;
    sent += 1;
    inFlight += 1;
    void options
      .send(index)
      .catch(() => undefined)
      .finally(() => {
        inFlight -= 1;
        slotFreed?.();
        slotFreed = undefined;
        if (inFlight === 0) allSettled?.();
      });
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (allSettled = resolve));
  return { sent, late, elapsedMs: performance.now() - started };
}

/** Runs `work` over `items` with at most `concurrency` calls at once. */
export async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}
