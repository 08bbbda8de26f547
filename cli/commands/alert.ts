import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';

export const alertSources = ['falco', 'alertmanager', 'generic'] as const;
export type AlertSourceName = (typeof alertSources)[number];

const intakePaths: Record<AlertSourceName, string> = {
  falco: '/v1/alerts/falco',
  alertmanager: '/v1/alerts/alertmanager',
  generic: '/v1/alerts',
};

const defaultIntakeUrl = 'http://127.0.0.1:8787';

export interface SendAlertOptions {
  file: string;
  url: string;
  token: string;
  /** Endpoint to post to; guessed from the body when absent (see `guessSource`). */
  source?: AlertSourceName;
  /** Request deadline. */
  timeoutMs?: number;
}

export interface SendAlertResult {
  status: number;
  retryAfterSec?: number;
  body: unknown;
}

const bodyShapeSchema = z.union([
  z
    .object({ version: z.literal('4'), alerts: z.array(z.unknown()) })
    .loose()
    .transform(() => 'alertmanager' as const),
  z
    .object({ detector: z.string() })
    .loose()
    .transform(() => 'generic' as const),
  z.unknown().transform(() => 'falco' as const),
]);

/**
 * Guesses the endpoint from the first event: an Alertmanager webhook has `version: "4"` and `alerts`, a generic
 * alert has `detector`, and anything else (malformed text included, which the intake then rejects with its
 * reasons) goes to the Falco endpoint.
 */
export function guessSource(text: string): AlertSourceName {
  const firstLine = text.split('\n').find((line) => line.trim().length > 0) ?? '';
  for (const candidate of [text, firstLine]) {
    try {
      const document: unknown = JSON.parse(candidate);
      return bodyShapeSchema.parse(Array.isArray(document) ? document[0] : document);
    } catch {
      // Not one JSON document: try the first line, as in NDJSON.
    }
  }
  return 'falco';
}

/** Posts one alert body file to a running intake and returns its response. Files named `*.ndjson`/`*.jsonl` go as NDJSON. */
export async function sendAlertFile(options: SendAlertOptions): Promise<SendAlertResult> {
  const text = await readFile(options.file, 'utf8');
  const source = options.source ?? guessSource(text);
  const lineDelimited = /\.(ndjson|jsonl)$/i.test(options.file);
  const response = await fetch(new URL(intakePaths[source], options.url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.token}`,
      'content-type': lineDelimited ? 'application/x-ndjson' : 'application/json',
    },
    body: text,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const answer = await response.text();
  const retryAfter = Number(response.headers.get('retry-after'));
  let body: unknown = answer;
  try {
    body = JSON.parse(answer);
  } catch {
    // A non-JSON response (a proxy's error page, say) is shown as text.
  }
  return { status: response.status, body, ...(retryAfter > 0 ? { retryAfterSec: retryAfter } : {}) };
}

async function resolveToken(options: { token?: string; tokenFile?: string }): Promise<string> {
  const file = options.tokenFile ?? process.env['FIREBREAK_INTAKE_TOKEN_FILE'];
  const token = options.token ?? (file ? (await readFile(file, 'utf8')).trim() : process.env['FIREBREAK_INTAKE_TOKEN']);
  if (!token) {
    throw new Error('no intake token: pass --token or --token-file, or set FIREBREAK_INTAKE_TOKEN');
  }
  return token;
}

/** Registers `firebreak alert send FILE`. */
export function registerAlertCommands(program: Command): void {
  const alert = program.command('alert').description('Send alerts to a running Firebreak intake');
  alert
    .command('send')
    .description('Post an alert body from a file to the intake (for testing and demos)')
    .argument('<file>', 'JSON body (object or array), or NDJSON when the name ends in .ndjson or .jsonl')
    .option('--url <url>', 'intake base URL (default: $FIREBREAK_INTAKE_URL or http://127.0.0.1:8787)')
    .addOption(new Option('--token <token>', 'bearer token (default: $FIREBREAK_INTAKE_TOKEN)').conflicts('tokenFile'))
    .option('--token-file <path>', 'file holding the bearer token (default: $FIREBREAK_INTAKE_TOKEN_FILE)')
    .addOption(
      new Option('--source <source>', 'endpoint to use; guessed from the body when absent').choices(alertSources),
    )
    .action(
      async (file: string, options: { url?: string; token?: string; tokenFile?: string; source?: AlertSourceName }) => {
        const result = await sendAlertFile({
          file,
          url: options.url ?? process.env['FIREBREAK_INTAKE_URL'] ?? defaultIntakeUrl,
          token: await resolveToken(options),
          ...(options.source ? { source: options.source } : {}),
        });
        process.stdout.write(`${JSON.stringify(result.body, null, 2)}\n`);
        if (result.status < 200 || result.status >= 300) {
          const retry = result.retryAfterSec ? `; retry after ${result.retryAfterSec} s` : '';
          throw new Error(`the intake responded with HTTP ${result.status}${retry}`);
        }
      },
    );
}
