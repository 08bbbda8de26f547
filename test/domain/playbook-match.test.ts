import { playbookSchema } from '../../domain/playbook';
import {
  builtinTriagePlaybook,
  classifySeverity,
  compareSpecificity,
  conditionsHold,
  selectPlaybook,
  specificityOf,
} from '../../domain/playbook-match';
import { findOverlaps } from '../../domain/playbook-overlap';
import { matcherAccepts } from '../../domain/playbook-patterns';
import { alert, playbook, playbookInput } from './playbook-builders';

const shellRule = 'Terminal shell in container';

describe('matcherAccepts', () => {
  test('exact matcher compares the whole text', () => {
    expect(matcherAccepts(shellRule, shellRule)).toBe(true);
    expect(matcherAccepts(shellRule, `${shellRule} (copy)`)).toBe(false);
  });

  test('regex matcher honours its flags', () => {
    const rule = 'Drop and execute new binary in container';

    expect(matcherAccepts({ regex: '^drop and execute', flags: 'i' }, rule)).toBe(true);
    expect(matcherAccepts({ regex: '^drop and execute' }, rule)).toBe(false);
  });

  test('a path with slashes is an exact value', () => {
    expect(matcherAccepts('/etc/shadow', '/etc/shadow')).toBe(true);
    expect(matcherAccepts('/etc/shadow', 'etc')).toBe(false);
  });

  test('a path that looks like a regex with flags is exact', () => {
    expect(matcherAccepts('/usr/bin/su', '/usr/bin/su')).toBe(true);
    expect(matcherAccepts('/usr/bin/su', '/usr/bin/sudo')).toBe(false);
    expect(matcherAccepts('/usr/bin/id', '/usr/bin/id')).toBe(true);
  });
});

describe('conditionsHold', () => {
  test('tags must all be present', () => {
    const conditions = { tags: ['mitre_execution', 'container'] };

    expect(conditionsHold(conditions, alert({ tags: ['container', 'mitre_execution', 'shell'] }))).toBe(true);
    expect(conditionsHold(conditions, alert({ tags: ['container'] }))).toBe(false);
  });

  test('priorityAtLeast accepts the threshold and worse', () => {
    const conditions = { priorityAtLeast: 'Warning' as const };

    expect(conditionsHold(conditions, alert({ priority: 'Warning' }))).toBe(true);
    expect(conditionsHold(conditions, alert({ priority: 'Critical' }))).toBe(true);
    expect(conditionsHold(conditions, alert({ priority: 'Notice' }))).toBe(false);
  });

  test('unrecognised priority meets no threshold', () => {
    const conditions = { priorityAtLeast: 'Debug' as const };

    expect(conditionsHold(conditions, alert({ priority: 'Informational', priorityRecognised: false }))).toBe(false);
  });

  test('labels come from the context, else from pod label fields', () => {
    const conditions = { labels: { app: 'checkout' } };
    const fromFields = alert({ fields: { 'k8s.pod.label[app]': 'checkout' } });

    expect(conditionsHold(conditions, alert(), { podLabels: { app: 'checkout', tier: 'web' } })).toBe(true);
    expect(conditionsHold(conditions, fromFields)).toBe(true);
    expect(conditionsHold(conditions, alert())).toBe(false);
  });

  test('fields match exact values and patterns', () => {
    const conditions = { fields: { 'proc.cmdline': { regex: 'stratum\\+tcp' }, 'user.uid': '0' } };
    const miner = alert({
      fields: { 'proc.cmdline': 'xmrig -o stratum+tcp://pool.example.invalid:3333', 'user.uid': 0 },
    });

    expect(conditionsHold(conditions, miner)).toBe(true);
    expect(conditionsHold(conditions, alert({ fields: { 'proc.cmdline': 'bash', 'user.uid': 0 } }))).toBe(false);
    expect(conditionsHold(conditions, alert({ fields: { 'user.uid': 0 } }))).toBe(false);
  });

  test('namespaces need a known namespace', () => {
    const conditions = { namespaces: ['shop-prod'] };

    expect(conditionsHold(conditions, alert({ namespace: 'shop-prod' }))).toBe(true);
    expect(conditionsHold(conditions, alert({ namespace: 'shop-dev' }))).toBe(false);
  });
});

