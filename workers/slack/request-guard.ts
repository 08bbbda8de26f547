import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPReceiver } from '@slack/bolt';
import type { Logger } from 'pino';

/**
 * Slack request verification in front of Bolt's receiver, whose own check stays on behind it. This check adds
 * what Bolt 5.1 leaves out: it rejects timestamps too far in the future as well as stale ones. The signature
 * must have the exact `v0=` + 64 hex form before it is compared in constant time. The HMAC is taken over the
 * raw body bytes as received, never over a parsed and re-encoded body.
 */

/** Slack's documented replay window: reject requests whose timestamp is more than five minutes from now. */
export const maxClockSkewSec = 300;

export class SlackSignatureError extends Error {
  override name = 'SlackSignatureError';
}

export interface SignedRequestParts {
  signingSecret: string;
  timestampHeader: string | string[] | undefined;
  signatureHeader: string | string[] | undefined;
  rawBody: Buffer;
  nowMs: number;
}

/** Throws `SlackSignatureError` saying why when the request was not signed by Slack within the replay window. */
export function verifySlackSignature(parts: SignedRequestParts): void {
  const { timestampHeader, signatureHeader } = parts;
  if (typeof timestampHeader !== 'string' || !/^\d{1,12}$/.test(timestampHeader)) {
    throw new SlackSignatureError('missing or malformed X-Slack-Request-Timestamp header');
  }
  if (typeof signatureHeader !== 'string' || !/^v0=[0-9a-f]{64}$/.test(signatureHeader)) {
    throw new SlackSignatureError('missing or malformed X-Slack-Signature header (expected v0= and 64 hex digits)');
  }

  const skewSec = Math.abs(Math.floor(parts.nowMs / 1000) - Number(timestampHeader));
  if (skewSec > maxClockSkewSec) {
    throw new SlackSignatureError(
      `request timestamp is ${skewSec} s from the local clock (at most ${maxClockSkewSec})`,
    );
  }

  const hmac = createHmac('sha256', parts.signingSecret);
  hmac.update(`v0:${timestampHeader}:`);
  hmac.update(parts.rawBody);
  const expected = Buffer.from(`v0=${hmac.digest('hex')}`, 'utf8');
  const received = Buffer.from(signatureHeader, 'utf8');
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    throw new SlackSignatureError('signature does not match the request body');
  }
}

export function isValidSlackSignature(parts: SignedRequestParts): boolean {
  try {
    verifySlackSignature(parts);
    return true;
  } catch {
    return false;
  }
}

class BodyTooLargeError extends Error {}

async function readRawBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBodyBytes) {
      throw new BodyTooLargeError(`request body exceeds ${maxBodyBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function reply(response: ServerResponse, status: number): void {
  response.writeHead(status);
  response.end();
}

export interface RequestGuardOptions {
  signingSecret: string;
  endpointPath: string;
  maxBodyBytes: number;
  logger: Logger;
}

/**
 * Puts the verification in front of a Bolt `HTTPReceiver`: requests to the endpoint are read (up to
 * `maxBodyBytes`), verified, and passed on with the raw body attached, which Bolt reads instead of the stream.
 * A rejected request gets 401 (413 when too large) and never reaches Bolt or any listener.
 */
export function guardSlackEndpoint(receiver: HTTPReceiver, options: RequestGuardOptions): void {
  const boltListener = receiver.requestListener;

  async function guard(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(request, options.maxBodyBytes);
    } catch (error) {
      const tooLarge = error instanceof BodyTooLargeError;
      options.logger.warn({ err: error }, 'Slack request body rejected');
      reply(response, tooLarge ? 413 : 400);
      return;
    }

    const parts = {
      signingSecret: options.signingSecret,
      timestampHeader: request.headers['x-slack-request-timestamp'],
      signatureHeader: request.headers['x-slack-signature'],
      rawBody,
      nowMs: Date.now(),
    };
    try {
      verifySlackSignature(parts);
    } catch (error) {
      const reason = error instanceof SlackSignatureError ? error.message : String(error);
      options.logger.warn({ reason, remoteAddress: request.socket.remoteAddress }, 'Slack request rejected');
      reply(response, 401);
      return;
    }
    boltListener(Object.assign(request, { rawBody }), response);
  }

  receiver.requestListener = (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'POST' || path !== options.endpointPath) {
      boltListener(request, response);
      return;
    }
    guard(request, response).catch((error: unknown) => {
      options.logger.error({ err: error }, 'Slack request handling failed');
      if (!response.headersSent) {
        reply(response, 500);
      }
    });
  };
}
