import { createHmac } from 'node:crypto';
import { standInTeam } from './slack-stand-in';

/**
 * Builds interaction requests as Slack sends them to a request URL: an `application/x-www-form-urlencoded`
 * body `payload=<url-encoded JSON>`, `X-Slack-Request-Timestamp` in epoch seconds, and `X-Slack-Signature`
 * `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing secret.
 */

export interface SlackHttpRequest {
  headers: Record<string, string>;
  rawBody: string;
}

export interface SlackHttpResponse {
  status: number;
  body: string;
  durationMs: number;
}

export function slackSignature(signingSecret: string, timestampSec: number | string, rawBody: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return `v0=${digest}`;
}

export function signedSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec = Math.floor(Date.now() / 1000),
): SlackHttpRequest {
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestampSec),
      'x-slack-signature': slackSignature(signingSecret, timestampSec, rawBody),
    },
    rawBody,
  };
}

export interface ButtonClick {
  userId: string;
  channelId: string;
  messageTs: string;
  actionId: string;
  value: string;
  blockId?: string;
  /** The clicked message's current blocks, which Slack includes in the payload. */
  messageBlocks?: unknown[];
}

/** Builds a `block_actions` payload for a button click on a message, with the fields Slack sends. */
export function blockActionsPayload(click: ButtonClick): Record<string, unknown> {
  const actionTs = `${Math.floor(Date.now() / 1000)}.000100`;
  return {
    type: 'block_actions',
    team: standInTeam,
    user: { id: click.userId, username: `user.${click.userId.toLowerCase()}`, team_id: standInTeam.id },
    api_app_id: 'A0000SOAR',
    token: 'legacy-verification-token-unused',
    container: { type: 'message', message_ts: click.messageTs, channel_id: click.channelId, is_ephemeral: false },
    trigger_id: '1111111111.2222222222.abcdef',
    channel: { id: click.channelId, name: 'soc-approvals' },
    message: { type: 'message', ts: click.messageTs, text: 'gate message', blocks: click.messageBlocks ?? [] },
    response_url: `https://hooks.slack.com/actions/${standInTeam.id}/0000000000/FAKEFAKEFAKE`,
    actions: [
      {
        action_id: click.actionId,
        block_id: click.blockId ?? 'firebreak_gate_actions',
        text: { type: 'plain_text', text: click.actionId },
        value: click.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** Encodes an interaction payload as Slack does: one form field named `payload`. */
export function interactionBody(payload: Record<string, unknown>): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Sends a request to a Bolt receiver and returns the status, the body and the response time. */
export async function sendSlackRequest(url: string, request: SlackHttpRequest): Promise<SlackHttpResponse> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.rawBody });
  const body = await response.text();
  return { status: response.status, body, durationMs: performance.now() - started };
}
