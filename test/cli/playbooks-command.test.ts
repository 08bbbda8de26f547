import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import {
  exitOk,
  exitProblem,
  exitUsage,
  registerPlaybookCommands,
  testCommand,
  validateCommand,
  type CommandOutput,
} from '../../cli/commands/playbooks';
import { maxAlertFileBytes, readAlertText } from '../../cli/playbooks/alert-file';
import { playbookJsonSchema } from '../../domain/playbook';

const repoRoot = path.join(__dirname, '../..');
const playbookDir = path.join(repoRoot, 'playbooks');
const fixtureDir = path.join(repoRoot, 'deploy/examples/alerts');

interface Captured extends CommandOutput {
  stdout: string[];
  stderr: string[];
}

function capture(): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'firebreak-playbook-cli-'));
});

afterEach(async () => {
  process.exitCode = undefined;
  await rm(scratch, { recursive: true, force: true });
});

describe('playbooks validate', () => {
  test('shipped playbooks are valid', async () => {
    const output = capture();

    expect(await validateCommand(playbookDir, true, output)).toBe(exitOk);
    expect(output.stderr).toEqual([]);
    expect(output.stdout[0]).toMatch(/^9 playbook\(s\) valid in .*playbooks: container-drift v1, container-escape v1/);
  });

  test('invalid playbook fails with file, line and path', async () => {
    const text = (await readFile(path.join(playbookDir, 'terminal-shell.yaml'), 'utf8')).replace(
      'evidence:',
      'evidense:',
    );
    await writeFile(path.join(scratch, 'terminal-shell.yaml'), text);
    const output = capture();

    expect(await validateCommand(scratch, false, output)).toBe(exitProblem);
    expect(output.stderr).toEqual([
      expect.stringMatching(
        /terminal-shell\.yaml:\d+:1: error: evidense: unknown field "evidense" \(did you mean "evidence"\?\)/,
      ),
    ]);
    expect(output.stdout).toEqual([`1 error(s), 0 warning(s) in ${scratch}`]);
  });

  test('warnings fail only with --warnings-as-errors', async () => {
    const text = (await readFile(path.join(playbookDir, 'triage.yaml'), 'utf8')).replaceAll(
      'approverGroups: [S0SECURITY], ',
      '',
    );
    await writeFile(path.join(scratch, 'triage.yaml'), text);

    expect(await validateCommand(scratch, false, capture())).toBe(exitOk);
    expect(await validateCommand(scratch, true, capture())).toBe(exitProblem);
  });

  test('dangling link fails that file, not the directory', async () => {
    await copyFile(path.join(playbookDir, 'terminal-shell.yaml'), path.join(scratch, 'terminal-shell.yaml'));
    await symlink(path.join(scratch, 'absent.yaml'), path.join(scratch, 'dangling.yaml'));
    const output = capture();

    expect(await validateCommand(scratch, false, output)).toBe(exitProblem);
    expect(output.stderr).toEqual([
      `${scratch}/dangling.yaml:1:1: error: cannot read the file: it is a symbolic link whose target does not exist (ENOENT)`,
    ]);
    expect(output.stdout).toEqual([`1 error(s), 0 warning(s) in ${scratch}`]);
  });

  test('missing directory is a usage error', async () => {
    const output = capture();

    expect(await validateCommand(path.join(scratch, 'absent'), false, output)).toBe(exitUsage);
    expect(output.stderr[0]).toContain('cannot read playbook directory');
  });
});

