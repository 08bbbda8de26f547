import { ApplicationFailure } from '@temporalio/common';
import { webApi } from '@slack/bolt';
import { z } from 'zod';
import { gateNameSchema } from '../../domain/incident';
import {
  gateMessageContentSchema,
  gateOutcomeContentSchema,
  incidentIdSchema,
  renderGateEscalation,
  renderGateMessage,
  renderGateOutcome,
  renderGateReminder,
} from './slack-blocks';
import { toSlackFailure } from './slack-errors';

/** A channel id (`C…`) or name (`#soc`), as chat.postMessage accepts it. */
const channelSchema = z.string().min(1).max(80);
/** Message timestamp, Slack's id for a message in a channel. */
const messageTsSchema = z.string().regex(/^\d+\.\d+$/);

export const postGateMessageInputSchema = gateMessageContentSchema.extend({ channel: channelSchema.optional() });
export type PostGateMessageInput = z.input<typeof postGateMessageInputSchema>;

const messageRefSchema = z.object({ channel: channelSchema, ts: messageTsSchema });
export type SlackMessageRef = z.infer<typeof messageRefSchema>;

export const updateGateMessageInputSchema = gateOutcomeContentSchema.extend(messageRefSchema.shape);
export type UpdateGateMessageInput = z.input<typeof updateGateMessageInputSchema>;

export const postGateReminderInputSchema = messageRefSchema.extend({
  incidentId: incidentIdSchema,
  gate: gateNameSchema,
  deadlineAt: z.iso.datetime({ offset: true }),
  /** Slack mention text such as `<!subteam^S123>` or `<@U123>`, or a bare id; anything else is not mentioned. */
  mention: z.string().optional(),
});
export type PostGateReminderInput = z.input<typeof postGateReminderInputSchema>;

export const postGateEscalationInputSchema = postGateReminderInputSchema.omit({ deadlineAt: true });
export type PostGateEscalationInput = z.input<typeof postGateEscalationInputSchema>;

const postMessageResultSchema = z.object({ channel: z.string(), ts: messageTsSchema });

export const resolveApproverGroupsInputSchema = z.object({ approvers: z.array(z.string().min(1)) });
export type ResolveApproverGroupsInput = z.input<typeof resolveApproverGroupsInputSchema>;
export interface ResolvedApprovers {
  /** The approver list with each user group id replaced by the group's members, without duplicates. */
  approvers: string[];
  groups: { group: string; members: string[] }[];
}

/** Slack user group ids, as approver lists may name them. */
const userGroupIdPattern = /^S[A-Z0-9]{2,20}$/;
const userGroupUsersSchema = z.object({ users: z.array(z.string()) });

export interface SlackActivityDeps {
  client: webApi.WebClient;
  /** Base of the incident links when the workflow sends none, e.g. `https://temporal.example/namespaces/default`. */
  temporalUiBaseUrl: string;
  /** Channel for gates whose playbook names none. */
  defaultChannel: string;
}

/**
 * Builds a Slack Web API client for activities: no retries and no waiting on rate limits inside the client,
 * because Temporal retries the activity with backoff and keeps the workflow's view of each attempt.
 */
export function createSlackWebClient(options: { token: string; slackApiUrl?: string; timeoutMs?: number }) {
  return new webApi.WebClient(options.token, {
    slackApiUrl: options.slackApiUrl,
    timeout: options.timeoutMs ?? 10_000,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
  });
}

function parseInput<T>(schema: z.ZodType<T>, input: unknown, activity: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
    throw ApplicationFailure.nonRetryable(
      `${activity} received invalid input: ${issues.join('; ')}`,
      'SlackInvalidInput',
    );
  }
  return result.data;
}

/** Builds the Slack notification activities; each makes one Web API call. */
export function createSlackActivities(deps: SlackActivityDeps) {
  const { client } = deps;
  const runUrlFor = (incidentId: string) =>
    `${deps.temporalUiBaseUrl.replace(/\/+$/, '')}/workflows/${encodeURIComponent(incidentId)}`;

  async function call<T>(method: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toSlackFailure(error, method);
    }
  }

  return {
    /**
     * Posts the Block Kit message that requests a gate decision.
     * NOTE: Slack's chat.postMessage has no idempotency key, so a retry after a lost response posts a second copy.
     */
    async postGateMessage(input: PostGateMessageInput): Promise<SlackMessageRef> {
      const content = parseInput(postGateMessageInputSchema, input, 'postGateMessage');
      const channel = content.channel ?? deps.defaultChannel;
      const body = renderGateMessage({ ...content, runUrl: content.runUrl ?? runUrlFor(content.incidentId) });
      const result = await call('chat.postMessage', () => client.chat.postMessage({ channel, ...body }));
      return postMessageResultSchema.parse(result);
    },

    /** Replaces the gate message with the outcome: decision, who decided and when. */
    async updateGateMessage(input: UpdateGateMessageInput): Promise<void> {
      const { channel, ts, ...content } = parseInput(updateGateMessageInputSchema, input, 'updateGateMessage');
      const body = renderGateOutcome(content);
      await call('chat.update', () => client.chat.update({ channel, ts, ...body }));
    },

    /** Posts a reminder in the gate message's thread. */
    async postGateReminder(input: PostGateReminderInput): Promise<SlackMessageRef> {
      const { channel, ts, incidentId, gate, deadlineAt, mention } = parseInput(
        postGateReminderInputSchema,
        input,
        'postGateReminder',
      );
      const text = renderGateReminder(incidentId, gate, deadlineAt, mention);
      const result = await call('chat.postMessage', () => client.chat.postMessage({ channel, thread_ts: ts, text }));
      return postMessageResultSchema.parse(result);
    },

    /** Posts the escalation in the gate message's thread and to the channel. */
    async postGateEscalation(input: PostGateEscalationInput): Promise<SlackMessageRef> {
      const { channel, ts, incidentId, gate, mention } = parseInput(
        postGateEscalationInputSchema,
        input,
        'postGateEscalation',
      );
      const text = renderGateEscalation(incidentId, gate, mention);
      const result = await call('chat.postMessage', () =>
        client.chat.postMessage({ channel, thread_ts: ts, reply_broadcast: true, text }),
      );
      return postMessageResultSchema.parse(result);
    },

    /**
     * Expands the user groups (`S…`) in an approver list into their members with usergroups.users.list, so
     * the workflow can check a Slack user id against plain ids. Membership is read once, when the gate opens,
     * and the expanded list is what the workflow records.
     */
    async resolveApproverGroups(input: ResolveApproverGroupsInput): Promise<ResolvedApprovers> {
      const { approvers } = parseInput(resolveApproverGroupsInputSchema, input, 'resolveApproverGroups');
      const groups: ResolvedApprovers['groups'] = [];
      for (const group of approvers.filter((approver) => userGroupIdPattern.test(approver))) {
        const result = await call('usergroups.users.list', () => client.usergroups.users.list({ usergroup: group }));
        groups.push({ group, members: userGroupUsersSchema.parse(result).users });
      }
      const people = approvers.filter((approver) => !userGroupIdPattern.test(approver));
      return { approvers: [...new Set([...people, ...groups.flatMap((group) => group.members)])], groups };
    },
  };
}

export type SlackActivities = ReturnType<typeof createSlackActivities>;