describe('specificityOf', () => {
  test('more conditions win', () => {
    const two = specificityOf({ rules: [{ regex: 'shell' }], namespaces: ['shop-prod'] });
    const one = specificityOf({ rules: [shellRule] });

    expect(compareSpecificity(two, one)).toBeLessThan(0);
  });

  test('exact rules outrank patterns at equal count', () => {
    const exact = specificityOf({ rules: [shellRule] });
    const pattern = specificityOf({ rules: [{ regex: 'shell' }] });

    expect(compareSpecificity(exact, pattern)).toBeLessThan(0);
  });

  test('namespaces outrank labels, tags, priority and sources', () => {
    const namespaces = specificityOf({ rules: [shellRule], namespaces: ['shop-prod'] });
    for (const other of [
      { rules: [shellRule], labels: { app: 'checkout' } },
      { rules: [shellRule], tags: ['shell'] },
      { rules: [shellRule], priorityAtLeast: 'Notice' as const },
      { rules: [shellRule], sources: ['falco' as const] },
    ]) {
      expect(compareSpecificity(namespaces, specificityOf(other))).toBeLessThan(0);
    }
  });
});

describe('selectPlaybook', () => {
  test('most specific claiming playbook wins', () => {
    const broad = playbook('broad', { rules: [shellRule] });
    const narrow = playbook('narrow', { rules: [shellRule], namespaces: ['shop-prod'] });

    const selection = selectPlaybook(alert(), [broad, narrow]);
    expect(selection.playbook.metadata.name).toBe('narrow');
    expect(selection.usedDefault).toBe(false);
    expect(selection.reason).toContain('more specific than broad');
  });

  test('exclusions are applied before specificity', () => {
    const narrow = playbookSchema.parse(
      playbookInput('narrow', { rules: [shellRule], namespaces: ['shop-prod'], exclude: [{ tags: ['maintenance'] }] }),
    );
    const broad = playbook('broad', { rules: [shellRule] });

    const selection = selectPlaybook(alert({ tags: ['maintenance'] }), [narrow, broad]);
    expect(selection.playbook.metadata.name).toBe('broad');
  });

  test('equal specificity falls back to the name', () => {
    const zulu = playbook('zulu', { rules: [{ regex: 'shell' }] });
    const alpha = playbook('alpha', { rules: [{ regex: 'container' }] });

    expect(selectPlaybook(alert(), [zulu, alpha]).playbook.metadata.name).toBe('alpha');
    expect(selectPlaybook(alert(), [alpha, zulu]).playbook.metadata.name).toBe('alpha');
  });

  test('unclaimed alert gets the built-in triage playbook', () => {
    const selection = selectPlaybook(alert({ rule: 'Unknown rule' }), [playbook('shell', { rules: [shellRule] })]);

    expect(selection.playbook).toBe(builtinTriagePlaybook);
    expect(selection.usedDefault).toBe(true);
    expect(selection.reason).toContain('no playbook claims rule "Unknown rule"');
  });

  test('built-in triage never acts alone', () => {
    for (const gate of ['isolate', 'restore'] as const) {
      for (const policy of Object.values(builtinTriagePlaybook.gates[gate])) {
        expect(policy.mode).toBe('ask');
        expect(policy.onTimeout).toBe('reject');
      }
    }
  });
});

