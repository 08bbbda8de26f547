import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { guessSource, registerAlertCommands, sendAlertFile } from '../../cli/commands/alert';
import { intakeToken, startIntakeHarness, type IntakeHarness } from './harness';

const fixture = (name: string): string => join(__dirname, 'fixtures', name);

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness();
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

test('alert send posts a Falco file', async () => {
  const result = await sendAlertFile({
    file: fixture('falcosidekick-terminal-shell.json'),
    url: intake.url,
    token: intakeToken,
  });

  expect(result.status).toBe(202);
  const answer = z.object({ workflowId: z.string(), accepted: z.number() }).parse(result.body);
  expect(answer.accepted).toBe(1);
  expect((await intake.status(answer.workflowId)).alertIds).toEqual(['3f2c8a1e-9b7d-4c52-8e0f-6a1d2b3c4e5f']);
});

test('alert send reports a wrong token', async () => {
  const result = await sendAlertFile({
    file: fixture('falcosidekick-terminal-shell.json'),
    url: intake.url,
    token: 'wrong',
  });

  expect(result.status).toBe(401);
});

test('alert send command fails on 4xx', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'firebreak-cli-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${intakeToken}\n`);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"rule": 1}');
  const program = new Command('firebreak').exitOverride();
  registerAlertCommands(program);

  const run = program.parseAsync(['alert', 'send', bad, '--url', intake.url, '--token-file', tokenFile], {
    from: 'user',
  });

  await expect(run).rejects.toThrow('the intake responded with HTTP 400');
});

test('guessSource reads the body shape', () => {
  expect(guessSource('{"version":"4","alerts":[]}')).toBe('alertmanager');
  expect(guessSource('[{"detector":"trivy"}]')).toBe('generic');
  expect(guessSource('{"detector":"x"}\n{"detector":"y"}\n')).toBe('generic');
  expect(guessSource('{"rule":"x","output_fields":{}}')).toBe('falco');
  expect(guessSource('not json')).toBe('falco');
});
