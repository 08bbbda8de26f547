import type { App, webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { gateDecisionSchema, type GateDecision } from '../../domain/incident';
import {
  gateActionIds,
  gateButtonValueSchema,
  openRunActionId,
  renderDecider,
  renderGateOutcome,
  slackUserIdPattern,
  type GateButtonValue,
} from '../../activities/notify/slack-blocks';
import { escapeMrkdwn } from '../../activities/notify/slack-text';
import { GateDecisionRejected, rejectionFromState, type DecideResult, type GateDecisions } from './gate-decisions';

/**
 * Gate button clicks. Each click is acknowledged at once. Then the incident is read from the workflow, the
 * decision is sent as the `decideGate` Update with the clicker's Slack user id, and `chat.update` edits the
 * message to show the outcome. A rejected click gets an ephemeral reply saying why and changes nothing.
 * The button value only names the incident and the gate, so approvers and gate state come from the workflow.
 */

const clickSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().regex(slackUserIdPattern) }),
  container: z.object({ channel_id: z.string().min(1), message_ts: z.string().min(1) }),
  message: z
    .object({ blocks: z.array(z.looseObject({ type: z.string(), block_id: z.string().optional() })).optional() })
    .optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).length(1),
});
type Click = z.infer<typeof clickSchema>;

const progressBlockId = 'firebreak_gate_progress';

export interface GateClickDeps {
  decisions: GateDecisions;
  logger: Logger;
}

function decisionFor(actionId: string): GateDecision | undefined {
  return gateDecisionSchema.options.find((decision) => gateActionIds[decision] === actionId);
}

function parseButtonValue(value: string | undefined): GateButtonValue | undefined {
  try {
    const parsed = gateButtonValueSchema.safeParse(JSON.parse(value ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function replyPrivately(client: webApi.WebClient, click: Click, text: string, logger: Logger): Promise<void> {
  try {
    await client.chat.postEphemeral({ channel: click.container.channel_id, user: click.user.id, text });
  } catch (error) {
    logger.error({ err: error, user: click.user.id }, 'Slack ephemeral reply failed');
  }
}

/**
 * Edits the gate message to show the outcome once the gate has closed. While the gate waits for a second
 * approval, it adds a progress line to the blocks that Slack sent in the click payload, if there are any.
 */
async function showResult(client: webApi.WebClient, click: Click, ref: GateButtonValue, result: DecideResult) {
  const { channel_id: channel, message_ts: ts } = click.container;
  if (result.status !== 'open') {
    const decision = result.status === 'approved' ? 'approve' : 'reject';
    const body = renderGateOutcome({ ...ref, status: result.status, decision, decider: result.decider, at: result.at });
    await client.chat.update({ channel, ts, ...body });
    return;
  }

  const original = click.message?.blocks;
  if (original === undefined || original.length === 0) {
    return;
  }
  const blocks = original.filter((block) => block.block_id !== progressBlockId);
  const progress = `Approved by ${renderDecider(result.decider)}; waiting for a second, different approver.`;
  blocks.push({ type: 'context', block_id: progressBlockId, elements: [{ type: 'mrkdwn', text: progress }] });
  await client.chat.update({ channel, ts, text: progress, blocks });
}

async function decideFromClick(client: webApi.WebClient, click: Click, deps: GateClickDeps): Promise<void> {
  const action = click.actions[0];
  if (action === undefined || action.action_id === openRunActionId) {
    return;
  }
  const decision = decisionFor(action.action_id);
  const ref = parseButtonValue(action.value);
  if (decision === undefined || ref === undefined) {
    deps.logger.warn({ actionId: action.action_id, user: click.user.id }, 'Slack click on an unknown button ignored');
    await replyPrivately(
      client,
      click,
      'This button is not a Firebreak gate button, so nothing was changed.',
      deps.logger,
    );
    return;
  }

  const log = deps.logger.child({ incidentId: ref.incidentId, gate: ref.gate, decision, user: click.user.id });
  try {
    const rejection = rejectionFromState(await deps.decisions.readIncident(ref.incidentId), ref.gate);
    if (rejection !== undefined) {
      throw new GateDecisionRejected(rejection);
    }
    const input = { gate: ref.gate, decision, decider: click.user.id, channel: 'slack' as const };
    const result = await deps.decisions.decide(ref.incidentId, input);
    log.info({ status: result.status }, 'Slack gate decision recorded');
    await showResult(client, click, ref, result).catch((error: unknown) => {
      log.error({ err: error }, 'Slack gate message edit failed; the workflow edits it again when the gate closes');
    });
    if (result.status === 'open') {
      const text = `Your approval of the ${ref.gate} gate is recorded. A second, different approver must approve too.`;
      await replyPrivately(client, click, text, log);
    }
  } catch (error) {
    if (error instanceof GateDecisionRejected) {
      log.info({ reason: error.message }, 'Slack gate decision rejected');
      await replyPrivately(
        client,
        click,
        `Your ${decision} was not recorded: ${escapeMrkdwn(error.message, 1000)}.`,
        log,
      );
      return;
    }
    log.error({ err: error }, 'Slack gate decision failed');
    const command = `firebreak decide ${ref.incidentId} ${ref.gate} ${decision} --reason "…"`;
    const text = `Firebreak could not reach the incident workflow, so nothing was changed. Try again, or run \`${command}\`.`;
    await replyPrivately(client, click, text, log);
  }
}

/** Registers the listener for every button on Firebreak messages. */
export function registerGateClicks(app: App, deps: GateClickDeps): void {
  app.action(/.*/, async ({ ack, body, client }) => {
    await ack();
    const click = clickSchema.safeParse(body);
    if (!click.success) {
      deps.logger.warn({ issues: click.error.issues.length }, 'Slack interaction without a message button ignored');
      return;
    }
    await decideFromClick(client, click.data, deps);
  });
}
