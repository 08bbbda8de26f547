import {
  gateActionIds,
  gateButtonValueSchema,
  openRunActionId,
  parseMention,
  renderGateEscalation,
  renderGateMessage,
  renderGateOutcome,
  renderGateReminder,
  type GateMessageContent,
  type SlackBlock,
} from '../../activities/notify/slack-blocks';
import { checkBlocks } from '../support/slack-stand-in-blocks';

/** A gate message built from attacker-controlled alert text: mentions, links, fences and very long values. */
const hostile: GateMessageContent = {
  incidentId: 'incident-0123456789abcdef',
  runUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/incident-0123456789abcdef',
  gate: 'isolate',
  severity: 'P1',
  targetSummary: `shop/checkout-7d9f8b6c5-x2k4q <!channel> ${'@here '.repeat(10)}${'/very/long/path'.repeat(400)}`,
  triggerSummary: [
    'Terminal shell in container: bash -c "```<!here> *pwned* <https://evil.example|login>```"',
    'file=/tmp/`whoami`_~x~_',
    'x'.repeat(8000),
  ].join('\n'),
  choices: [
    { decision: 'approve', effect: 'quarantine the pod <@U0000EVIL1> *now*' },
    { decision: 'reject', effect: `keep watching ${'~'.repeat(5000)}` },
  ],
  deadlineAt: '2024-12-04T12:00:00.000Z',
  onTimeout: 'reject',
};

/** Collects every text string in the blocks, so each can be checked for control sequences. */
function textsOf(blocks: SlackBlock[]): string[] {
  const texts: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'text' && typeof inner === 'string') texts.push(inner);
        else visit(inner);
      }
    }
  };
  visit(blocks);
  return texts;
}

/** Angle-bracket sequences Firebreak itself writes: Slack date tokens only. */
function foreignControlSequences(text: string): string[] {
  return (text.match(/<[^>]*>/g) ?? []).filter(
    (sequence) => !/^<!date\^\d+\^\{date_short_pretty\} \{time\}\|[\d: -]+UTC>$/.test(sequence),
  );
}

describe('renderGateMessage', () => {
  const message = renderGateMessage(hostile);

  test('stays within Slack block limits', () => {
    expect(checkBlocks(message.blocks)).toBeUndefined();
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });

  test('contains no mention, link or channel from alert text', () => {
    for (const text of [message.text, ...textsOf(message.blocks)]) {
      expect(foreignControlSequences(text)).toEqual([]);
      expect(text).not.toMatch(/@(channel|here|everyone)/i);
    }
  });

  test('keeps the trigger inside one code block', () => {
    const trigger = textsOf(message.blocks).find((text) => text.startsWith('*What triggered it*'));

    expect(trigger).toBeDefined();
    expect(trigger?.split('`')).toHaveLength(7);
    expect(trigger).toContain('&lt;https://evil.example|login&gt;');
  });

  test('shows each choice and the default', () => {
    const texts = textsOf(message.blocks).join('\n');

    expect(texts).toContain('*Approve*: quarantine the pod &lt;@U0000EVIL1&gt; \u2217now\u2217');
    expect(texts).toContain('*Reject*: keep watching');
    expect(texts).toContain('the gate is *rejected* by default');
    expect(texts).toContain('<!date^1733313600^{date_short_pretty} {time}|2024-12-04 12:00 UTC>');
  });

  test('buttons carry only the incident and gate ids', () => {
    const actions = message.blocks.find((block) => block.type === 'actions');
    const buttons = actions?.type === 'actions' ? actions.elements : [];
    const decisionButtons = buttons.filter((button) => button.action_id !== openRunActionId);

    expect(decisionButtons.map((button) => button.action_id)).toEqual([gateActionIds.approve, gateActionIds.reject]);
    for (const button of decisionButtons) {
      const value = button.type === 'button' ? button.value : undefined;
      expect(JSON.parse(value ?? '')).toEqual({ incidentId: hostile.incidentId, gate: 'isolate' });
      expect(gateButtonValueSchema.safeParse(JSON.parse(value ?? '')).success).toBe(true);
    }
  });

  test('links to the run in the Temporal UI', () => {
    const actions = message.blocks.find((block) => block.type === 'actions');
    const link =
      actions?.type === 'actions' ? actions.elements.find((e) => e.action_id === openRunActionId) : undefined;

    expect(link?.type === 'button' ? link.url : undefined).toBe(hostile.runUrl);
  });
});

describe('renderGateOutcome', () => {
  test('names a Slack decider with a mention and removes the buttons', () => {
    const outcome = renderGateOutcome({
      incidentId: hostile.incidentId,
      gate: 'isolate',
      status: 'approved',
      decision: 'approve',
      decider: 'U0000APPR1',
      at: '2024-12-04T11:40:00.000Z',
    });

    expect(checkBlocks(outcome.blocks)).toBeUndefined();
    expect(outcome.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(textsOf(outcome.blocks).join('\n')).toContain('*Approved* by <@U0000APPR1>');
    expect(outcome.text).toContain('<@U0000APPR1>');
  });

  test('shows an operator name and reason as escaped text', () => {
    const outcome = renderGateOutcome({
      incidentId: hostile.incidentId,
      gate: 'restore',
      status: 'rejected',
      decision: 'reject',
      decider: 'alice <!channel>',
      at: '2024-12-04T11:40:00.000Z',
      reason: 'still *beaconing* to <http://203.0.113.9|cdn>',
    });
    const texts = textsOf(outcome.blocks).join('\n');

    expect(foreignControlSequences(texts)).toEqual([]);
    expect(texts).toContain('by `alice &lt;!channel&gt;`');
    expect(texts).toContain('*Reason* still \u2217beaconing\u2217 to &lt;http://203.0.113.9|cdn&gt;');
  });

  test('states the default applied on timeout', () => {
    const outcome = renderGateOutcome({
      incidentId: hostile.incidentId,
      gate: 'escalate',
      status: 'timed_out',
      decision: 'approve',
      at: '2024-12-04T11:40:00.000Z',
    });

    expect(textsOf(outcome.blocks).join('\n')).toContain('The default applied: *Approve*.');
  });
});

describe('mentions in reminders and escalations', () => {
  test.each([
    ['<@U0123ABCD>', '<@U0123ABCD>'],
    ['U0123ABCD', '<@U0123ABCD>'],
    ['<!subteam^S0SECURITY>', '<!subteam^S0SECURITY>'],
    ['<!subteam^S0SECURITY|@security>', '<!subteam^S0SECURITY>'],
    ['S0SECURITY', '<!subteam^S0SECURITY>'],
    ['<!here>', '<!here>'],
    ['channel', '<!channel>'],
  ])('mention %s renders as %s', (configured, rendered) => {
    expect(
      renderGateReminder(hostile.incidentId, 'isolate', hostile.deadlineAt, configured).startsWith(`${rendered} `),
    ).toBe(true);
  });

  test.each(['<!everyone>', '<https://evil.example|x>', 'U0123 <!channel>', '@here'])(
    'configured value %s mentions nobody',
    (configured) => {
      expect(parseMention(configured)).toBeUndefined();
      const text = renderGateEscalation(hostile.incidentId, 'isolate', configured);
      expect(foreignControlSequences(text)).toEqual([]);
      expect(text).toContain('is not a Slack user, user group, here or channel');
    },
  );
});
