import { readFileSync } from 'node:fs';
import path from 'node:path';
import { playbookJsonSchema, playbookSchema, resolvedPlaybookSchema, type PlaybookInput } from '../../domain/playbook';
import { playbookWarnings } from '../../domain/playbook-warnings';
import { playbook, playbookInput, sameAtEverySeverity } from './playbook-builders';

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = playbookSchema.safeParse(input);
  if (result.success) {
    return [];
  }
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function withIsolate(policy: object): PlaybookInput {
  const input = playbookInput('gate-test', { rules: ['Terminal shell in container'] });
  return { ...input, gates: { ...input.gates, isolate: { ...input.gates.isolate, P1: policy as never } } };
}

describe('playbookSchema', () => {
  test('fills defaults and derives deadlineMs', () => {
    const parsed = playbook('defaults', { rules: ['Terminal shell in container'] });

    expect(parsed.gates.isolate.P1).toEqual({
      mode: 'ask',
      approvers: ['U100'],
      approverGroups: [],
      deadline: '15m',
      deadlineMs: 900_000,
      onTimeout: 'reject',
      twoPerson: false,
      forbidTriggerer: true,
    });
    expect(parsed.gates.escalate.P0.deadlineMs).toBe(0);
    expect(parsed.match.exclude).toEqual([]);
    expect(parsed.restore).toEqual({
      quietPeriod: '30m',
      trustedDigestSource: 'person',
      trustedImages: {},
      watchPeriod: '24h',
    });
    expect(parsed.evidenceOptions).toEqual({ keepSecrets: false });
    expect(parsed.dryRun).toBe(false);
    expect(parsed.containment).toEqual([{ action: 'quarantine', allowEgress: [] }]);
  });

  test('unknown field names the closest allowed field', () => {
    const input = { ...playbookInput('typo'), match: { rulez: ['Terminal shell in container'] } };

    const [issue] = issuesOf(input);
    expect(issue?.path).toBe('match');
    expect(issue?.message).toContain('unknown field "rulez" (did you mean "rules"?)');
    expect(issue?.message).toContain('expected one of: sources, rules, tags');
  });

  test('wrong type names the expected type', () => {
    const input = { ...playbookInput('wrong-type'), dryRun: 'yes' };

    expect(issuesOf(input)).toEqual([{ path: 'dryRun', message: 'Invalid input: expected boolean, received string' }]);
  });

  test.each([
    ['zero', { mode: 'ask', deadline: '0s' }, 'deadline 0s must be longer than zero'],
    ['longer than 30 days', { mode: 'ask', deadline: '31d' }, 'deadline 31d is longer than the maximum of 30d'],
    ['negative', { mode: 'ask', deadline: '-5m' }, 'invalid duration "-5m"'],
    ['missing on ask', { mode: 'ask' }, 'deadline is required when mode is ask'],
    ['on an auto gate', { mode: 'auto', deadline: '5m' }, 'deadline applies only when mode is ask, but mode is auto'],
    ['on a skip gate', { mode: 'skip', deadline: '5m' }, 'deadline applies only when mode is ask, but mode is skip'],
  ])('impossible deadline (%s) is an error', (_case, policy, message) => {
    const issues = issuesOf(withIsolate(policy));

    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('gates.isolate.P1.deadline');
    expect(issues[0]?.message).toContain(message);
  });

  test('ask-only fields are errors on an auto gate', () => {
    const issues = issuesOf(withIsolate({ mode: 'auto', approvers: ['U1'], onTimeout: 'approve' }));

    expect(issues.map((issue) => issue.path)).toEqual(['gates.isolate.P1.approvers', 'gates.isolate.P1.onTimeout']);
  });

  test('twoPerson needs two possible approvers', () => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline: '5m', approvers: ['U1'], twoPerson: true }));

    expect(issues).toEqual([
      expect.objectContaining({ path: 'gates.isolate.P1.twoPerson', message: expect.stringContaining('at least two') }),
    ]);
  });

  test('twoPerson needs approvers that differ beyond letter case', () => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline: '5m', approvers: ['U1', 'u1'], twoPerson: true }));

    expect(issues.map((issue) => issue.path)).toEqual(['gates.isolate.P1.twoPerson', 'gates.isolate.P1.approvers.1']);
    expect(issues[0]?.message).toContain('at least two different approvers');
  });

  test.each(['*', ' ', '', '@channel', '<!everyone>', 'u1 u2', 'Alice'])('approver %j is rejected', (approver) => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline: '5m', approvers: [approver] }));

    expect(issues).toEqual([expect.objectContaining({ path: 'gates.isolate.P1.approvers.0' })]);
    expect(issues[0]?.message).toContain(`invalid approver ${JSON.stringify(approver)}`);
  });

  test('Slack user ids and operator names are approvers', () => {
    const approvers = ['U024BE7LH', 'W0123ABC', 'lab-operator', 'alice.smith', 'ops_1'];

    expect(issuesOf(withIsolate({ mode: 'ask', deadline: '5m', approvers }))).toEqual([]);
  });

  test('twoPerson accepts an approver group', () => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline: '5m', approverGroups: ['S1'], twoPerson: true }));

    expect(issues).toEqual([]);
  });

  test('reminder must come before the deadline', () => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline: '5m', reminderBefore: '10m' }));

    expect(issues).toEqual([expect.objectContaining({ path: 'gates.isolate.P1.reminderBefore' })]);
  });

  test.each([
    ['5m5m', 'the unit m appears more than once'],
    ['30m1h', 'the units are out of order'],
    ['99999999999999999999d', 'duration 99999999999999999999d is longer than the maximum of 365d'],
  ])('deadline %s is an error naming the value', (deadline, message) => {
    const issues = issuesOf(withIsolate({ mode: 'ask', deadline }));

    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('gates.isolate.P1.deadline');
    expect(issues[0]?.message).toContain(message);
  });

  test.each([
    ['restore', 'quietPeriod', '0s', 'quietPeriod 0s must be longer than zero'],
    ['restore', 'quietPeriod', '31d', 'quietPeriod 31d is longer than the maximum of 30d'],
    ['restore', 'watchPeriod', '100d', 'watchPeriod 100d is longer than the maximum of 30d'],
    ['evidenceOptions', 'execDeadline', '0ms', 'execDeadline 0ms must be longer than zero'],
    ['evidenceOptions', 'execDeadline', '11m', 'execDeadline 11m is longer than the maximum of 10m'],
  ])('%s.%s %s is an error', (section, field, value, message) => {
    const input = { ...playbookInput('limits', { rules: ['x'] }), [section]: { [field]: value } };

    expect(issuesOf(input)).toEqual([{ path: `${section}.${field}`, message }]);
  });

  test('missing gate severity is an error at its path', () => {
    const input = playbookInput('missing-severity');
    const { P3: _dropped, ...restore } = input.gates.restore;
    const issues = issuesOf({ ...input, gates: { ...input.gates, restore } });

    expect(issues.map((issue) => issue.path)).toEqual(['gates.restore.P3']);
  });

  test('escalate gate without an escalation target is an error', () => {
    const input = playbookInput('no-escalation', { rules: ['x'] });
    input.gates.escalate = sameAtEverySeverity({ mode: 'auto' });

    const paths = issuesOf(input).map((issue) => issue.path);
    expect(paths).toEqual(['P0', 'P1', 'P2', 'P3'].map((severity) => `gates.escalate.${severity}.mode`));
  });

  test('playbook digest source needs trusted images', () => {
    const input = { ...playbookInput('digests', { rules: ['x'] }), restore: { trustedDigestSource: 'playbook' } };

    expect(issuesOf(input).map((issue) => issue.path)).toEqual(['restore.trustedImages']);
  });

  test('catch-all playbook must not isolate alone', () => {
    const input = playbookInput('catch-all');
    input.gates.isolate = sameAtEverySeverity({ mode: 'ask', approvers: ['U1'], deadline: '5m', onTimeout: 'approve' });
    input.gates.restore = { ...sameAtEverySeverity({ mode: 'skip' }), P0: { mode: 'auto' } };

    const issues = issuesOf(input);
    expect(issues.map((issue) => issue.path)).toEqual([
      'gates.isolate.P0.onTimeout',
      'gates.isolate.P1.onTimeout',
      'gates.isolate.P2.onTimeout',
      'gates.isolate.P3.onTimeout',
      'gates.restore.P0.mode',
    ]);
    expect(issues[0]?.message).toContain('must not act alone');
  });

  test.each([
    [{ regex: 'shell', flags: 'g' }, 'match.rules.0.flags', 'invalid flags "g": expected i, m or s'],
    [{ regex: 'shell', flags: 'ii' }, 'match.rules.0.flags', 'invalid flags "ii"'],
    [{ regex: '[unclosed' }, 'match.rules.0.regex', 'missing closing ]'],
    [{ regex: '(a)\\1' }, 'match.rules.0.regex', 'RE2 syntax, which has no backreferences'],
    [{ regex: '(?=a)b' }, 'match.rules.0.regex', 'no lookahead or lookbehind'],
    [{ regex: '(?<=a)b' }, 'match.rules.0.regex', 'invalid regex "(?<=a)b"'],
    [{ regex: 'a'.repeat(513) }, 'match.rules.0.regex', 'longer than the maximum of 512'],
    [{ rgx: 'shell' }, 'match.rules.0', 'unknown field "rgx" (did you mean "regex"?)'],
  ])('rule matcher %j is rejected', (matcher, path, message) => {
    const issues = issuesOf(playbookInput('patterns', { rules: [matcher as never] }));

    expect(issues).toEqual([expect.objectContaining({ path })]);
    expect(issues[0]?.message).toContain(message);
  });

  test.each([
    ['sources only', { sources: ['falco', 'k8s_audit', 'alertmanager', 'generic'] }],
    ['priorityAtLeast only', { priorityAtLeast: 'Debug' }],
    ['exclusions only', { exclude: [{ namespaces: ['kube-system'] }] }],
    ['an empty regex', { rules: [{ regex: '' }] }],
    ['a regex for any text', { rules: [{ regex: '(?s).*' }] }],
    ['one accept-all regex among rules', { rules: ['Terminal shell in container', { regex: '[\\s\\S]*' }] }],
    ['a field regex for any non-empty text', { sources: ['falco'], fields: { 'proc.name': { regex: '.' } } }],
  ])('catch-all with %s must not isolate alone', (_case, match) => {
    const input = playbookInput('catch-all', match as PlaybookInput['match']);
    input.gates.isolate = { ...input.gates.isolate, P1: { mode: 'auto' } };

    const issues = issuesOf(input);
    expect(issues).toEqual([expect.objectContaining({ path: 'gates.isolate.P1.mode' })]);
    expect(issues[0]?.message).toContain('must not act alone');
  });

  test.each([
    ['an anchored regex', { rules: [{ regex: '^Terminal shell' }] }],
    ['tags', { tags: ['mitre_execution'] }],
    ['a field regex next to an accept-all one', { fields: { a: { regex: '.*' }, b: { regex: '^x$' } } }],
  ])('match with %s may isolate alone', (_case, match) => {
    const input = playbookInput('narrow', match as PlaybookInput['match']);
    input.gates.isolate = { ...input.gates.isolate, P1: { mode: 'auto' } };

    expect(issuesOf(input)).toEqual([]);
  });

  test('empty match list is an error', () => {
    const issues = issuesOf(playbookInput('empty-list', { namespaces: [] }));

    expect(issues).toEqual([
      { path: 'match.namespaces', message: 'list is empty; remove the field to match any value' },
    ]);
  });

  test('empty label map is an error', () => {
    const issues = issuesOf(playbookInput('empty-map', { labels: {} }));

    expect(issues).toEqual([{ path: 'match.labels', message: 'map is empty; remove the field to match any value' }]);
  });

  test('unknown containment action lists the actions', () => {
    const input = { ...playbookInput('actions', { rules: ['x'] }), containment: [{ action: 'nuke' }] };

    const issues = issuesOf(input);
    expect(issues[0]?.path).toBe('containment.0.action');
    expect(issues[0]?.message).toContain('expected one of quarantine, detach, cordon, drain');
  });

  test('drain deadline must exceed the grace period', () => {
    const containment = [{ action: 'drain', gracePeriod: '5m', deadline: '1m' }];
    const issues = issuesOf({ ...playbookInput('drain', { rules: ['x'] }), containment });

    expect(issues).toEqual([expect.objectContaining({ path: 'containment.0.deadline' })]);
  });

  test('egress rule sets exactly one destination', () => {
    const containment = [
      { action: 'quarantine', allowEgress: [{ dns: true, cidr: '10.0.0.0/8' }, { cidr: '10.0.0.0/33' }] },
    ];
    const issues = issuesOf({ ...playbookInput('egress', { rules: ['x'] }), containment });

    expect(issues.map((issue) => issue.path)).toEqual([
      'containment.0.allowEgress.0',
      'containment.0.allowEgress.1.cidr',
    ]);
  });
});

