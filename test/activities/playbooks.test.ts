import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createPlaybookActivities } from '../../activities/playbooks';
import { loadPlaybooks } from '../../cli/playbooks/loader';
import type { Playbook } from '../../domain/playbook';
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

/** Creates a playbook directory with a copy of the shipped terminal-shell playbook; returns it and the text. */
function copiedPlaybookDirectory(): { directory: string; file: string; text: string } {
  const directory = mkdtempSync(join(tmpdir(), 'firebreak-playbooks-'));
  const text = readFileSync(join(shippedDir, 'terminal-shell.yaml'), 'utf8');
  const file = join(directory, 'terminal-shell.yaml');
  writeFileSync(file, text);
  return { directory, file, text };
}

/** Wraps the real loader so a test can count how often the directory is read and validated. */
function countingLoader(): { loads: () => number; loadPlaybooks: (directory: string) => Promise<Playbook[]> } {
  let count = 0;
  return {
    loads: () => count,
    loadPlaybooks: async (directory) => {
      count += 1;
      return loadPlaybooks(directory);
    },
  };
}

test('selectPlaybook loads an unchanged directory once', async () => {
  const { directory } = copiedPlaybookDirectory();
  const loader = countingLoader();
  const { selectPlaybook } = createPlaybookActivities({ directory, loadPlaybooks: loader.loadPlaybooks });

  const results = await Promise.all([1, 2, 3].map(() => selectPlaybook({ alert: testAlert() })));
  await selectPlaybook({ alert: testAlert() });

  expect(loader.loads()).toBe(1);
  expect(results.map((result) => result.playbook.metadata.name)).toEqual(Array(3).fill('terminal-shell'));
});

test('selectPlaybook reloads a file rewritten at the same size', async () => {
  const { directory, file, text } = copiedPlaybookDirectory();
  const { selectPlaybook } = createPlaybookActivities({ directory });
  const before = await selectPlaybook({ alert: testAlert() });
  const version = before.playbook.metadata.version;
  const sameWidth = version === 9 ? 8 : (version % 9) + 1;
  expect(String(sameWidth)).toHaveLength(String(version).length);

  writeFileSync(file, text.replace(/^ {2}version: \d+$/m, `  version: ${sameWidth}`));
  const after = await selectPlaybook({ alert: testAlert() });

  expect(after.playbook.metadata.version).toBe(sameWidth);
});

test('selectPlaybook never serves a playbook after it turns invalid', async () => {
  const { directory, file } = copiedPlaybookDirectory();
  const logger = pino({ level: 'silent' });
  const { selectPlaybook } = createPlaybookActivities({ directory, logger });
  const before = await selectPlaybook({ alert: testAlert() });

  writeFileSync(file, 'apiVersion: firebreak.dev/v1\nkind: Playbook\nmetadata: {nmae: x}\n');
  const after = await selectPlaybook({ alert: testAlert() });

  expect(before.usedDefault).toBe(false);
  expect(after.usedDefault).toBe(true);
  expect(after.playbook.metadata.name).not.toBe('terminal-shell');
  expect(after.selectionReason).toContain('invalid');
});

test('selectPlaybook sees a file added to the directory', async () => {
  const { directory, text } = copiedPlaybookDirectory();
  const logger = pino({ level: 'silent' });
  const { selectPlaybook } = createPlaybookActivities({ directory, logger });
  await selectPlaybook({ alert: testAlert() });

  writeFileSync(join(directory, 'duplicate.yml'), text);
  const after = await selectPlaybook({ alert: testAlert() });

  expect(after.usedDefault).toBe(true);
  expect(after.selectionReason).toContain('already used');
});

test('selectPlaybook reloads an unchanged directory after the maximum age', async () => {
  const { directory } = copiedPlaybookDirectory();
  const loader = countingLoader();
  let nowMs = 1_000_000;
  const { selectPlaybook } = createPlaybookActivities({
    directory,
    loadPlaybooks: loader.loadPlaybooks,
    cacheMaxAgeMs: 5_000,
    nowMs: () => nowMs,
  });

  await selectPlaybook({ alert: testAlert() });
  nowMs += 4_999;
  await selectPlaybook({ alert: testAlert() });
  const loadsWithinAge = loader.loads();
  nowMs += 1;
  await selectPlaybook({ alert: testAlert() });

  expect(loadsWithinAge).toBe(1);
  expect(loader.loads()).toBe(2);
});
