import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { incidentWorkflowId } from '../../domain/incident';
import { alertsSignal, decideGateUpdate, standDownUpdate } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, newFingerprint, testAlert, testPlaybook } from './support/fixtures';
import {
  gateOpen,
  startHarness,
  startIncident,
  workflowBundle,
  type Harness,
  type IncidentHandle,
} from './support/harness';
import { recordingActivities } from './support/recording-activities';

/**
 * Replays incident histories with the current workflow code, so a change that breaks determinism fails
 * here. The files in `histories/` were recorded from earlier runs; set FIREBREAK_WRITE_HISTORIES=1 to
 * record them again from the runs below.
 */

const historiesDir = join(__dirname, 'histories');
const [first] = approvers as [string];

let harness: Harness;
/** Incidents whose quarantine fails, and incidents whose target cannot be resolved. */
const failingQuarantine = new Set<string>();
const unresolvedTargets = new Set<string>();

beforeAll(async () => {
  const recording = recordingActivities({
    failWhen: (call) => call.activity === 'quarantinePod' && failingQuarantine.has(String(call.input['incidentId'])),
    unresolvedWhen: (incidentId) => unresolvedTargets.has(incidentId),
  });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const HistoryMessage = temporal.api.history.v1.History;

/**
 * History files hold protobufjs `toObject` JSON (int64 values as strings, enums by name). The JSON of
 * `temporal workflow show --output json` cannot be read here: `historyFromJSON` of @temporalio/common
 * 1.24.0 fails with "type must be a Type" because npm installs two copies of protobufjs 8.8.1.
 */
function historyToFileJson(history: History): string {
  const message = HistoryMessage.fromObject(history);
  return `${JSON.stringify(HistoryMessage.toObject(message, { longs: String, enums: String, bytes: String }), null, 1)}\n`;
}

function historyFromFile(file: string): History {
  return HistoryMessage.fromObject(JSON.parse(readFileSync(file, 'utf8')));
}

async function replay(histories: { workflowId: string; history: History }[]): Promise<string[]> {
  const failures: string[] = [];
  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
  for await (const result of results) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}

async function decide(
  handle: IncidentHandle,
  gate: 'isolate' | 'escalate' | 'restore',
  decision: 'approve' | 'reject',
) {
  await gateOpen(handle, gate);
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate, decision, decider: first, channel: 'slack', reason: 'replay' }],
  });
}

const scenarios: Record<string, () => Promise<{ handle: IncidentHandle; runIds: string[] }>> = {
  'all-gates-approved': async () => {
    const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
    await decide(handle, 'isolate', 'approve');
    await decide(handle, 'escalate', 'approve');
    await decide(handle, 'restore', 'approve');
    await handle.result();
    return { handle, runIds: [] };
  },
  'gates-timed-out': async () => {
    const gates = {
      isolate: everySeverity(ask('2s', 'approve')),
      escalate: everySeverity(ask('1s', 'reject')),
      restore: everySeverity(ask('1s', 'reject')),
    };
    const handle = await startIncident(
      harness,
      { playbook: testPlaybook({ gates, notify: { slackChannel: '#sec' } }) },
      batchOf([testAlert()]),
    );
    await handle.result();
    return { handle, runIds: [] };
  },
  'severity-raised-then-stood-down-with-lift': async () => {
    const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
    await gateOpen(handle, 'isolate');
    await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
    await decide(handle, 'isolate', 'approve');
    await gateOpen(handle, 'escalate');
    await handle.executeUpdate(standDownUpdate, {
      args: [{ reason: 'replay', liftContainment: true, by: first, channel: 'cli' }],
    });
    await handle.result();
    return { handle, runIds: [] };
  },
  'containment-failed': async () => {
    const fingerprint = newFingerprint();
    failingQuarantine.add(incidentWorkflowId(fingerprint));
    const gates = {
      isolate: everySeverity({ mode: 'auto' as const }),
      escalate: everySeverity({ mode: 'skip' as const }),
      restore: everySeverity(ask('1h', 'reject')),
    };
    const playbook = testPlaybook({ gates });
    const handle = await startIncident(harness, { playbook, fingerprint }, batchOf([testAlert()]));
    await decide(handle, 'isolate', 'reject');
    await decide(handle, 'restore', 'reject');
    await handle.result();
    return { handle, runIds: [] };
  },
  'unresolved-target-forced-ask': async () => {
    const fingerprint = newFingerprint();
    unresolvedTargets.add(incidentWorkflowId(fingerprint));
    const auto = { mode: 'auto' as const };
    const gates = {
      isolate: { P0: auto, P1: auto, P2: auto, P3: ask('1h', 'approve') },
      escalate: everySeverity({ mode: 'skip' as const }),
      restore: everySeverity({ mode: 'skip' as const }),
    };
    const handle = await startIncident(
      harness,
      { playbook: testPlaybook({ gates }), fingerprint },
      batchOf([testAlert()]),
    );
    await decide(handle, 'isolate', 'approve');
    await handle.result();
    return { handle, runIds: [] };
  },
  'severity-skip': async () => {
    const skip = { mode: 'skip' as const };
    const gates = {
      isolate: { P0: skip, P1: skip, P2: ask('1h', 'reject'), P3: ask('1h', 'reject') },
      escalate: everySeverity(skip),
      restore: everySeverity(skip),
    };
    const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
    await gateOpen(handle, 'isolate');
    await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
    await handle.result();
    return { handle, runIds: [] };
  },
  'continued-as-new': async () => {
    const handle = await startIncident(
      harness,
      { playbook: testPlaybook(), limits: { maxHistoryEvents: 40 } },
      batchOf([testAlert()]),
    );
    await gateOpen(handle, 'isolate');
    const firstRunId = (await handle.describe()).runId;
    for (let index = 0; index < 20; index++) await handle.signal(alertsSignal, batchOf([testAlert()]));
    await decide(handle, 'isolate', 'reject');
    await decide(handle, 'escalate', 'reject');
    await handle.result();
    return { handle, runIds: [firstRunId] };
  },
};

test('recorded histories replay without nondeterminism', async () => {
  const files = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));
  const histories = files.map((file) => ({
    workflowId: file,
    history: historyFromFile(join(historiesDir, file)),
  }));

  const failures = await replay(histories);

  expect(files.length).toBeGreaterThanOrEqual(8);
  expect(failures).toEqual([]);
});

test('fresh histories of every scenario replay', async () => {
  const histories: { workflowId: string; history: History }[] = [];
  for (const [scenario, run] of Object.entries(scenarios)) {
    const { handle, runIds } = await run();
    for (const runId of [...runIds, undefined]) {
      const history = await harness.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      const name = `${scenario}${runId ? '-first-run' : ''}`;
      histories.push({ workflowId: name, history });
    }
  }

  if (process.env['FIREBREAK_WRITE_HISTORIES'] === '1') {
    for (const { workflowId, history } of histories) {
      writeFileSync(join(historiesDir, `${workflowId}.json`), historyToFileJson(history));
    }
  }
  const failures = await replay(histories);

  expect(histories).toHaveLength(8);
  expect(failures).toEqual([]);
});
