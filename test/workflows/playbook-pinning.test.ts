import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlaybookActivities } from '../../activities/playbooks';
import { alertsSignal } from '../../workflows/messages';
import { batchOf, testAlert } from './support/fixtures';
import { gateOpen, startHarness, startIncident, waitForStatus, type Harness } from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;
const playbookDir = mkdtempSync(join(tmpdir(), 'firebreak-pinning-'));

beforeAll(async () => {
  cpSync(join(__dirname, '..', '..', 'playbooks'), playbookDir, { recursive: true });
  harness = await startHarness({
    ...recordingActivities().activities,
    ...createPlaybookActivities({ directory: playbookDir }),
  });
});

afterAll(async () => {
  await harness.stop();
  rmSync(playbookDir, { recursive: true, force: true });
});

test('incident keeps its playbook after the file changes', async () => {
  const handle = await startIncident(harness, { limits: { maxHistoryEvents: 60 } }, batchOf([testAlert()]));
  const before = await gateOpen(handle, 'isolate');
  const file = join(playbookDir, 'terminal-shell.yaml');
  const edited = readFileSync(file, 'utf8')
    .replace('version: 1', 'version: 2')
    .replace(/isolate:\n(\s+)P0: \{ mode: auto \}/, 'isolate:\n$1P0: { mode: skip }');
  expect(edited).toContain('version: 2');
  writeFileSync(file, edited);

  const firstRun = (await handle.describe()).runId;
  for (let i = 0; i < 25; i++) {
    await handle.signal(alertsSignal, batchOf([testAlert()]));
  }
  const after = await waitForStatus(handle, (status) => status.alertCount === 26);
  const lastRun = (await handle.describe()).runId;

  expect(lastRun).not.toBe(firstRun);
  expect(before.playbook?.version).toBe('1');
  expect(after.playbook?.version).toBe('1');
  expect(after.waitingGate).toBe('isolate');
  await handle.terminate('test finished');
});
