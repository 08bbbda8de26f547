import type { types } from '@slack/bolt';
import { z } from 'zod';
import { severitySchema } from '../../domain/alert';
import { gateDecisionSchema, gateNameSchema, type GateDecision, type GateName } from '../../domain/incident';
import { codeBlock, cutPlain, escapeMrkdwn, inlineCode } from './slack-text';

/**
 * Block Kit rendering of gate messages. Every value that can come from an alert (target, trigger, effects,
 * reasons) goes through `slack-text`. Only ids checked against strict patterns are written into mrkdwn as is.
 */

export type SlackBlock = types.KnownBlock;
export interface SlackMessageBody {
  /** Notification fallback, shown where blocks are not. */
  text: string;
  blocks: SlackBlock[];
}

/** Block Kit limits from Slack's reference, in characters. */
export const slackLimits = {
  headerText: 150,
  sectionText: 3000,
  sectionField: 2000,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  contextText: 2000,
  fallbackText: 3000,
} as const;

/** Incident ids are `incident-<fingerprint>` and fit a Kubernetes label value (63 characters). */
export const incidentIdSchema = z
  .string()
  .regex(/^incident-[a-z0-9](?:[a-z0-9-]{0,52}[a-z0-9])?$/, 'expected incident-<fingerprint> in lowercase');

/** The only content of a gate button: which incident and which gate. Everything else is read from the workflow. */
export const gateButtonValueSchema = z.strictObject({ incidentId: incidentIdSchema, gate: gateNameSchema });
export type GateButtonValue = z.infer<typeof gateButtonValueSchema>;

export const gateActionIds: Readonly<Record<GateDecision, string>> = {
  approve: 'firebreak_gate_approve',
  reject: 'firebreak_gate_reject',
};
export const gateActionsBlockId = 'firebreak_gate_actions';
export const openRunActionId = 'firebreak_open_run';

export const gateQuestions: Readonly<Record<GateName, string>> = {
  isolate: 'Isolate now?',
  escalate: 'Call external help?',
  restore: 'Restore now?',
};

const decisionLabels: Readonly<Record<GateDecision, string>> = { approve: 'Approve', reject: 'Reject' };

/** Slack user ids (`U…`, or `W…` on Enterprise Grid); a decider that matches is rendered as a mention. */
export const slackUserIdPattern = /^[UW][A-Z0-9]{2,20}$/;

/** A mention that configuration may set: a user (`U…`), a user group (`S…`), or the channel's members. */
export type Mention = { kind: 'user'; id: string } | { kind: 'group'; id: string } | { kind: 'here' | 'channel' };

const mentionPatterns: ReadonlyArray<[RegExp, (id: string) => Mention]> = [
  [/^<@([UW][A-Z0-9]{2,20})>$/, (id) => ({ kind: 'user', id })],
  [/^([UW][A-Z0-9]{2,20})$/, (id) => ({ kind: 'user', id })],
  [/^<!subteam\^(S[A-Z0-9]{2,20})(?:\|[^<>]*)?>$/, (id) => ({ kind: 'group', id })],
  [/^(S[A-Z0-9]{2,20})$/, (id) => ({ kind: 'group', id })],
];

/**
 * Parses a configured mention: Slack mention text (`<@U123>`, `<!subteam^S123>`, `<!here>`, `<!channel>`) or a
 * bare id. Returns undefined for anything else, so that configuration can never inject other mrkdwn.
 */
export function parseMention(text: string): Mention | undefined {
  const trimmed = text.trim();
  const broadcast = /^(?:<!(here|channel)>|(here|channel))$/.exec(trimmed);
  const kind = broadcast?.[1] ?? broadcast?.[2];
  if (kind === 'here' || kind === 'channel') {
    return { kind };
  }
  for (const [pattern, toMention] of mentionPatterns) {
    const id = pattern.exec(trimmed)?.[1];
    if (id !== undefined) {
      return toMention(id);
    }
  }
  return undefined;
}

const httpUrlSchema = z.url({ protocol: /^https?$/ }).max(slackLimits.buttonUrl);
const isoTimeSchema = z.iso.datetime({ offset: true });

/** Content of the message that opens a gate. */
export const gateMessageContentSchema = z.object({
  incidentId: incidentIdSchema,
  /** Link to the incident in the Temporal UI. */
  runUrl: httpUrlSchema.optional(),
  gate: gateNameSchema,
  severity: severitySchema,
  targetSummary: z.string(),
  triggerSummary: z.string(),
  choices: z.array(z.object({ decision: gateDecisionSchema, effect: z.string() })).min(1),
  deadlineAt: isoTimeSchema,
  /** Decision applied at the deadline: `approve`, `reject`, or a description of the default. */
  onTimeout: z.string(),
});
export type GateMessageContent = z.infer<typeof gateMessageContentSchema>;

/** Content of a gate message once the gate has closed. */
export const gateOutcomeContentSchema = z.object({
  incidentId: incidentIdSchema,
  gate: gateNameSchema,
  status: z.enum(['approved', 'rejected', 'timed_out', 'skipped', 'auto']),
  decision: gateDecisionSchema.optional(),
  decider: z.string().min(1).optional(),
  at: isoTimeSchema,
  reason: z.string().optional(),
});
export type GateOutcomeContent = z.infer<typeof gateOutcomeContentSchema>;

