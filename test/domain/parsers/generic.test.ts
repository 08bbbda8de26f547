import { AlertBodyError } from '../../../domain/parsers/common';
import { parseGenericBody } from '../../../domain/parsers/generic';

const base = { detector: 'trivy', rule: 'CVE-2024-3094', priority: 'critical', time: '2026-03-14T15:10:00Z' };

test('generic alert is normalised', () => {
  const text = JSON.stringify({ ...base, timeNs: 0, target: { node: 'n1' } }).replace(
    '"timeNs":0',
    '"timeNs":1773501000000000001',
  );
  const [alert] = parseGenericBody(text, 'json');

  expect(alert?.source).toBe('generic');
  expect(alert?.priority).toBe('Critical');
  expect(alert?.eventTimeNs).toBe('1773501000000000001');
  expect(alert?.hostScoped).toBe(true);
  expect(alert?.fields).toEqual({ detector: 'trivy' });
  expect(alert?.id).toMatch(/^generic-[0-9a-f]{32}$/);
});

test('unknown priority is rejected with its path', () => {
  const parse = () => parseGenericBody(JSON.stringify({ ...base, priority: 'Urgent' }), 'json');

  expect(parse).toThrow(AlertBodyError);
  expect(parse).toThrow(/priority: unknown priority "Urgent"/);
});

test('bad workload format is rejected', () => {
  const parse = () => parseGenericBody(JSON.stringify({ ...base, target: { workload: 'checkout' } }), 'json');

  expect(parse).toThrow(/target\.workload: expected Kind\/name/);
});

test('host alert without node is rejected', () => {
  const parse = () => parseGenericBody(JSON.stringify([base, { ...base, target: { containerId: 'host' } }]), 'json');

  expect(parse).toThrow(/1\.target\.node: missing on a host alert/);
});

test('detector is the sender', () => {
  const [alert] = parseGenericBody(JSON.stringify(base), 'json');

  expect(alert?.sender).toBe('trivy');
});
