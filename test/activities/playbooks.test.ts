import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createPlaybookActivities } from '../../activities/playbooks';
import { testAlert } from '../workflows/support/fixtures';

const shippedDir = join(__dirname, '..', '..', 'playbooks');

test('selectPlaybook picks the shipped playbook that claims the alert', async () => {
  const { selectPlaybook } = createPlaybookActivities({ directory: shippedDir });

  const result = await selectPlaybook({ alert: testAlert() });

  expect(result.playbook.metadata.name).toBe('terminal-shell');
  expect(result.usedDefault).toBe(false);
  expect(result.severity).toBe('P2');
  expect(result.selectionReason).toContain('terminal-shell');
});

test('selectPlaybook reads the directory again for each incident', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'firebreak-playbooks-'));
  const text = readFileSync(join(shippedDir, 'terminal-shell.yaml'), 'utf8');
  writeFileSync(join(directory, 'terminal-shell.yaml'), text);
  const { selectPlaybook } = createPlaybookActivities({ directory });

  const before = await selectPlaybook({ alert: testAlert() });
  writeFileSync(join(directory, 'terminal-shell.yaml'), text.replace(/^ {2}version: \d+$/m, '  version: 42'));
  const after = await selectPlaybook({ alert: testAlert() });

  expect(before.playbook.metadata.version).not.toBe(42);
  expect(after.playbook.metadata.version).toBe(42);
});

test('selectPlaybook falls back to triage when a playbook is invalid', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'firebreak-playbooks-'));
  writeFileSync(join(directory, 'broken.yaml'), 'apiVersion: firebreak.dev/v1\nkind: Playbook\nmetadata: {nmae: x}\n');
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
  const { selectPlaybook } = createPlaybookActivities({ directory, logger });

  const result = await selectPlaybook({ alert: testAlert() });

  expect(logged.join('')).toContain('playbook directory invalid');
  expect(result.usedDefault).toBe(true);
  expect(result.selectionReason).toContain('invalid');
  expect(result.playbook.gates.isolate.P0.mode).not.toBe('auto');
});

test('selectPlaybook rejects input without an alert', async () => {
  const { selectPlaybook } = createPlaybookActivities({ directory: shippedDir });

  await expect(selectPlaybook({})).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
});