describe('resolvedPlaybookSchema', () => {
  test('accepts a parsed playbook after a JSON round trip', () => {
    const parsed = playbook('round-trip', { rules: [{ regex: '^Drop and execute' }], namespaces: ['shop-prod'] });

    const again = resolvedPlaybookSchema.parse(JSON.parse(JSON.stringify(parsed)));
    expect(again).toEqual(parsed);
  });

  test('accepts a pinned playbook that predates the restore limits', () => {
    const parsed = playbook('pinned', { rules: ['x'] });
    const pinned = { ...parsed, restore: { ...parsed.restore, quietPeriod: '0s' } };

    expect(resolvedPlaybookSchema.safeParse(pinned).success).toBe(true);
    expect(
      playbookSchema.safeParse({ ...playbookInput('file', { rules: ['x'] }), restore: { quietPeriod: '0s' } }).success,
    ).toBe(false);
  });

  test('rejects a playbook file, which lacks deadlineMs', () => {
    expect(resolvedPlaybookSchema.safeParse(playbookInput('file-form')).success).toBe(false);
  });
});

describe('playbookWarnings', () => {
  test('ask gate without approvers is a warning, not an error', () => {
    const input = playbookInput('nobody', { rules: ['x'] });
    input.gates.isolate = sameAtEverySeverity({ mode: 'ask', deadline: '5m' });

    const parsed = playbookSchema.parse(input);
    const warnings = playbookWarnings(parsed);
    expect(warnings.map((warning) => warning.path.join('.'))).toEqual([
      'gates.isolate.P0',
      'gates.isolate.P1',
      'gates.isolate.P2',
      'gates.isolate.P3',
    ]);
    expect(warnings[0]?.message).toContain('nobody may approve');
  });

  test('zero watchPeriod is a warning, not an error', () => {
    const parsed = playbookSchema.parse({
      ...playbookInput('no-watch', { rules: ['x'] }),
      restore: { watchPeriod: '0s' },
    });

    expect(playbookWarnings(parsed)).toEqual([
      {
        path: ['restore', 'watchPeriod'],
        message:
          'watchPeriod 0s turns off the heightened watch after restore, so the incident closes as soon as the workload is restored',
      },
    ]);
  });

  test('plain http escalation url is a warning', () => {
    const escalation = { target: 'pagerduty', url: 'http://pager.example.com/v2/enqueue', routingKeyEnv: 'KEY' };
    const parsed = playbookSchema.parse({ ...playbookInput('http', { rules: ['x'] }), escalation });

    expect(playbookWarnings(parsed)).toEqual([expect.objectContaining({ path: ['escalation', 'url'] })]);
  });
});

describe('playbookJsonSchema', () => {
  test('playbook.schema.json is current', () => {
    const file = path.join(__dirname, '../../playbooks/playbook.schema.json');
    const written: unknown = JSON.parse(readFileSync(file, 'utf8'));

    expect(written).toEqual(playbookJsonSchema());
  });

  test('marks objects closed so editors flag unknown fields', () => {
    const schema = playbookJsonSchema();

    expect(schema['additionalProperties']).toBe(false);
  });
});
