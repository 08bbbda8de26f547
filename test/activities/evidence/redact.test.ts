import {
  REDACTED,
  redactEnvironment,
  redactJson,
  redactText,
  secretEnvFromPod,
} from '../../../activities/evidence/redact';

const jwt =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImV4YW1wbGUifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpkZWZhdWx0In0.c2lnbmF0dXJlLWV4YW1wbGU';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'checkout-7d9f8b6c5-x2k4q',
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        spec: { containers: [{ name: 'app', env: [{ name: 'DB_PASSWORD', value: 'hunter2-literal' }] }] },
      }),
    },
  },
  spec: {
    containers: [
      {
        name: 'app',
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'PAYMENT_API', valueFrom: { secretKeyRef: { name: 'payment', key: 'api' } } },
          { name: 'STRIPE_TOKEN', value: 'sk_test_example_literal' },
        ],
        envFrom: [{ secretRef: { name: 'checkout-env' } }],
      },
    ],
  },
};

describe('redaction', () => {
  test('secretEnvFromPod finds secretKeyRef names and envFrom Secrets', () => {
    const context = secretEnvFromPod(pod);
    expect([...context.secretEnvNames]).toEqual(['PAYMENT_API']);
    expect(context.literalEnvNames.has('LOG_LEVEL')).toBe(true);
    expect(context.hasSecretEnvFrom).toBe(true);
  });

  test('redactJson hides literal env values with secret names', () => {
    const copy = JSON.stringify(redactJson(pod, secretEnvFromPod(pod)));
    expect(copy).not.toContain('sk_test_example_literal');
    expect(copy).toContain('"value":"info"');
  });

  test('redactJson redacts JSON held in annotations', () => {
    const copy = JSON.stringify(redactJson(pod, secretEnvFromPod(pod)));
    expect(copy).not.toContain('hunter2-literal');
  });

  test('redactJson keeps Secret references readable', () => {
    const copy = JSON.stringify(redactJson(pod, secretEnvFromPod(pod)));
    expect(copy).toContain('"secretKeyRef":{"name":"payment","key":"api"}');
    expect(copy).toContain('"secretRef":{"name":"checkout-env"}');
  });

  test('redactJson hides sensitive keys and Secret data', () => {
    const value = redactJson({
      auth: { accessToken: 'abc123', password: 'p', apiKey: 'k', key: 'app.kubernetes.io/name' },
      secret: { kind: 'Secret', data: { tls: 'c2VjcmV0' } },
    });
    expect(value).toEqual({
      auth: { accessToken: REDACTED, password: REDACTED, apiKey: REDACTED, key: 'app.kubernetes.io/name' },
      secret: { kind: 'Secret', data: { tls: REDACTED } },
    });
  });

  test('redactText hides JWTs and Authorization values', () => {
    const text = `GET /api curl -H "Authorization: Bearer ${jwt}" token=${jwt}`;
    const redacted = redactText(text);
    expect(redacted).not.toContain('eyJ');
    expect(redacted).toContain('Authorization: Bearer [REDACTED]');
  });

  test('redactText hides flag and query secrets', () => {
    const redacted = redactText('mysql --password=hunter2 -u root; curl https://x.example/?api_key=abc&page=2');
    expect(redacted).not.toContain('hunter2');
    expect(redacted).not.toContain('abc&');
    expect(redacted).toContain('page=2');
  });

  test('redactText leaves ordinary words alone', () => {
    expect(redactText('top-secret stuff happened at 12:00')).toBe('top-secret stuff happened at 12:00');
  });

  test('redactEnvironment hides secret variables in /proc environ', () => {
    const environ = [
      'PATH=/usr/bin',
      'LOG_LEVEL=info',
      'PAYMENT_API=live-key',
      'FROM_ENVFROM=value',
      'HOME=/root',
    ].join('\0');
    const redacted = redactEnvironment(environ, secretEnvFromPod(pod)).split('\0');
    expect(redacted).toEqual([
      'PATH=/usr/bin',
      'LOG_LEVEL=info',
      `PAYMENT_API=${REDACTED}`,
      `FROM_ENVFROM=${REDACTED}`,
      'HOME=/root',
    ]);
  });

  test('redactEnvironment keeps unknown names when no envFrom Secret exists', () => {
    const context = secretEnvFromPod({ spec: { containers: [{ name: 'app' }] } });
    expect(redactEnvironment('FEATURE=on\nGITHUB_TOKEN=ghp_example\n', context)).toBe(
      `FEATURE=on\nGITHUB_TOKEN=${REDACTED}\n`,
    );
  });
});
