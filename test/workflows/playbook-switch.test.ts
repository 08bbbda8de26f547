import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { createPlaybookActivities } from '../../activities/playbooks';
import type { Alert, Severity } from '../../domain/alert';
import type { PlaybookInput } from '../../domain/playbook';
import type { FirebreakActivities } from '../../domain/response';
import { maxRatingCalls } from '../../workflows/playbook-rating';
import { alertsSignal, statusQuery } from '../../workflows/messages';
import { ask, batchOf, everySeverity, testAlert } from './support/fixtures';
import {
  startHarness,
  startIncident,
  waitForStatus,
  workflowBundle,
  type Harness,
  type IncidentHandle,
} from './support/harness';
import { recordingActivities } from './support/recording-activities';

const shellRule = 'Terminal shell in container';
const dropRule = 'Drop and execute new binary in container';
const minerRule = 'Detect crypto miners using the Stratum protocol';
const readRule = 'Read sensitive file untrusted';
const stormRules = { start: 'Storm start', two: 'Storm two', one: 'Storm one', zero: 'Storm zero' };

/** Builds a playbook file that claims one rule: isolation automatic, no escalation, a restore gate of one hour. */
function playbookFile(name: string, rule: string, severity: PlaybookInput['severity'], extra: Partial<PlaybookInput>) {
  const input: PlaybookInput = {
    apiVersion: 'firebreak.dev/v1',
    kind: 'Playbook',
    metadata: { name, version: 1, description: `Test playbook ${name}.`, rationale: 'Tests.' },
    match: { rules: [rule] },
    severity,
    gates: {
      isolate: everySeverity({ mode: 'auto' }),
      escalate: everySeverity({ mode: 'skip' }),
      restore: everySeverity(ask('1h', 'reject')),
    },
    containment: [{ action: 'quarantine' }],
    evidence: ['pod'],
    restore: { quietPeriod: '1h', watchPeriod: '1ms', trustedDigestSource: 'person' },
    ...extra,
  };
  return { file: `${name}.yaml`, text: stringify(input) };
}

const fixedSeverity = (severity: Severity) => ({ default: severity, reason: `always ${severity}`, rules: [] });

const playbookFiles = [
  playbookFile('shell-test', shellRule, fixedSeverity('P2'), {}),
  playbookFile(
    'drift-test',
    dropRule,
    {
      default: 'P2',
      reason: 'one application',
      rules: [{ when: { priorityAtLeast: 'Critical' }, severity: 'P1', reason: 'the binary runs now' }],
    },
    { containment: [{ action: 'quarantine' }, { action: 'detach' }, { action: 'delete-pod', severityAtLeast: 'P1' }] },
  ),
  playbookFile('miner-test', minerRule, fixedSeverity('P2'), {}),
  playbookFile('read-test', readRule, fixedSeverity('P3'), {}),
  playbookFile('storm-p3', stormRules.start, fixedSeverity('P3'), {}),
  playbookFile('storm-p2', stormRules.two, fixedSeverity('P2'), {}),
  playbookFile('storm-p1', stormRules.one, fixedSeverity('P1'), {}),
  playbookFile('storm-p0', stormRules.zero, fixedSeverity('P0'), {}),
];

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;
/** Alerts that the workflow gave to `selectPlaybook`, in call order. */
const selected: Alert[] = [];
const playbookDir = mkdtempSync(join(tmpdir(), 'firebreak-switch-'));

beforeAll(async () => {
  for (const { file, text } of playbookFiles) writeFileSync(join(playbookDir, file), text);
  const real = createPlaybookActivities({ directory: playbookDir });
  recording = recordingActivities();
  const activities: FirebreakActivities = {
    ...recording.activities,
    selectPlaybook: async (input) => {
      selected.push(input.alert);
      return real.selectPlaybook(input);
    },
  };
  harness = await startHarness(activities);
});

afterAll(async () => {
  await harness.stop();
  rmSync(playbookDir, { recursive: true, force: true });
});

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

function selectionsFor(pod: string): Alert[] {
  return selected.filter((alert) => alert.target.pod === pod);
}

/** Starts an incident on its own pod with a shell alert and waits until it is in the quiet period. */
async function quietShellIncident(pod: string): Promise<IncidentHandle> {
  const handle = await startIncident(harness, {}, batchOf([testAlert({ pod })]));
  await waitForStatus(handle, (status) => status.timeline.some((entry) => entry.summary.startsWith('quiet period')));
  return handle;
}

