import type { IncomingMessage } from 'node:http';

/** Request parsing for the Slack Web API stand-in, in the forms Slack's Web API accepts. */

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a Web API body: form fields, or JSON; fields that Slack takes as JSON text (blocks) are decoded. */
export function parseArgs(rawBody: string, contentType: string): Record<string, unknown> {
  if (rawBody === '') {
    return {};
  }
  const parsed: unknown = contentType.startsWith('application/json')
    ? JSON.parse(rawBody)
    : Object.fromEntries(new URLSearchParams(rawBody));
  const args: Record<string, unknown> = typeof parsed === 'object' && parsed !== null ? { ...parsed } : {};
  if (typeof args.blocks === 'string') {
    try {
      args.blocks = JSON.parse(args.blocks);
    } catch {
      args.blocks = { unparsable: args.blocks };
    }
  }
  return args;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer (\S+)$/.exec(authorization ?? '');
  return match?.[1];
}

export function stringArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
}
