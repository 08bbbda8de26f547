import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { z } from 'zod';

/** Outcome of one exec. `exitCode` is null when the command reported none. */
export interface ExecOutcome {
  command: string[];
  /** `Success` and `Failure` come from the status frame; the others are set by the runner. */
  status: 'Success' | 'Failure' | 'DeadlineExceeded' | 'Closed' | 'ConnectFailed';
  exitCode: number | null;
  /** False when the command was cut off by the deadline or the connection dropped before its status. */
  complete: boolean;
  message?: string;
  /** First bytes of standard error. */
  stderr: string;
  durationMs: number;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  deadlineMs: number;
  /** Standard output bytes passed on at most; the rest is dropped, so memory stays bounded. */
  maxStdoutBytes: number;
}

const MAX_STDERR_BYTES = 2048;

const statusSchema = z.object({
  status: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z
    .object({ causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() })).optional() })
    .optional(),
});

/** Reads the exit code from an exec status: the `ExitCode` cause of a `NonZeroExitCode` failure, or its message. */
export function exitCodeOf(status: unknown): {
  status: 'Success' | 'Failure';
  exitCode: number | null;
  message?: string;
} {
  const parsed = statusSchema.safeParse(status);
  if (!parsed.success) return { status: 'Failure', exitCode: null, message: 'unreadable exec status' };
  if (parsed.data.status === 'Success') return { status: 'Success', exitCode: 0 };
  const cause = parsed.data.details?.causes?.find((candidate) => candidate.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) {
    return { status: 'Failure', exitCode: Number(cause.message), message: parsed.data.message };
  }
  // Runtimes that report no ExitCode cause (kwok 0.8 among them) end the message with "exit status N".
  const fromMessage = /exit status (\d+)\s*$/.exec(parsed.data.message ?? '')?.[1];
  return {
    status: 'Failure',
    exitCode: fromMessage === undefined ? null : Number(fromMessage),
    message: parsed.data.message,
  };
}

/**
 * Runs a command through `pods/exec` (client-node `Exec`, WebSocket) and returns its standard output as a
 * stream together with a promise of the outcome. The outcome settles on the status frame, on the socket
 * closing, or at the deadline, whichever comes first. At the deadline the socket is terminated and the
 * output received so far is kept.
 */
export function runExec(
  kubeConfig: KubeConfig,
  request: ExecRequest,
): { stdout: PassThrough; outcome: Promise<ExecOutcome> } {
  const stdout = new PassThrough();
  const sink = boundedSink(stdout, request.maxStdoutBytes);
  const stderrChunks: Buffer[] = [];
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (Buffer.concat(stderrChunks).length < MAX_STDERR_BYTES) stderrChunks.push(chunk);
      callback();
    },
  });

  const startedMs = Date.now();
  const outcome = new Promise<ExecOutcome>((resolve) => {
    let settled = false;
    let socket: { terminate(): void } | undefined;
    const finish = (result: Pick<ExecOutcome, 'status' | 'exitCode' | 'complete' | 'message'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      if (!stdout.destroyed && !stdout.writableEnded) stdout.end();
      const text = Buffer.concat(stderrChunks).subarray(0, MAX_STDERR_BYTES).toString('utf8');
      resolve({ command: request.command, ...result, stderr: text, durationMs: Date.now() - startedMs });
    };
    const timer = setTimeout(() => {
      finish({
        status: 'DeadlineExceeded',
        exitCode: null,
        complete: false,
        message: `no exit status within ${request.deadlineMs} ms`,
      });
    }, request.deadlineMs);

    const onStatus = (status: V1Status) => finish({ ...exitCodeOf(status), complete: true });
    new Exec(kubeConfig)
      .exec(request.namespace, request.pod, request.container, request.command, sink, stderr, null, false, onStatus)
      .then((ws) => {
        socket = ws;
        if (settled) ws.terminate();
        ws.on('close', (code: number) => {
          finish({
            status: 'Closed',
            exitCode: null,
            complete: false,
            message: `connection closed (code ${code}) before an exit status`,
          });
        });
      })
      .catch((error: unknown) => {
        // The WebSocket library rejects with an ErrorEvent, which carries a message but is no Error.
        const event = z.object({ message: z.string() }).safeParse(error);
        const message = event.success ? event.data.message : String(error);
        finish({
          status: 'ConnectFailed',
          exitCode: null,
          complete: false,
          message: `exec connection failed: ${message}`,
        });
      });
  });
  return { stdout, outcome };
}

/**
 * Creates a Writable that forwards at most `maxBytes` (plus one byte, so the reader can tell the output was longer)
 * and drops the rest. Writes after the reader stopped are dropped, not failed, because the
 * WebSocket handler writes from a socket event where an error would go uncaught.
 */
function boundedSink(target: PassThrough, maxBytes: number): Writable {
  let forwarded = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const room = maxBytes + 1 - forwarded;
      if (room > 0 && !target.destroyed && !target.writableEnded) {
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        forwarded += kept.length;
        target.write(kept);
      }
      callback();
    },
    final(callback) {
      if (!target.destroyed && !target.writableEnded) target.end();
      callback();
    },
  });
}
