import type { Alert } from '../../domain/alert';
import {
  fingerprintOf,
  incidentScopeOf,
  normaliseRuleName,
  ownerWorkloadOf,
  ruleFamilies,
  ruleFamilyOf,
} from '../../domain/fingerprint';

function alert(target: Alert['target'], overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'a',
    source: 'falco',
    rule: 'Terminal shell in container',
    priority: 'Notice',
    eventTime: '2026-03-14T14:32:07.418239105Z',
    status: 'firing',
    tags: [],
    mitre: { techniques: [], tactics: [] },
    target,
    process: {},
    fields: {},
    hostScoped: false,
    priorityRecognised: true,
    ...overrides,
  };
}

test('ownerWorkloadOf derives a Deployment from a pod name', () => {
  expect(ownerWorkloadOf({ pod: 'checkout-api-7c9d5f6b8-x2lqp' })).toEqual({
    workload: 'Deployment/checkout-api',
    derived: true,
  });
  expect(ownerWorkloadOf({ pod: 'ledger-0' })).toBeUndefined();
  expect(ownerWorkloadOf({ pod: 'web-abcde' })).toBeUndefined();
  expect(ownerWorkloadOf({ pod: 'checkout-api-7c9d5f6b8-x2lqp', workload: 'StatefulSet/x' })).toEqual({
    workload: 'StatefulSet/x',
    derived: false,
  });
});

test('pods of one Deployment share a fingerprint', () => {
  const first = alert({ namespace: 'shop', pod: 'checkout-api-7c9d5f6b8-x2lqp' });
  const second = alert({ namespace: 'shop', pod: 'checkout-api-7c9d5f6b8-zz4kd' }, { id: 'b' });

  expect(fingerprintOf(first)).toBe(fingerprintOf(second));
  expect(fingerprintOf(first)).toMatch(/^[0-9a-f]{16}$/);
});

test('cluster, namespace and rule family split incidents', () => {
  const base = alert({ namespace: 'shop', pod: 'checkout-api-7c9d5f6b8-x2lqp' });

  expect(fingerprintOf(alert({ ...base.target, cluster: 'other' }))).not.toBe(fingerprintOf(base));
  expect(fingerprintOf(alert({ ...base.target, namespace: 'staging' }))).not.toBe(fingerprintOf(base));
  expect(fingerprintOf(alert(base.target, { rule: 'Write below etc' }))).not.toBe(fingerprintOf(base));
  expect(fingerprintOf(alert(base.target, { rule: 'terminal SHELL in container!' }))).toBe(fingerprintOf(base));
});

test('host events are scoped to their node', () => {
  const onNodeA = alert({ node: 'node-a' }, { hostScoped: true });
  const onNodeB = alert({ node: 'node-b' }, { hostScoped: true });

  expect(incidentScopeOf(onNodeA)).toBe('node:node-a');
  expect(fingerprintOf(onNodeA)).not.toBe(fingerprintOf(onNodeB));
});

test('normaliseRuleName folds case and punctuation', () => {
  expect(normaliseRuleName('Attach/Exec Pod')).toBe('attach-exec-pod');
  expect(normaliseRuleName('  Drop and execute new binary in container ')).toBe(
    'drop-and-execute-new-binary-in-container',
  );
});

test('normaliseRuleName keeps letters of any script', () => {
  expect(normaliseRuleName('Подозрительный процесс')).toBe('подозрительный-процесс');
  expect(normaliseRuleName('不審なシェル')).toBe('不審なシェル');
  expect(normaliseRuleName('Ｔｅｒｍｉｎａｌ ｓｈｅｌｌ')).toBe('terminal-shell');
  expect(normaliseRuleName('Подозрительный процесс')).not.toBe(normaliseRuleName('Чтение секретов'));
});

test('normaliseRuleName hashes a rule without letters', () => {
  expect(normaliseRuleName('!!!')).toMatch(/^rule-[0-9a-f]{16}$/);
  expect(normaliseRuleName('!!!')).not.toBe(normaliseRuleName('???'));
  expect(normaliseRuleName('!!!')).toBe(normaliseRuleName('！！！'));
});