describe('classifySeverity', () => {
  const input = playbookInput('severity', { rules: [shellRule] });
  input.severity = {
    default: 'P3',
    reason: 'Limited.',
    rules: [
      { when: { affectedNodesAtLeast: 2 }, severity: 'P1', reason: 'Several nodes.' },
      { when: { priorityAtLeast: 'Critical' }, severity: 'P2', reason: 'Critical.' },
    ],
  };
  const severityPlaybook = playbookSchema.parse(input);

  test('default applies when no rule holds', () => {
    expect(classifySeverity(alert(), severityPlaybook)).toEqual({ severity: 'P3', reason: 'Limited.' });
  });

  test('first rule that holds wins', () => {
    const critical = alert({ priority: 'Critical' });

    expect(classifySeverity(critical, severityPlaybook)).toEqual({ severity: 'P2', reason: 'Critical.', ruleIndex: 1 });
    expect(classifySeverity(critical, severityPlaybook, { affectedNodes: 3 })).toEqual({
      severity: 'P1',
      reason: 'Several nodes.',
      ruleIndex: 0,
    });
  });

  test('worse sender hint raises the severity', () => {
    const classification = classifySeverity(alert({ severityHint: 'P1' }), severityPlaybook);

    expect(classification.severity).toBe('P1');
    expect(classification.reason).toBe('the sender marked the alert P1, worse than P3');
  });

  test('milder sender hint never lowers the severity', () => {
    expect(classifySeverity(alert({ priority: 'Critical', severityHint: 'P3' }), severityPlaybook).severity).toBe('P2');
  });

  test('senderHint ignore keeps the playbook severity', () => {
    const ignoring = playbookSchema.parse({ ...input, severity: { ...input.severity, senderHint: 'ignore' } });

    expect(classifySeverity(alert({ severityHint: 'P0' }), ignoring).severity).toBe('P3');
  });
});

describe('findOverlaps', () => {
  test('same exact rule and absent namespaces overlap', () => {
    const overlaps = findOverlaps([
      playbook('a', { rules: [shellRule] }),
      playbook('b', { rules: [shellRule, 'Other'] }),
    ]);

    expect(overlaps).toHaveLength(1);
    expect(overlaps[0]?.example).toBe(`rule "${shellRule}"`);
  });

  test('same rule in different namespaces does not overlap', () => {
    const first = playbook('a', { rules: [shellRule], namespaces: ['shop-prod'] });
    const second = playbook('b', { rules: [shellRule], namespaces: ['shop-dev'] });

    expect(findOverlaps([first, second])).toEqual([]);
  });

  test('shared namespace and exact rule accepted by a pattern overlap', () => {
    const first = playbook('a', { rules: [shellRule, { regex: '^Drop' }], namespaces: ['shop-prod', 'shop-dev'] });
    const second = playbook('b', {
      rules: ['Drop and execute new binary in container', { regex: 'x' }],
      namespaces: ['shop-dev'],
    });

    const [overlap] = findOverlaps([first, second]);
    expect(overlap?.example).toBe('rule "Drop and execute new binary in container", namespace shop-dev');
  });

  test('different specificity never overlaps', () => {
    const first = playbook('a', { rules: [shellRule] });
    const second = playbook('b', { rules: [shellRule], namespaces: ['shop-prod'] });

    expect(findOverlaps([first, second])).toEqual([]);
  });

  test('conflicting labels do not overlap', () => {
    const first = playbook('a', { rules: [shellRule], labels: { app: 'checkout' } });
    const second = playbook('b', { rules: [shellRule], labels: { app: 'catalog' } });

    expect(findOverlaps([first, second])).toEqual([]);
  });

  test('two catch-all playbooks overlap on every alert', () => {
    const [overlap] = findOverlaps([playbook('a'), playbook('b')]);

    expect(overlap?.example).toBe('every alert');
  });

  test('playbooks that differ only in exclusions overlap', () => {
    const first = playbook('a', { rules: [shellRule] });
    const second = playbook('b', { rules: [shellRule], exclude: [{ namespaces: ['kube-system'] }] });

    expect(findOverlaps([first, second]).map((overlap) => overlap.example)).toEqual([`rule "${shellRule}"`]);
  });

  test('identical regex matchers overlap whatever the flag order', () => {
    const first = playbook('a', { rules: [{ regex: '^Drop', flags: 'is' }] });
    const second = playbook('b', { rules: [{ regex: '^Drop', flags: 'si' }] });

    expect(findOverlaps([first, second]).map((overlap) => overlap.example)).toEqual([
      'rule text matching regex "^Drop" (flags is)',
    ]);
  });

  test('hostile exact rule against a regex is checked in linear time', () => {
    const first = playbook('a', { rules: [{ regex: '((a+))+$' }] });
    const second = playbook('b', { rules: [{ regex: 'zzz' }, `${'a'.repeat(4000)}!`] });

    const startedMs = performance.now();
    const overlaps = findOverlaps([first, second]);
    expect(performance.now() - startedMs).toBeLessThan(1000);
    expect(overlaps).toEqual([]);
  });
});
