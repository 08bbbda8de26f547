import { ApplicationFailure } from '@temporalio/common';
import { webApi } from '@slack/bolt';
import { z } from 'zod';

/**
 * Classification of Slack Web API errors into Temporal failures:
 * - `SlackUnavailable` (retryable): the request did not reach Slack, or Slack returned 5xx or a transient error.
 * - `SlackRateLimited` (retryable after the Retry-After delay, at least 1 s and at most MAX_RETRY_AFTER_SEC; a missing
 *   or unreadable Retry-After waits DEFAULT_RETRY_AFTER_SEC).
 * - `SlackRejected` (non-retryable): Slack returned `ok: false` with a permanent error such as `invalid_auth`.
 */

/** Maximum wait taken from a Retry-After header, so that a hostile or broken value cannot stall the retries. */
export const MAX_RETRY_AFTER_SEC = 300;
/** Wait after a rate limit that gave no readable Retry-After. */
export const DEFAULT_RETRY_AFTER_SEC = 30;

// @slack/web-api 8.2 raises a plain Error with this message for an HTTP 429 whose Retry-After is missing or not a
// number (WebClient.makeRequest), instead of its rate-limit error.
const unreadableRetryAfterPattern = /^Retry header did not contain a valid timeout/;

/** Platform errors that Slack documents as transient. */
const transientPlatformErrors = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

const fixHints: Readonly<Record<string, string>> = {
  invalid_auth: 'check SLACK_BOT_TOKEN',
  not_authed: 'set SLACK_BOT_TOKEN',
  token_revoked: 'reinstall the Slack app and update SLACK_BOT_TOKEN',
  account_inactive: 'reinstall the Slack app and update SLACK_BOT_TOKEN',
  missing_scope: 'add the chat:write and usergroups:read bot scopes and reinstall the app',
  channel_not_found: "check the playbook's Slack channel id",
  not_in_channel: 'invite the Firebreak app to the channel',
  is_archived: "unarchive the channel or change the playbook's channel",
  message_not_found: 'the gate message was deleted; decide from the CLI',
  invalid_blocks: 'this is a bug in the message rendering; report it with the incident id',
};

const errorShapes = {
  platform: z.object({ code: z.literal(webApi.ErrorCode.PlatformError), data: z.object({ error: z.string() }) }),
  rateLimited: z.object({ code: z.literal(webApi.ErrorCode.RateLimitedError), retryAfter: z.number() }),
  http: z.object({ code: z.literal(webApi.ErrorCode.HTTPError), statusCode: z.number() }),
  request: z.object({ code: z.literal(webApi.ErrorCode.RequestError) }),
};

function causeOf(error: unknown): Error | undefined {
  return error instanceof Error ? error : undefined;
}

function rateLimited(method: string, retryAfterSec: number, detail: string): ApplicationFailure {
  const delaySec = Math.min(Math.max(Math.ceil(retryAfterSec), 1), MAX_RETRY_AFTER_SEC);
  const message = `Slack rate-limited ${method} (${detail}); retrying after ${delaySec} s`;
  return ApplicationFailure.create({ message, type: 'SlackRateLimited', nextRetryDelay: `${delaySec}s` });
}

/** Maps an error thrown by a WebClient call to an `ApplicationFailure`; other errors are returned as they are. */
export function toSlackFailure(error: unknown, method: string): unknown {
  const platform = errorShapes.platform.safeParse(error);
  if (platform.success) {
    const code = platform.data.data.error;
    if (code === 'ratelimited') return rateLimited(method, DEFAULT_RETRY_AFTER_SEC, 'ratelimited, no Retry-After');
    if (transientPlatformErrors.has(code)) {
      return ApplicationFailure.retryable(`Slack ${method} failed with ${code}; retrying`, 'SlackUnavailable');
    }
    const hint = fixHints[code] ?? "see Slack's documentation of this error code";
    const message = `Slack rejected ${method} with ${code}: ${hint}`;
    return ApplicationFailure.create({ message, type: 'SlackRejected', nonRetryable: true, cause: causeOf(error) });
  }

  const limited = errorShapes.rateLimited.safeParse(error);
  if (limited.success) return rateLimited(method, limited.data.retryAfter, `Retry-After ${limited.data.retryAfter} s`);
  const message = z.object({ message: z.string() }).safeParse(error);
  if (message.success && unreadableRetryAfterPattern.test(message.data.message)) {
    return rateLimited(method, DEFAULT_RETRY_AFTER_SEC, 'HTTP 429 without a readable Retry-After');
  }

  const http = errorShapes.http.safeParse(error);
  if (http.success) {
    const status = http.data.statusCode;
    const permanent = status >= 400 && status < 500 && status !== 408;
    const message = permanent
      ? `Slack ${method} returned HTTP ${status}: check SLACK_API_URL`
      : `Slack ${method} returned HTTP ${status}; retrying`;
    const type = permanent ? 'SlackRejected' : 'SlackUnavailable';
    return ApplicationFailure.create({ message, type, nonRetryable: permanent, cause: causeOf(error) });
  }

  if (errorShapes.request.safeParse(error).success) {
    const detail = causeOf(error)?.message ?? 'request failed';
    const message = `Slack ${method} could not be reached (${detail}); retrying`;
    return ApplicationFailure.create({ message, type: 'SlackUnavailable', cause: causeOf(error) });
  }
  return error;
}
