import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { registerDecideCommands, type IncidentCommandDeps } from '../../../cli/commands/decide';
import { incidentListQuery, registerIncidentCommands } from '../../../cli/commands/incidents';
import { testEnv } from '../../support/env';
import {
  approvers,
  ask,
  batchOf,
  everySeverity,
  outsider,
  testAlert,
  testPlaybook,
} from '../../workflows/support/fixtures';
import { gateOpen, startHarness, startIncident, waitForStatus, type Harness } from '../../workflows/support/harness';
import { statusQuery } from '../../../workflows/messages';
import { recordingActivities } from '../../workflows/support/recording-activities';

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;
let stdout: string[];
let stderr: string[];

beforeAll(async () => {
  recording = recordingActivities();
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

beforeEach(() => {
  stdout = [];
  stderr = [];
  process.exitCode = undefined;
});

afterEach(() => {
  process.exitCode = undefined;
});

function deps(operator: string | undefined = approvers[0]): IncidentCommandDeps {
  return {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    connect: async () => {
      const connection = await Connection.connect({ address: testEnv().temporal.address });
      return new Client({ connection, namespace: testEnv().temporal.namespace });
    },
    env: { FIREBREAK_OPERATOR: operator, XDG_CONFIG_HOME: '/nonexistent' },
  };
}

async function run(args: string[], operator?: string): Promise<typeof process.exitCode> {
  const program = new Command('firebreak').exitOverride();
  registerIncidentCommands(program, deps(operator));
  registerDecideCommands(program, deps(operator));
  await program.parseAsync(args, { from: 'user' });
  return process.exitCode;
}

const gates = {
  isolate: everySeverity(ask('1h', 'reject')),
  escalate: everySeverity({ mode: 'skip' }),
  restore: everySeverity({ mode: 'skip' }),
};

test('incidentListQuery combines the filters', () => {
  expect(incidentListQuery({ phase: 'isolate', severity: 'P1', namespace: 'shop-prod' })).toBe(
    "WorkflowType = 'incidentWorkflow' AND (ExecutionStatus != 'ContinuedAsNew' OR FirebreakPhase = 'closed') AND FirebreakPhase = 'isolate' AND FirebreakSeverity = 'P1' AND FirebreakNamespace = 'shop-prod'",
  );
});

test('incidents list filters by severity and namespace', async () => {
  const namespace = `list-${Date.now().toString(36)}`;
  const p1 = testPlaybook({ gates, severity: { default: 'P1', reason: 'several nodes', rules: [] } });
  const wanted = await startIncident(harness, { playbook: p1 }, batchOf([testAlert({ namespace })]));
  const other = await startIncident(
    harness,
    { playbook: testPlaybook({ gates }) },
    batchOf([testAlert({ namespace })]),
  );
  await gateOpen(wanted, 'isolate');
  await gateOpen(other, 'isolate');

  let listed: { incidentId: string; severity?: string; gate?: string; summary?: string }[] = [];
  for (let attempt = 0; attempt < 50 && !listed.some((entry) => entry.incidentId === wanted.workflowId); attempt++) {
    stdout = [];
    await run(['incidents', 'list', '--severity', 'P1', '--namespace', namespace, '--json']);
    listed = JSON.parse(stdout.join('\n')) as typeof listed;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  expect(listed.map((entry) => entry.incidentId)).toEqual([wanted.workflowId]);
  expect(listed[0]?.gate).toBe('isolate');
  expect(listed[0]?.summary).toContain('Terminal shell in container');
  await wanted.terminate('test finished');
  await other.terminate('test finished');
});

test('incidents show prints the status query', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');

  const code = await run(['incidents', 'show', handle.workflowId]);

  expect(code).toBe(0);
  const text = stdout.join('\n');
  expect(text).toContain(`${handle.workflowId}: P2 Terminal shell in container`);
  expect(text).toContain('waiting gate isolate');
  expect(text).toContain('isolate: open until');
  await handle.terminate('test finished');
});

test('incidents show fails on an unknown incident', async () => {
  const code = await run(['incidents', 'show', 'incident-0000000000000bad']);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toContain('incident incident-0000000000000bad not found');
});

test('decide approves through the Update as the operator', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');

  const code = await run(['decide', handle.workflowId, 'isolate', 'approve', '--reason', 'confirmed shell']);
  const result = await handle.result();

  expect(code).toBe(0);
  expect(stdout.join('\n')).toContain(`gate isolate of ${handle.workflowId}: approved by ${approvers[0]} via cli`);
  expect(result.outcome).toBe('containment kept in place (restore gate skipped)');
  const status = await waitForStatus(handle, () => true);
  const decision = status.timeline.find((entry) => entry.kind === 'decision' && entry.summary.includes('via cli'));
  expect(decision?.summary).toContain(`${approvers[0]} chose approve on gate isolate via cli`);
});

test('decide prints the rejection plainly and exits 1', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');

  const code = await run(['decide', handle.workflowId, 'isolate', 'approve', '--reason', 'mine'], outsider);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe(
    `firebreak: decision rejected: ${outsider} is not on the approver list of gate isolate`,
  );
  await handle.terminate('test finished');
});

