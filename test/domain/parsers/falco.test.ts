import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertBodyError } from '../../../domain/parsers/common';
import { parseFalcoBody } from '../../../domain/parsers/falco';

const fixture = (name: string): string => readFileSync(join(__dirname, '..', '..', 'intake', 'fixtures', name), 'utf8');

const minimal = {
  rule: 'Read sensitive file untrusted',
  priority: 'warning',
  time: '2026-03-14T15:00:00.123456789Z',
  source: 'syscall',
  hostname: 'node-a',
  output_fields: { 'evt.time': 1, 'container.id': 'host' },
};

test('parseFalcoBody reads a Falcosidekick event', () => {
  const [alert] = parseFalcoBody(fixture('falcosidekick-terminal-shell.json'), 'json');

  expect(alert?.id).toBe('3f2c8a1e-9b7d-4c52-8e0f-6a1d2b3c4e5f');
  expect(alert?.eventTimeNs).toBe('1773498727418239105');
  expect(alert?.fields['user.loginuid']).toBe(-1);
  expect(alert?.target.pod).toBe('checkout-api-7c9d5f6b8-x2lqp');
});

test('parseFalcoBody keeps evt.time.iso8601 exact', () => {
  const [alert] = parseFalcoBody(fixture('falcosidekick-drop-and-exec-critical.json'), 'json');

  expect(alert?.eventTimeNs).toBe('1773499312903117422');
  expect(alert?.fields['proc.exe_ino.ctime']).toBe('1773499310512000000');
});

test('k8s_audit hostname is not the node', () => {
  const [alert] = parseFalcoBody(fixture('falco-http-output-k8saudit-attach-exec.json'), 'json');

  expect(alert?.target.node).toBeUndefined();
  expect(alert?.target.namespace).toBe('shop-prod');
});

test('k8s_audit deployment target names the workload', () => {
  const event = {
    ...minimal,
    source: 'k8s_audit',
    output_fields: { 'ka.target.resource': 'deployments', 'ka.target.name': 'web', 'ka.target.namespace': 'shop' },
  };
  const [alert] = parseFalcoBody(JSON.stringify(event), 'json');

  expect(alert?.target).toEqual({ namespace: 'shop', workload: 'Deployment/web' });
});

test('host event is scoped to its node', () => {
  const [alert] = parseFalcoBody(JSON.stringify(minimal), 'json');

  expect(alert?.hostScoped).toBe(true);
  expect(alert?.target).toEqual({ node: 'node-a', containerId: 'host' });
  expect(alert?.priority).toBe('Warning');
});

test('event without uuid gets a stable content id', () => {
  const [first] = parseFalcoBody(JSON.stringify(minimal), 'json');
  const [again] = parseFalcoBody(JSON.stringify(minimal, null, 2), 'json');
  const [other] = parseFalcoBody(JSON.stringify({ ...minimal, time: '2026-03-14T15:00:00.123456790Z' }), 'json');

  expect(first?.id).toBe(again?.id);
  expect(other?.id).not.toBe(first?.id);
});

test('NDJSON body yields one alert a line', () => {
  const text = `${JSON.stringify({ ...minimal, uuid: 'a' })}\n${JSON.stringify({ ...minimal, uuid: 'b' })}\n`;

  expect(parseFalcoBody(text, 'ndjson').map((alert) => alert.id)).toEqual(['a', 'b']);
});

test('invalid event lists every field path', () => {
  const parse = () =>
    parseFalcoBody(JSON.stringify([minimal, { ...minimal, rule: '', time: 'now', tags: 'x' }]), 'json');

  expect(parse).toThrow(AlertBodyError);
  try {
    parse();
  } catch (error) {
    const paths = error instanceof AlertBodyError ? error.issues.map((issue) => issue.path.join('.')) : [];
    expect(paths.sort()).toEqual(['1.rule', '1.tags', '1.time']);
  }
});

test('list fields are kept as JSON text', () => {
  const event = {
    ...minimal,
    source: 'k8s_audit',
    output_fields: {
      'ka.req.pod.containers.image': ['nginx', 'redis:7'],
      'ka.req.pod.host_port': [8080],
      'x.none': [],
    },
  };
  const [alert] = parseFalcoBody(JSON.stringify(event), 'json');

  expect(alert?.fields['ka.req.pod.containers.image']).toBe('["nginx","redis:7"]');
  expect(alert?.fields['ka.req.pod.host_port']).toBe('[8080]');
  expect(alert?.fields).not.toHaveProperty('x.none');
});

test('nested objects in output_fields are rejected', () => {
  const event = { ...minimal, output_fields: { 'x.nested': { a: 1 } } };

  expect(() => parseFalcoBody(JSON.stringify(event), 'json')).toThrow(/output_fields\.x\.nested/);
});

test.each([
  ['absent', undefined],
  ['<NA>', '<NA>'],
  ['empty', ''],
  ['null', null],
])('host event with %s hostname is rejected', (_case, hostname) => {
  const parse = () => parseFalcoBody(JSON.stringify([minimal, { ...minimal, hostname }]), 'json');

  expect(parse).toThrow(AlertBodyError);
  expect(parse).toThrow(/^invalid alert body: 1\.hostname: missing or unknown on a host event/);
});

test('pod event without hostname is accepted', () => {
  const event = { ...minimal, hostname: undefined, output_fields: { 'k8s.ns.name': 'shop', 'k8s.pod.name': 'web-0' } };
  const [alert] = parseFalcoBody(JSON.stringify(event), 'json');

  expect(alert?.hostScoped).toBe(false);
  expect(alert?.target).toEqual({ namespace: 'shop', pod: 'web-0' });
});