describe('playbooks test', () => {
  test('prints the matching playbook and its plan', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'falcosidekick-terminal-shell.json');

    expect(await testCommand(file, { dir: playbookDir }, output)).toBe(exitOk);
    const text = output.stdout.join('\n');
    expect(text).toContain('Alert     Terminal shell in container (falco, priority Notice, firing)');
    expect(text).toContain(
      'Target    pod shop-prod/checkout-api-7c9d5f6b8-x2lqp on node ip-10-0-12-34.eu-west-1.compute.internal',
    );
    expect(text).toMatch(/Playbook {2}terminal-shell v1 \(.*terminal-shell\.yaml\)/);
    expect(text).toContain('Severity  P2, respond within 4h: A shell in one pod affects one application.');
    expect(text).toContain('Dry-run plan (nothing was changed):');
    expect(text).toContain('1. isolate gate: ask members of S0SECURITY within 30m; on timeout reject');
    expect(text).toContain('2. quarantine the pod: label it and deny all traffic except egress to DNS');
  });

  test('plans every alert of an Alertmanager group', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'alertmanager-falco-via-sidekick.json');

    expect(await testCommand(file, { dir: playbookDir, expect: 'container-drift' }, output)).toBe(exitOk);
    const text = output.stdout.join('\n');
    expect(text.match(/Playbook {2}container-drift v1/g)).toHaveLength(2);
    expect(text).toContain('pod shop-prod/catalog-svc-6f4b8d9c7-zz4kd');
    expect(text).toContain('eradicate  6. delete the pod (grace period 10s)');
  });

  test('resolved alert plans no containment', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'alertmanager-prometheus-resolved.json');

    expect(await testCommand(file, { dir: playbookDir }, output)).toBe(exitOk);
    expect(output.stdout.join('\n')).toContain('no containment: the alert is resolved');
  });

  test('--expect fails on another playbook', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'falco-http-output-k8saudit-attach-exec.json');

    expect(await testCommand(file, { dir: playbookDir, expect: 'terminal-shell' }, output)).toBe(exitProblem);
    expect(output.stderr).toEqual([
      'firebreak: alert 1 (Attach/Exec Pod): expected playbook terminal-shell, got k8s-api-abuse',
    ]);
  });

  test('alert that no playbook in the directory claims fails', async () => {
    await copyFile(path.join(playbookDir, 'terminal-shell.yaml'), path.join(scratch, 'terminal-shell.yaml'));
    const output = capture();
    const file = path.join(fixtureDir, 'falco-http-output-k8saudit-attach-exec.json');

    expect(await testCommand(file, { dir: scratch }, output)).toBe(exitProblem);
    expect(output.stdout.join('\n')).toContain('Playbook  triage v1');
    expect(output.stderr).toEqual(['firebreak: alert 1 (Attach/Exec Pod): no playbook in the directory claims it']);
  });

  test('--json prints structured plans', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'falcosidekick-drop-and-exec-critical.json');

    expect(await testCommand(file, { dir: playbookDir, json: true }, output)).toBe(exitOk);
    const plans: unknown = JSON.parse(output.stdout.join('\n'));
    expect(plans).toEqual([
      expect.objectContaining({
        playbook: { name: 'container-drift', version: 1, usedDefault: false },
        severity: 'P1',
        responseTarget: 'within 1h',
      }),
    ]);
  });

  test('invalid alert body fails with the field path', async () => {
    const file = path.join(scratch, 'alert.json');
    await writeFile(file, JSON.stringify({ rule: 'Terminal shell in container', time: 'yesterday' }));
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir, format: 'falco' }, output)).toBe(exitProblem);
    expect(output.stderr[0]).toMatch(/^firebreak: cannot read alert file .*alert\.json: time: /);
  });

  test('accepts an already normalised alert', async () => {
    const body = await readFile(path.join(fixtureDir, 'falcosidekick-terminal-shell.json'), 'utf8');
    const file = path.join(scratch, 'normalised.json');
    await writeFile(file, JSON.stringify(readAlertText(body).alerts[0]));
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir, expect: 'terminal-shell' }, output)).toBe(exitOk);
    expect(output.stderr).toEqual([]);
  });

  test('invalid normalised alert names the field', async () => {
    const file = path.join(scratch, 'normalised.json');
    await writeFile(
      file,
      JSON.stringify([{ id: 'a', source: 'syslog', rule: 'x', eventTime: 'now', hostScoped: false }]),
    );
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir }, output)).toBe(exitProblem);
    expect(output.stderr[0]).toContain('0.source: Invalid option');
  });

  test('control characters in alert text are escaped', async () => {
    const body = {
      rule: 'Terminal shell in container\u001b[2J\u001b[31m\nPlaybook  FAKE v9\u0007',
      time: '2026-03-14T15:02:11Z',
      priority: 'Notice',
      hostname: 'node-1',
      output_fields: {
        'k8s.ns.name': 'shop-prod',
        'k8s.pod.name':
          'web-1\u001b]8;;http://example.invalid/\u001b\\click\u001b]8;;\u001b\\\nSeverity  P3\u202e\u009b',
      },
    };
    const file = path.join(scratch, 'alert.json');
    await writeFile(file, JSON.stringify(body));
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir, expect: 'terminal-shell' }, output)).toBe(exitProblem);
    const printed = [...output.stdout, ...output.stderr].join('\n');
    // eslint-disable-next-line no-control-regex -- the test looks for raw control characters
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(printed.split('\n').filter((line) => /^(Playbook|Severity) /.test(line))).toEqual([
      expect.stringMatching(/^Playbook {2}triage v1/),
      expect.stringMatching(/^Severity {2}P3,/),
    ]);
    expect(printed).toContain(
      'Alert     Terminal shell in container\\u001b[2J\\u001b[31m\\u000aPlaybook  FAKE v9\\u0007',
    );
    expect(printed).toContain('\\u000aSeverity  P3\\u202e\\u009b');
    expect(output.stderr).toEqual([
      'firebreak: alert 1 (Terminal shell in container\\u001b[2J\\u001b[31m\\u000aPlaybook  FAKE v9\\u0007): ' +
        'expected playbook terminal-shell, got triage',
    ]);
  });

  test('--json escapes C1 and bidi controls and stays valid JSON', async () => {
    const file = path.join(scratch, 'alert.json');
    const rule = 'Terminal shell in container\u009b2J\u202e';
    await writeFile(file, JSON.stringify({ rule, time: '2026-03-14T15:02:11Z', hostname: 'node-1' }));
    const output = capture();

    await testCommand(file, { dir: playbookDir, json: true }, output);
    const text = output.stdout.join('\n');
    expect(text).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
    const plans: unknown = JSON.parse(text);
    expect(plans).toEqual([expect.objectContaining({ alert: expect.objectContaining({ rule }) })]);
  });

  test('alert file over the size limit is rejected', async () => {
    const file = path.join(scratch, 'large.json');
    await writeFile(file, `[${' '.repeat(maxAlertFileBytes)}]`);
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir }, output)).toBe(exitProblem);
    expect(output.stderr).toEqual([
      `firebreak: cannot read alert file ${file}: the file is larger than the maximum of 10485760 bytes (10 MiB); split it up`,
    ]);
  });

  test('each element of a mixed file is parsed in its own format', async () => {
    const falco = await readFile(path.join(fixtureDir, 'falcosidekick-terminal-shell.json'), 'utf8');
    const trivy = await readFile(path.join(__dirname, 'fixtures/trivy-vulnerable-image.json'), 'utf8');
    const text = `[${falco}, ${trivy}]`;

    const { format, alerts } = readAlertText(text);
    expect(format).toBe('mixed');
    expect(alerts.map((alert) => [alert.source, alert.rule])).toEqual([
      ['falco', 'Terminal shell in container'],
      ['generic', readAlertText(trivy).alerts[0]?.rule],
    ]);
  });

  test('alert file with a UTF-8 byte order mark is read', async () => {
    const body = await readFile(path.join(fixtureDir, 'falcosidekick-terminal-shell.json'), 'utf8');
    const file = path.join(scratch, 'bom.json');
    await writeFile(file, `\uFEFF${body}`);
    const output = capture();

    expect(await testCommand(file, { dir: playbookDir, expect: 'terminal-shell' }, output)).toBe(exitOk);
    expect(output.stderr).toEqual([]);
  });

  test('missing alert file is a usage error', async () => {
    expect(await testCommand(path.join(scratch, 'absent.json'), { dir: playbookDir }, capture())).toBe(exitUsage);
  });
});

