import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { z } from 'zod';
import { intakeToken, startIntakeHarness, type IntakeHarness } from './harness';

const terminalShell = readFileSync(join(__dirname, 'fixtures', 'falcosidekick-terminal-shell.json'), 'utf8');
const maxBodyBytes = 64 * 1024;

const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});

const requestTimeoutMs = 1000;
/** Every line the intake logged, as JSON text. */
const logLines: string[] = [];

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness({
    limits: { maxBodyBytes, requestTimeoutMs },
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
  });
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

const recordSchema = z
  .object({
    reason: z.string(),
    body: z.string().optional(),
    bodyBase64: z.string().optional(),
    bodyBytes: z.number().optional(),
    bodySha256: z.string().optional(),
    bodyTruncated: z.boolean().optional(),
  })
  .loose();

function deadLetters(): (z.infer<typeof recordSchema> & { file: string })[] {
  return readdirSync(intake.deadLetterDir).map((name) => {
    const file = join(intake.deadLetterDir, name);
    return { ...recordSchema.parse(JSON.parse(readFileSync(file, 'utf8'))), file };
  });
}

/**
 * Sends the headers and then a few body bytes every 200 ms, never the whole body, and reports the status the
 * intake returned (0 when it closed the connection without one) and the time until then.
 */
function trickleBody(path: string): Promise<{ status: number; elapsedMs: number }> {
  const startedMs = Date.now();
  const url = new URL(path, intake.url);
  const headers = {
    authorization: `Bearer ${intakeToken}`,
    'content-type': 'application/json',
    'content-length': '1000',
  };
  return new Promise((resolve) => {
    const request = httpRequest(url, { method: 'POST', headers });
    const timer = setInterval(() => request.write('{"a": 1, '), 200);
    const finish = (status: number) => {
      clearInterval(timer);
      resolve({ status, elapsedMs: Date.now() - startedMs });
      request.destroy();
    };
    request.on('response', (response) => {
      response.resume();
      finish(response.statusCode ?? 0);
    });
    request.on('error', () => finish(0));
    request.on('close', () => finish(0));
    request.flushHeaders();
  });
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

describe('unreadable bodies', () => {
  test('gzip body gets 415', async () => {
    const response = await fetch(`${intake.url}/v1/alerts/falco`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${intakeToken}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(terminalShell),
    });

    expect(response.status).toBe(415);
    expect(errorSchema.parse(await response.json()).message).toMatch(/compressed bodies are not accepted/);
  });

  test('non-UTF-8 charset gets 415', async () => {
    const response = await intake.post('/v1/alerts/falco', terminalShell, {
      'content-type': 'application/json; charset=ISO-8859-1',
    });

    expect(response.status).toBe(415);
    expect(errorSchema.parse(await response.json()).message).toMatch(/charset iso-8859-1 is not supported/);
  });

  test('UTF-8 charset is accepted', async () => {
    const response = await intake.post('/v1/alerts/falco', terminalShell, {
      'content-type': 'application/json; charset="UTF-8"',
    });

    expect(response.status).toBe(202);
  });

  test('slow body times out', async () => {
    const { status, elapsedMs } = await trickleBody('/v1/alerts/falco');

    expect([0, 408]).toContain(status);
    expect(elapsedMs).toBeLessThan(requestTimeoutMs * 3);
  });
});

describe('records and logs', () => {
  test('dead-letter record of control bytes stays small', async () => {
    const body = `{"rule": "${'\u0001'.repeat(40_000)}"}`;
    const response = await intake.post('/v1/alerts/falco', body);

    expect(response.status).toBe(400);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const record = deadLetters().find((entry) => entry.bodySha256 === sha256);
    expect(record?.bodyBytes).toBe(Buffer.byteLength(body));
    expect(record?.bodyTruncated).toBe(false);
    expect(Buffer.from(record?.bodyBase64 ?? '', 'base64').toString('utf8')).toBe(body);
    expect(statSync(record?.file ?? '').size).toBeLessThan(Buffer.byteLength(body) * 1.5);
  });

  test('query string never reaches the log', async () => {
    const secret = 'query-secret-5d1e7a90b3c4';
    const response = await intake.post(`/v1/alerts/falco?token=${secret}`, terminalShell);

    expect(response.status).toBe(202);
    const urls = logLines.flatMap((line) => {
      const entry = z
        .object({ req: z.object({ url: z.string() }).optional() })
        .loose()
        .parse(JSON.parse(line));
      return entry.req ? [entry.req.url] : [];
    });
    expect(urls).toContain('/v1/alerts/falco');
    expect(logLines.join('\n')).not.toContain(secret);
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