test('decide without an operator identity fails before sending', async () => {
  const program = new Command('firebreak').exitOverride();
  registerDecideCommands(program, { ...deps(), env: { XDG_CONFIG_HOME: '/nonexistent' } });

  await expect(
    program.parseAsync(['decide', 'incident-0000000000000bad', 'isolate', 'approve', '--reason', 'x'], {
      from: 'user',
    }),
  ).rejects.toThrow('no operator identity: set FIREBREAK_OPERATOR');
});

test('stand-down keeps containment unless lifted', async () => {
  const auto = everySeverity({ mode: 'auto' });
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: { ...gates, isolate: auto, escalate: everySeverity(ask('1h', 'reject')) } }) },
    batchOf([testAlert()]),
  );
  await gateOpen(handle, 'escalate');

  const code = await run(['incidents', 'stand-down', handle.workflowId, '--reason', 'false positive']);
  const result = await handle.result();

  expect(code).toBe(0);
  expect(stdout.join('\n')).toBe(
    `stand-down of ${handle.workflowId} accepted from ${approvers[0]} via cli: containment stays in place`,
  );
  expect(result.outcome).toBe(`stood down by ${approvers[0]}, containment left in place`);
  const released = recording
    .callsOf('releasePodQuarantine')
    .filter((call) => call.input['incidentId'] === handle.workflowId);
  expect(released).toHaveLength(0);
});

test('decide on a closed incident exits 1 with the reason', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  await run(['decide', handle.workflowId, 'isolate', 'reject', '--reason', 'benign']);
  await handle.result();
  stderr = [];

  const code = await run(['decide', handle.workflowId, 'isolate', 'approve', '--reason', 'late']);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toMatch(
    /^firebreak: decision rejected: incident incident-[0-9a-f]+ is (closed|not running)/,
  );
});

test('stand-down by a non-approver exits 1 with the reason', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');

  const code = await run(
    ['incidents', 'stand-down', handle.workflowId, '--reason', 'mine', '--lift-containment'],
    outsider,
  );

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe(
    'firebreak: stand-down rejected: lifting containment (the restore gate at P2) has no approvers in the playbook, so nobody may decide it',
  );
  expect((await handle.query(statusQuery)).standDown).toBeUndefined();
  await handle.terminate('test finished');
});

test('decide rejects an empty reason before sending', async () => {
  const code = await run(['decide', 'incident-0000000000000bad', 'isolate', 'approve', '--reason', '']);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe('firebreak: invalid decision: --reason must not be empty or blank');
});

test('decide prints a plain message for an over-long reason', async () => {
  const code = await run(['decide', 'incident-0000000000000bad', 'isolate', 'approve', '--reason', 'r'.repeat(2001)]);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe('firebreak: invalid decision: --reason must be at most 2000 characters');
});

test('stand-down rejects a blank reason before sending', async () => {
  const code = await run(['incidents', 'stand-down', 'incident-0000000000000bad', '--reason', '   ']);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe('firebreak: invalid stand-down: --reason must not be empty or blank');
});

test('decide sends the image digest of a restore approval', async () => {
  const base = testPlaybook({
    gates: { ...gates, isolate: everySeverity({ mode: 'auto' }), restore: everySeverity(ask('1h', 'reject')) },
  });
  const playbook = { ...base, restore: { ...base.restore, trustedDigestSource: 'person' as const, trustedImages: {} } };
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));
  await gateOpen(handle, 'restore');
  const digest = `registry.example/shop/checkout@sha256:${'f'.repeat(64)}`;

  const code = await run([
    'decide',
    handle.workflowId,
    'restore',
    'approve',
    '--reason',
    'clean image',
    '--image-digest',
    digest,
  ]);
  await handle.result();

  expect(code).toBe(0);
  const rollouts = recording
    .callsOf('restoreWorkload')
    .filter((call) => call.input['incidentId'] === handle.workflowId);
  expect(rollouts.map((call) => call.input['imageDigest'])).toEqual([digest]);
});

test('decide rejects a malformed image digest before sending', async () => {
  const code = await run([
    'decide',
    'incident-0000000000000bad',
    'restore',
    'approve',
    '--reason',
    'x',
    '--image-digest',
    'checkout:latest',
  ]);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toBe(
    'firebreak: invalid decision: --image-digest must be repository@sha256: followed by 64 lowercase hex digits',
  );
});

test('incidents show prints the channel of a decision', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  await run(['decide', handle.workflowId, 'isolate', 'reject', '--reason', 'benign']);
  await handle.result();
  stdout = [];

  await run(['incidents', 'show', handle.workflowId]);

  expect(stdout.join('\n')).toMatch(new RegExp(`isolate: closed rejected by ${approvers[0]} via cli at `));
});