test('worse alert from another playbook switches the playbook', async () => {
  const pod = 'switch-worse-0';
  const handle = await quietShellIncident(pod);
  const before = await handle.query(statusQuery);

  await handle.signal(alertsSignal, batchOf([testAlert({ pod, rule: dropRule, priority: 'Critical' })]));
  const after = await waitForStatus(handle, (status) => status.playbook?.name === 'drift-test');
  await waitForStatus(handle, () => callsFor(handle, 'deletePod').length > 0);

  expect(before.severity).toBe('P2');
  expect(before.playbook?.name).toBe('shell-test');
  expect(after.severity).toBe('P1');
  const changed = after.timeline.find((entry) => entry.summary.startsWith('playbook changed'));
  expect(changed?.summary).toBe('playbook changed from shell-test v1 to drift-test v1');
  expect(JSON.stringify(changed?.data)).toContain('drift-test rates Drop and execute new binary in container P1');
  // The quarantine in place stays; the drift playbook's detach and delete-pod run once each.
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'detachPod')).toHaveLength(1);
  expect(callsFor(handle, 'deletePod')).toHaveLength(1);
  expect(selectionsFor(pod).map((alert) => alert.rule)).toEqual([shellRule, dropRule]);
  await handle.terminate('test finished');
  // The rating calls sit behind a patch marker; the history with them replays on the same code.
  const history = await handle.fetchHistory();
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId),
  ).resolves.toBeUndefined();
});

test('worse alert in the first batch switches the playbook', async () => {
  const pod = 'switch-early-0';
  const shell = testAlert({ pod });
  const drop = testAlert({ pod, rule: dropRule, priority: 'Critical' });
  const handle = await startIncident(harness, {}, batchOf([shell, drop]));

  await waitForStatus(handle, () => callsFor(handle, 'deletePod').length > 0);
  const status = await waitForStatus(handle, (current) =>
    current.timeline.some((entry) => entry.summary.startsWith('quiet period')),
  );

  expect(status.playbook?.name).toBe('drift-test');
  expect(status.severity).toBe('P1');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'detachPod')).toHaveLength(1);
  expect(callsFor(handle, 'deletePod')).toHaveLength(1);
  await handle.terminate('test finished');
});

test('equal or milder alert keeps the playbook', async () => {
  const pod = 'switch-milder-0';
  const handle = await quietShellIncident(pod);

  await handle.signal(
    alertsSignal,
    batchOf([testAlert({ pod, rule: minerRule }), testAlert({ pod, rule: readRule, priority: 'Warning' })]),
  );
  await waitForStatus(handle, () => selectionsFor(pod).length === 3);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const status = await handle.query(statusQuery);

  // The two later alerts are rated in one batch, whose calls run at the same time and may start in any order.
  expect(selectionsFor(pod)[0]?.rule).toBe(shellRule);
  expect(
    selectionsFor(pod)
      .slice(1)
      .map((alert) => alert.rule)
      .sort(),
  ).toEqual([minerRule, readRule].sort());
  expect(status.severity).toBe('P2');
  expect(status.playbook?.name).toBe('shell-test');
  expect(status.timeline.some((entry) => entry.summary.startsWith('playbook changed'))).toBe(false);
  expect(callsFor(handle, 'detachPod')).toHaveLength(0);
  await handle.terminate('test finished');
});

test('storm stays within the rating and switch bounds', async () => {
  const pod = 'switch-storm-0';
  const alert = (rule: string) => testAlert({ pod, rule });
  const handle = await startIncident(harness, {}, batchOf([alert(stormRules.start)]));
  await waitForStatus(handle, (status) => status.playbook?.name === 'storm-p3');
  await handle.signal(alertsSignal, batchOf([alert(stormRules.two)]));
  await waitForStatus(handle, (status) => status.playbook?.name === 'storm-p2');
  await handle.signal(alertsSignal, batchOf([alert(stormRules.one)]));
  await waitForStatus(handle, (status) => status.playbook?.name === 'storm-p1');

  const batches = 20;
  const perBatch = 50;
  for (let batch = 0; batch < batches; batch++) {
    const rules = Array.from({ length: perBatch }, (_, index) => `Unclaimed storm rule ${batch * perBatch + index}`);
    const storm = batch === 0 ? [alert(stormRules.zero), ...rules.slice(1).map(alert)] : rules.map(alert);
    await handle.signal(alertsSignal, batchOf(storm));
  }
  const status = await waitForStatus(handle, (current) => current.alertCount === 3 + batches * perBatch);
  await waitForStatus(handle, (current) => current.severity === 'P0');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const final = await handle.query(statusQuery);

  expect(status.alertCount).toBe(1003);
  // Two changes (P3 to P2 to P1) were adopted; the P0 rating raised the severity without a third change.
  expect(final.playbook?.name).toBe('storm-p1');
  expect(final.severity).toBe('P0');
  // The first selection pins the playbook; rating makes at most maxRatingCalls more calls.
  expect(selectionsFor(pod).length).toBeLessThanOrEqual(1 + maxRatingCalls);
  expect(selectionsFor(pod).map((selection) => selection.rule)).toContain(stormRules.zero);
  await handle.terminate('test finished');
});