describe('registerPlaybookCommands', () => {
  function program(output: Captured): Command {
    const root = new Command('firebreak').exitOverride().configureOutput({
      writeOut: (text) => output.stdout.push(text),
      writeErr: (text) => output.stderr.push(text),
    });
    registerPlaybookCommands(root, output);
    return root;
  }

  test('validate defaults to the playbooks directory', async () => {
    const output = capture();
    const cwd = process.cwd();
    process.chdir(repoRoot);
    try {
      await program(output).parseAsync(['playbooks', 'validate'], { from: 'user' });
    } finally {
      process.chdir(cwd);
    }

    expect(process.exitCode).toBe(exitOk);
    expect(output.stdout[0]).toMatch(/^9 playbook\(s\) valid in playbooks:/);
  });

  test('test sets exit code 1 for an unexpected playbook', async () => {
    const output = capture();
    const file = path.join(fixtureDir, 'falcosidekick-terminal-shell.json');

    await program(output).parseAsync(['playbooks', 'test', file, '--dir', playbookDir, '--expect', 'triage'], {
      from: 'user',
    });
    expect(process.exitCode).toBe(exitProblem);
  });

  test.each([
    [['playbooks', 'test']],
    [['playbooks', 'validate', '--colour']],
    [['playbooks', 'test', 'alert.json', '--format', 'syslog']],
    [['playbooks', 'test', 'alert.json', '--affected-nodes', 'two']],
  ])('usage error %j exits with code 2', async (args) => {
    const output = capture();

    const parsing = program(output).parseAsync(args, { from: 'user' });
    await expect(parsing).rejects.toBeInstanceOf(CommanderError);
    await expect(parsing).rejects.toMatchObject({ exitCode: exitUsage });
    expect(output.stderr.join('')).toMatch(/error/);
  });

  test('schema writes the current JSON Schema', async () => {
    const file = path.join(scratch, 'playbook.schema.json');

    await program(capture()).parseAsync(['playbooks', 'schema', '--output', file], { from: 'user' });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(playbookJsonSchema());
  });
});
