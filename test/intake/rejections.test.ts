import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import { intakeToken, startIntakeHarness, type IntakeHarness } from './harness';

const terminalShell = readFileSync(join(__dirname, 'fixtures', 'falcosidekick-terminal-shell.json'), 'utf8');
const maxBodyBytes = 64 * 1024;

const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness({ limits: { maxBodyBytes } });
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

function deadLetters(): { reason: string; body?: string }[] {
  const recordSchema = z.object({ reason: z.string(), body: z.string().optional() }).loose();
  return readdirSync(intake.deadLetterDir).map((file) =>
    recordSchema.parse(JSON.parse(readFileSync(join(intake.deadLetterDir, file), 'utf8'))),
  );
}

/**
 * Sends headers that announce a large body, then waits for the response without sending the body, so the
 * test shows the intake responded before reading it.
 */
function statusBeforeBody(path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(path, intake.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    request.on('error', reject);
    request.flushHeaders();
  });
}

describe('authentication', () => {
  test('missing token gets 401', async () => {
    const response = await fetch(`${intake.url}/v1/alerts/falco`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: terminalShell,
    });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="firebreak"');
  });

  test('wrong token gets 401', async () => {
    const response = await intake.post('/v1/alerts/falco', terminalShell, { authorization: `Bearer ${intakeToken}x` });

    expect(response.status).toBe(401);
  });

  test('non-bearer scheme gets 401', async () => {
    const response = await intake.post('/v1/alerts/falco', terminalShell, { authorization: `Basic ${intakeToken}` });

    expect(response.status).toBe(401);
  });

  test('401 comes before the body is read', async () => {
    const status = await statusBeforeBody('/v1/alerts/falco', {
      'content-type': 'application/json',
      'content-length': String(maxBodyBytes / 2),
    });

    expect(status).toBe(401);
  });
});

describe('body limits and types', () => {
  test('oversized body gets 413 before it is read', async () => {
    const status = await statusBeforeBody('/v1/alerts/falco', {
      authorization: `Bearer ${intakeToken}`,
      'content-type': 'application/json',
      'content-length': String(maxBodyBytes * 4),
    });

    expect(status).toBe(413);
  });

  test('oversized posted body gets 413', async () => {
    const padding = 'x'.repeat(maxBodyBytes);
    const response = await intake.post('/v1/alerts/falco', JSON.stringify({ padding }));

    expect(response.status).toBe(413);
    expect(errorSchema.parse(await response.json()).error).toBe('too_large');
  });

  test('wrong content type gets 415', async () => {
    const response = await intake.post('/v1/alerts/falco', terminalShell, { 'content-type': 'text/plain' });

    expect(response.status).toBe(415);
    expect(errorSchema.parse(await response.json()).error).toBe('unsupported_media_type');
  });

  test('NDJSON to Alertmanager gets 415', async () => {
    const response = await intake.post('/v1/alerts/alertmanager', '{}\n{}\n', {
      'content-type': 'application/x-ndjson',
    });

    expect(response.status).toBe(415);
  });
});

describe('invalid bodies', () => {
  test('malformed JSON gets 400', async () => {
    const response = await intake.post('/v1/alerts/falco', '{"rule": "x",');

    expect(response.status).toBe(400);
    const answer = errorSchema.parse(await response.json());
    expect(answer.issues?.[0]?.path).toEqual([]);
    expect(answer.issues?.[0]?.message).toMatch(/body is not valid JSON/);
  });

  test('schema violation names the field path', async () => {
    const body = JSON.parse(terminalShell);
    body.time = 'yesterday';
    delete body.rule;
    const response = await intake.post('/v1/alerts/falco', JSON.stringify([JSON.parse(terminalShell), body]));

    expect(response.status).toBe(400);
    const paths = errorSchema.parse(await response.json()).issues?.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['1.rule', '1.time']));
  });

  test('NDJSON error names the line', async () => {
    const body = `${terminalShell.replace(/\n/g, '')}\n{"rule": \n`;
    const response = await intake.post('/v1/alerts/falco', body, { 'content-type': 'application/x-ndjson' });

    expect(response.status).toBe(400);
    const answer = errorSchema.parse(await response.json());
    expect(answer.issues?.[0]?.path).toEqual([1]);
    expect(answer.issues?.[0]?.message).toMatch(/^line 2 is not valid JSON/);
  });

  test('Alertmanager alert status path is named', async () => {
    const body = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'alertmanager-prometheus-resolved.json'), 'utf8'));
    body.alerts[0].status = 'pending';
    const response = await intake.post('/v1/alerts/alertmanager', JSON.stringify(body));

    expect(response.status).toBe(400);
    const paths = errorSchema.parse(await response.json()).issues?.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(['alerts.0.status']);
  });

  test('generic alert with a misspelt key names it', async () => {
    const body = {
      detector: 'trivy',
      rule: 'CVE-2024-3094',
      priority: 'critical',
      time: '2026-03-14T14:00:00Z',
      targt: {},
    };
    const response = await intake.post('/v1/alerts', JSON.stringify(body));

    expect(response.status).toBe(400);
    const issues = errorSchema.parse(await response.json()).issues ?? [];
    expect(issues.map((issue) => issue.message).join(' ')).toMatch(/targt/);
  });

  test('dead-letter records keep the body and never the token', async () => {
    const body = JSON.stringify({ rule: 'leak', note: `Bearer ${intakeToken}` });
    await intake.post('/v1/alerts/falco', body);

    const record = deadLetters().find((entry) => entry.body?.includes('"rule":"leak"'));
    expect(record?.reason).toBe('invalid_body');
    expect(record?.body).toContain('[redacted]');
    const everything = readdirSync(intake.deadLetterDir)
      .map((file) => readFileSync(join(intake.deadLetterDir, file), 'utf8'))
      .join('\n');
    expect(everything).not.toContain(intakeToken);
  });
});

describe('probes', () => {
  test('healthz and readyz need no token', async () => {
    const health = await fetch(`${intake.url}/healthz`);
    const ready = await fetch(`${intake.url}/readyz`);

    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
  });

  test('metrics count rejections', async () => {
    await intake.post('/v1/alerts/falco', terminalShell, { authorization: 'Bearer nope' });
    const metrics = await (await fetch(`${intake.url}/metrics`)).text();

    expect(metrics).toMatch(/firebreak_intake_rejections_total\{reason="unauthorized"\} [1-9]/);
    expect(metrics).toMatch(/firebreak_intake_requests_total\{route="\/v1\/alerts\/falco",status="401"\} [1-9]/);
  });
});