test('ruleFamilyOf is the normalised name outside the family table', () => {
  expect(ruleFamilyOf('Attach/Exec Pod')).toBe('attach-exec-pod');
  expect(ruleFamilyOf('Write below etc')).toBe('write-below-etc');
  expect(ruleFamilyOf('Подозрительный процесс')).toBe('подозрительный-процесс');
  expect(ruleFamilyOf('!!!')).toBe(normaliseRuleName('!!!'));
});

test('ruleFamilyOf groups workload compromise rules', () => {
  const rules = [
    'Terminal shell in container',
    'Drop and execute new binary in container',
    'Detect crypto miners using the Stratum protocol',
    'Detect outbound connections to common miner pool ports',
    'Redirect STDOUT/STDIN to Network Connection in Container',
    'Container Drift Detected (open+create)',
  ];

  for (const rule of rules) {
    expect(ruleFamilyOf(rule)).toBe('workload-compromise');
  }
});

test('ruleFamilyOf matches family rules in any spelling', () => {
  expect(ruleFamilyOf('terminal SHELL in container!')).toBe('workload-compromise');
  expect(ruleFamilyOf('Ｔｅｒｍｉｎａｌ ｓｈｅｌｌ ｉｎ ｃｏｎｔａｉｎｅｒ')).toBe('workload-compromise');
  expect(ruleFamilyOf('Terminal shell in container (custom)')).toBe('terminal-shell-in-container-custom');
});

test('family table lists each rule once', () => {
  const names = Object.values(ruleFamilies).flatMap((rules) => rules.map(normaliseRuleName));

  expect(new Set(names).size).toBe(names.length);
});

test('shell, dropped binary and miner on one pod share a fingerprint', () => {
  const target = { namespace: 'shop-prod', pod: 'checkout-api-7c9d5f6b8-x2lqp' };
  const shell = alert(target, { rule: 'Terminal shell in container', priority: 'Notice' });
  const dropped = alert(target, { id: 'b', rule: 'Drop and execute new binary in container', priority: 'Critical' });
  const miner = alert(target, { id: 'c', rule: 'Detect crypto miners using the Stratum protocol' });

  expect(fingerprintOf(dropped)).toBe(fingerprintOf(shell));
  expect(fingerprintOf(miner)).toBe(fingerprintOf(shell));
});

test('family rules on two workloads stay apart', () => {
  const shell = alert({ namespace: 'shop-prod', pod: 'checkout-api-7c9d5f6b8-x2lqp' });
  const miner = alert(
    { namespace: 'shop-prod', pod: 'catalog-svc-6f4b8d9c7-pq8rn' },
    { id: 'b', rule: 'Detect crypto miners using the Stratum protocol' },
  );

  expect(fingerprintOf(miner)).not.toBe(fingerprintOf(shell));
});

test('family rule and other rule on one pod stay apart', () => {
  const target = { namespace: 'shop-prod', pod: 'checkout-api-7c9d5f6b8-x2lqp' };
  const shell = alert(target);
  const secrets = alert(target, { id: 'b', rule: 'Read sensitive file untrusted' });

  expect(fingerprintOf(secrets)).not.toBe(fingerprintOf(shell));
});

test('untargeted alerts are scoped by source and sender', () => {
  const fromA = alert({}, { source: 'generic', sender: 'detector-a' });
  const fromB = alert({}, { source: 'generic', sender: 'detector-b' });
  const fromAlertmanager = alert({}, { source: 'alertmanager', sender: 'detector-a' });

  expect(incidentScopeOf(fromA)).toBe('sender:generic/detector-a');
  expect(fingerprintOf(fromA)).not.toBe(fingerprintOf(fromB));
  expect(fingerprintOf(fromA)).not.toBe(fingerprintOf(fromAlertmanager));
});

test('host event without a node is never scoped to all nodes', () => {
  const withoutNode = alert({ containerId: 'host' }, { hostScoped: true, sender: 'syscall' });

  expect(incidentScopeOf(withoutNode)).toBe('sender:falco/syscall');
});
