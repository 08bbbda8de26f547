import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { registerDecideCommands, type IncidentCommandDeps } from '../../../cli/commands/decide';
import { registerIncidentCommands, renderStatus } from '../../../cli/commands/incidents';
import { alertsSignal, statusQuery } from '../../../workflows/messages';
import { testEnv } from '../../support/env';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from '../../workflows/support/fixtures';
import { gateOpen, startHarness, startIncident, waitForStatus, type Harness } from '../../workflows/support/harness';
import { recordingActivities } from '../../workflows/support/recording-activities';

let harness: Harness;
let stdout: string[];
let stderr: string[];

beforeAll(async () => {
  harness = await startHarness(recordingActivities().activities);
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

function deps(): IncidentCommandDeps {
  return {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    connect: async () => {
      const connection = await Connection.connect({ address: testEnv().temporal.address });
      return new Client({ connection, namespace: testEnv().temporal.namespace });
    },
    env: { FIREBREAK_OPERATOR: approvers[0], XDG_CONFIG_HOME: '/nonexistent' },
  };
}

async function run(args: string[]): Promise<typeof process.exitCode> {
  const program = new Command('firebreak').exitOverride();
  registerIncidentCommands(program, deps());
  registerDecideCommands(program, deps());
  await program.parseAsync(args, { from: 'user' });
  return process.exitCode;
}

const gates = {
  isolate: everySeverity(ask('1h', 'reject')),
  escalate: everySeverity({ mode: 'skip' }),
  restore: everySeverity({ mode: 'skip' }),
};
/** Clears the screen, sets the window title, paints a forged line red, and reverses the text direction. */
const hostileRule = 'Terminal shell\u001b[2J\u001b]0;owned\u0007\u001b[31m in container\u009b0m\u202e';
/** Characters that a terminal acts on: C0 controls, DEL, C1 controls, and the Unicode line and bidi controls. */
// eslint-disable-next-line no-control-regex -- finding control characters is the purpose of this pattern
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

async function incidentWithHostileRule() {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  await handle.signal(alertsSignal, batchOf([testAlert({ rule: hostileRule })]));
  await waitForStatus(handle, (status) => status.alertCount === 2);
  return handle;
}

test('incidents show escapes control characters in alert rules', async () => {
  const handle = await incidentWithHostileRule();

  const code = await run(['incidents', 'show', handle.workflowId]);

  const lines = stdout.join('\n').split('\n');
  expect(code).toBe(0);
  for (const line of lines) expect(line).not.toMatch(controlCharacters);
  expect(lines.some((line) => line.includes('Terminal shell\\u001b[2J\\u001b]0;owned\\u0007'))).toBe(true);
  await handle.terminate('test finished');
});

test('incidents show --json escapes C1 and bidi controls and stays JSON', async () => {
  const handle = await incidentWithHostileRule();

  await run(['incidents', 'show', handle.workflowId, '--json']);

  const text = stdout.join('\n');
  for (const line of text.split('\n')) expect(line).not.toMatch(controlCharacters);
  const parsed = JSON.parse(text) as { rules: string[] };
  expect(parsed.rules).toContain(hostileRule);
  await handle.terminate('test finished');
});

test('renderStatus escapes a stand-down reason and timeline summaries', async () => {
  const handle = await incidentWithHostileRule();
  const status = await handle.query(statusQuery);
  const forged = 'fp\u001b[2J\r\nSTATUS: RESTORED, all clear\u0007';
  const standDown = {
    by: 'alice',
    channel: 'cli' as const,
    at: status.openedAt,
    reason: forged,
    liftContainment: false,
  };

  const text = renderStatus({ ...status, standDown });

  const lines = text.split('\n');
  expect(lines.some((line) => line.startsWith('STATUS: RESTORED'))).toBe(false);
  for (const line of lines) expect(line).not.toMatch(controlCharacters);
  expect(text).toContain('fp\\u001b[2J\\u000d\\u000aSTATUS: RESTORED, all clear\\u0007');
  await handle.terminate('test finished');
});

test('incidents list rejects an invalid namespace in one line', async () => {
  const code = await run(['incidents', 'list', '--namespace', 'bad value']);

  expect(code).toBe(1);
  expect(stderr).toEqual([
    'firebreak: invalid --namespace "bad value": expected a Kubernetes namespace name: lowercase letters, ' +
      "digits and '-', starting and ending with a letter or digit",
  ]);
  expect(stdout).toEqual([]);
});

test('incidents list rejects a limit below one', async () => {
  const code = await run(['incidents', 'list', '--limit', '-1']);

  expect(code).toBe(1);
  expect(stderr).toEqual(['firebreak: invalid --limit "-1": expected a number of at least 1']);
});

test('incidents list rejects a limit that is not a number', async () => {
  const code = await run(['incidents', 'list', '--limit', 'ten']);

  expect(code).toBe(1);
  expect(stderr).toEqual(['firebreak: invalid --limit "ten": expected a whole number']);
});

test('incidents list rejects an over-long namespace', async () => {
  const code = await run(['incidents', 'list', '--namespace', 'a'.repeat(64)]);

  expect(code).toBe(1);
  expect(stderr).toEqual([
    `firebreak: invalid --namespace "${'a'.repeat(64)}": expected a Kubernetes namespace name of at most 63 characters`,
  ]);
});

test('decide rejects a reason with an escape sequence', async () => {
  const code = await run(['decide', 'incident-0000000000000bad', 'isolate', 'approve', '--reason', 'ok\u001b[2J']);

  expect(code).toBe(1);
  expect(stderr).toEqual([
    'firebreak: invalid decision: --reason must not contain control characters (line breaks, tabs, escape ' +
      'sequences); write it on one line',
  ]);
});

test('stand-down rejects a reason with a line break', async () => {
  const code = await run(['incidents', 'stand-down', 'incident-0000000000000bad', '--reason', 'fp\nall clear']);

  expect(code).toBe(1);
  expect(stderr.join('\n')).toContain('--reason must not contain control characters');
});
