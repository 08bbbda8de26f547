import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceHost, parseAlertmanagerBody } from '../../../domain/parsers/alertmanager';
import { AlertBodyError } from '../../../domain/parsers/common';

const fixture = (name: string): string => readFileSync(join(__dirname, '..', '..', 'intake', 'fixtures', name), 'utf8');

test('group is split into alerts', () => {
  const alerts = parseAlertmanagerBody(fixture('alertmanager-falco-via-sidekick.json'));

  expect(alerts.map((alert) => alert.target.pod)).toEqual([
    'catalog-svc-6f4b8d9c7-pq8rn',
    'catalog-svc-6f4b8d9c7-zz4kd',
  ]);
  expect(alerts.map((alert) => alert.target.node)).toEqual([
    'ip-10-0-47-201.eu-west-1.compute.internal',
    'ip-10-0-12-34.eu-west-1.compute.internal',
  ]);
  expect(alerts[0]?.tags).toEqual([
    'PCI_DSS_11.5.1',
    'TA0003',
    'container',
    'maturity_stable',
    'mitre_persistence',
    'process',
  ]);
  expect(alerts[0]?.process.exePath).toBe('/tmp/.x/kworkerd');
});

test('resolved alert keeps its own status and id', () => {
  const [alert] = parseAlertmanagerBody(fixture('alertmanager-prometheus-resolved.json'));

  expect(alert?.status).toBe('resolved');
  expect(alert?.id).toBe('am-9d0b2c4e6f813a57-2026-03-14T14:45:30.482Z-resolved');
  expect(alert?.eventTime).toBe('2026-03-14T15:20:30.482Z');
  expect(alert?.rule).toBe('FalcoCriticalEventsBurst');
  expect(alert?.fields['annotations.runbook_url']).toBe(
    'https://runbooks.example.internal/security/falco-critical-burst',
  );
});

test('status is read per alert', () => {
  const body = JSON.parse(fixture('case-alertmanager-mixed-status-group.json')).body;
  const alerts = parseAlertmanagerBody(JSON.stringify(body));

  expect(alerts.map((alert) => alert.status)).toEqual(['firing', 'resolved']);
  expect(alerts.map((alert) => alert.group?.truncatedAlerts)).toEqual([2, 2]);
  expect(alerts[0]?.priority).toBe('Critical');
});

test('severity label maps to a priority', () => {
  const body = JSON.parse(fixture('case-alertmanager-duplicate-deliveries.json')).deliveries[0].body;
  const [alert] = parseAlertmanagerBody(JSON.stringify(body));

  expect(alert?.priority).toBe('Error');
  expect(alert?.target).toEqual({ namespace: 'payments', pod: 'ledger-0' });
});

test('wrong version is rejected with its path', () => {
  const body = { ...JSON.parse(fixture('alertmanager-prometheus-resolved.json')), version: '3' };

  expect(() => parseAlertmanagerBody(JSON.stringify(body))).toThrow(AlertBodyError);
  expect(() => parseAlertmanagerBody(JSON.stringify(body))).toThrow(/version/);
});

test('alert without alertname is rejected', () => {
  const body = JSON.parse(fixture('alertmanager-prometheus-resolved.json'));
  delete body.alerts[0].labels.alertname;
  delete body.alerts[0].labels.rule;

  expect(() => parseAlertmanagerBody(JSON.stringify(body))).toThrow(/alerts\.0\.labels\.alertname/);
});

function webhook(labels: Record<string, string>): string {
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{}',
    status: 'firing',
    receiver: 'firebreak',
    alerts: [{ status: 'firing', labels, startsAt: '2026-03-14T15:00:00Z' }],
  });
}

test('instance gives the node of a pod-less alert', () => {
  const [alert] = parseAlertmanagerBody(webhook({ alertname: 'NodeRootShell', instance: 'node-a:9100', job: 'node' }));

  expect(alert?.hostScoped).toBe(true);
  expect(alert?.target).toEqual({ node: 'node-a' });
  expect(alert?.sender).toBe('node');
});

test('instance is not a node when a pod is named', () => {
  const [alert] = parseAlertmanagerBody(
    webhook({ alertname: 'HighErrors', namespace: 'shop', pod: 'web-0', instance: '10.1.2.3:8080' }),
  );

  expect(alert?.hostScoped).toBe(false);
  expect(alert?.target.node).toBeUndefined();
});

test('instanceHost strips the port', () => {
  expect(instanceHost('node-a:9100')).toBe('node-a');
  expect(instanceHost('[fd00::1]:9100')).toBe('fd00::1');
  expect(instanceHost('node-a')).toBe('node-a');
  expect(instanceHost(undefined)).toBeUndefined();
});

test('host alert without node is rejected with the label path', () => {
  const parse = () => parseAlertmanagerBody(webhook({ alertname: 'HostShell', container_id: 'host' }));

  expect(parse).toThrow(AlertBodyError);
  expect(parse).toThrow(/alerts\.0\.labels\.node: missing on a host alert/);
});
