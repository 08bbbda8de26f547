import { ApplicationFailure } from '@temporalio/common';
import { webApi } from '@slack/bolt';
import { z } from 'zod';

/**
 * Classification of Slack Web API errors into Temporal failures:
 * - `SlackUnavailable` (retryable): the request did not reach Slack, or Slack returned 5xx or a transient error.
 * - `SlackRateLimited` (retryable after the Retry-After delay).
 * - `SlackRejected` (non-retryable): Slack answered `ok: false` with a permanent error such as `invalid_auth`.
 */

/** Platform errors that Slack documents as transient. */
const transientPlatformErrors = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

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

/** Maps an error thrown by a WebClient call to an `ApplicationFailure`; other errors are returned as they are. */
export function toSlackFailure(error: unknown, method: string): unknown {
  const platform = errorShapes.platform.safeParse(error);
  if (platform.success) {
    const code = platform.data.data.error;
    if (transientPlatformErrors.has(code)) {
      return ApplicationFailure.retryable(`Slack ${method} failed with ${code}; retrying`, 'SlackUnavailable');
    }
    const hint = fixHints[code] ?? "see Slack's documentation of this error code";
    const message = `Slack rejected ${method} with ${code}: ${hint}`;
    return ApplicationFailure.create({ message, type: 'SlackRejected', nonRetryable: true, cause: causeOf(error) });
  }

  const rateLimited = errorShapes.rateLimited.safeParse(error);
  if (rateLimited.success) {
    const retryAfterSec = Math.max(rateLimited.data.retryAfter, 1);
    const message = `Slack rate-limited ${method}; retrying after ${retryAfterSec} s`;
    return ApplicationFailure.create({ message, type: 'SlackRateLimited', nextRetryDelay: `${retryAfterSec}s` });
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
