import type { Alert } from '../../domain/alert';
import { fingerprintOf, incidentScopeOf, ownerWorkloadOf, ruleFamilyOf } from '../../domain/fingerprint';

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

test('ruleFamilyOf folds case and punctuation', () => {
  expect(ruleFamilyOf('Attach/Exec Pod')).toBe('attach-exec-pod');
  expect(ruleFamilyOf('  Drop and execute new binary in container ')).toBe('drop-and-execute-new-binary-in-container');
});

test('ruleFamilyOf keeps letters of any script', () => {
  expect(ruleFamilyOf('Подозрительный процесс')).toBe('подозрительный-процесс');
  expect(ruleFamilyOf('不審なシェル')).toBe('不審なシェル');
  expect(ruleFamilyOf('Ｔｅｒｍｉｎａｌ ｓｈｅｌｌ')).toBe('terminal-shell');
  expect(ruleFamilyOf('Подозрительный процесс')).not.toBe(ruleFamilyOf('Чтение секретов'));
});

test('ruleFamilyOf hashes a rule without letters', () => {
  expect(ruleFamilyOf('!!!')).toMatch(/^rule-[0-9a-f]{16}$/);
  expect(ruleFamilyOf('!!!')).not.toBe(ruleFamilyOf('???'));
  expect(ruleFamilyOf('!!!')).toBe(ruleFamilyOf('！！！'));
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