/** Renders a time with Slack's date token, which each reader sees in their own time zone. */
export function slackDate(iso: string): string {
  const at = new Date(iso);
  const fallback = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** Renders who decided: a Slack user as a mention, which Slack shows as the name, anyone else as code. */
export function renderDecider(decider: string): string {
  return slackUserIdPattern.test(decider) ? `<@${decider}>` : inlineCode(decider, 100);
}

export function renderMention(mention: Mention): string {
  switch (mention.kind) {
    case 'user':
      return `<@${mention.id}>`;
    case 'group':
      return `<!subteam^${mention.id}>`;
    default:
      return `<!${mention.kind}>`;
  }
}

function mrkdwn(text: string): types.MrkdwnElement {
  return { type: 'mrkdwn', text };
}

function header(text: string): types.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: cutPlain(text, slackLimits.headerText), emoji: false } };
}

function section(text: string): types.SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function renderChoices(choices: GateMessageContent['choices']): string {
  const heading = '*What each choice does*';
  const perChoiceMax = Math.floor((slackLimits.sectionText - heading.length) / choices.length) - 20;
  const lines = choices.map(
    (choice) => `• *${decisionLabels[choice.decision]}*: ${escapeMrkdwn(choice.effect, perChoiceMax)}`,
  );
  return [heading, ...lines].join('\n');
}

function renderDefault(onTimeout: string): string {
  if (onTimeout === 'approve' || onTimeout === 'reject') {
    return `the gate is *${onTimeout === 'approve' ? 'approved' : 'rejected'}* by default`;
  }
  return `the default applies: ${escapeMrkdwn(onTimeout, 1000)}`;
}

function renderButtons(content: GateMessageContent): types.ActionsBlock {
  const value = JSON.stringify({ incidentId: content.incidentId, gate: content.gate } satisfies GateButtonValue);
  const decisions = [...new Set(content.choices.map((choice) => choice.decision))];
  const elements: types.Button[] = decisions.map((decision) => ({
    type: 'button',
    action_id: gateActionIds[decision],
    text: { type: 'plain_text', text: decisionLabels[decision], emoji: false },
    style: decision === 'approve' ? 'primary' : 'danger',
    value,
  }));
  if (content.runUrl !== undefined) {
    const text = { type: 'plain_text' as const, text: 'Open in Temporal UI', emoji: false };
    elements.push({ type: 'button', action_id: openRunActionId, text, url: content.runUrl });
  }
  return { type: 'actions', block_id: gateActionsBlockId, elements };
}

/** Renders the message that requests a gate decision, with one button per choice and a link to the run. */
export function renderGateMessage(content: GateMessageContent): SlackMessageBody {
  const question = gateQuestions[content.gate];
  const fields = [
    `*Incident*\n\`${content.incidentId}\``,
    `*Severity*\n${content.severity}`,
    `*Target*\n${inlineCode(content.targetSummary, slackLimits.sectionField - 20)}`,
    `*Decide by*\n${slackDate(content.deadlineAt)}`,
  ];
  const blocks: SlackBlock[] = [
    header(`${question} ${content.severity} incident`),
    { type: 'section', fields: fields.map(mrkdwn) },
    section(`*What triggered it*\n${codeBlock(content.triggerSummary, slackLimits.sectionText - 30)}`),
    section(renderChoices(content.choices)),
    { type: 'context', elements: [mrkdwn(`If nobody decides by the deadline, ${renderDefault(content.onTimeout)}.`)] },
    renderButtons(content),
  ];
  const target = escapeMrkdwn(content.targetSummary, 300);
  const text = `Decision needed (${content.severity}): ${question} Incident ${content.incidentId}, target ${target}`;
  return { text, blocks };
}

const outcomeLabels: Readonly<Record<GateOutcomeContent['status'], string>> = {
  approved: 'Approved',
  rejected: 'Rejected',
  timed_out: 'No decision before the deadline',
  skipped: 'Skipped by the playbook',
  auto: 'Decided by the playbook',
};

/** Renders a closed gate: the outcome, who decided and when, and the reason. The buttons are gone. */
export function renderGateOutcome(content: GateOutcomeContent): SlackMessageBody {
  const question = gateQuestions[content.gate];
  const label = outcomeLabels[content.status];
  const by = content.decider === undefined ? '' : ` by ${renderDecider(content.decider)}`;
  const decided = `*${label}*${by} ${slackDate(content.at)}`;
  const lines = [`*Incident* \`${content.incidentId}\``, decided];
  if (content.status === 'timed_out' && content.decision !== undefined) {
    lines.push(`The default applied: *${decisionLabels[content.decision]}*.`);
  }
  if (content.reason !== undefined && content.reason.trim() !== '') {
    lines.push(`*Reason* ${escapeMrkdwn(content.reason, 2000)}`);
  }
  const blocks: SlackBlock[] = [header(`${question} ${label}`), section(lines.join('\n'))];
  return { text: `${question} Incident ${content.incidentId}: ${label}${by}`, blocks };
}

/** Renders the configured mention as a prefix; a value that is not a mention is shown as code and mentions nobody. */
function mentionPrefix(text: string | undefined): string {
  if (text === undefined || text.trim() === '') {
    return '';
  }
  const mention = parseMention(text);
  if (mention === undefined) {
    return `(the configured mention ${inlineCode(text, 100)} is not a Slack user, user group, here or channel) `;
  }
  return `${renderMention(mention)} `;
}

/** Renders the reminder posted in the gate message's thread before the deadline. */
export function renderGateReminder(incidentId: string, gate: GateName, deadlineAt: string, mention?: string): string {
  const question = gateQuestions[gate];
  const deadline = slackDate(deadlineAt);
  return `${mentionPrefix(mention)}Reminder: *${question}* for \`${incidentId}\` still needs a decision by ${deadline}.`;
}

/** Renders the escalation posted when the deadline passed without a decision. */
export function renderGateEscalation(incidentId: string, gate: GateName, mention?: string): string {
  const question = gateQuestions[gate];
  return `${mentionPrefix(mention)}Nobody decided *${question}* for \`${incidentId}\` before the deadline. Please take over this incident.`;
}
