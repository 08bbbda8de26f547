import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  PlaybookLoadError,
  formatDiagnostic,
  loadPlaybookDirectory,
  loadPlaybooks,
  parsePlaybookText,
} from '../../cli/playbooks/loader';

/** Builds a valid playbook file. Line numbers in the tests refer to this text. */
function playbookYaml(name: string, matchLines = '  rules: ["Terminal shell in container"]'): string {
  return [
    'apiVersion: firebreak.dev/v1', // 1
    'kind: Playbook', // 2
    'metadata:', // 3
    `  name: ${name}`, // 4
    '  version: 2', // 5
    '  description: Test playbook.', // 6
    '  rationale: Test rationale.', // 7
    'match:', // 8
    matchLines, // 9
    'severity:', // 10
    '  default: P2', // 11
    'gates:', // 12
    '  isolate:', // 13
    '    P0: { mode: auto }', // 14
    '    P1: { mode: ask, approvers: [U1], deadline: 10m, onTimeout: approve }', // 15
    '    P2: { mode: ask, approvers: [U1], deadline: 30m }', // 16
    '    P3: { mode: skip }', // 17
    '  escalate: { P0: { mode: skip }, P1: { mode: skip }, P2: { mode: skip }, P3: { mode: skip } }', // 18
    '  restore: { P0: { mode: skip }, P1: { mode: skip }, P2: { mode: skip }, P3: { mode: skip } }', // 19
    'containment:', // 20
    '  - action: quarantine', // 21
    '    allowEgress: [{ dns: true }]', // 22
    'evidence: [pod, alerts]', // 23
    '',
  ].join('\n');
}

function parse(text: string) {
  return parsePlaybookText(text, 'playbooks/test.yaml').diagnostics.map(formatDiagnostic);
}

describe('parsePlaybookText', () => {
  test('valid playbook has no diagnostics', () => {
    const result = parsePlaybookText(playbookYaml('test'), 'playbooks/test.yaml');

    expect(result.diagnostics).toEqual([]);
    expect(result.loaded?.playbook.metadata.version).toBe(2);
  });

  test('typo in a field name names file, line, column and path', () => {
    const text = playbookYaml('test', '  rulez: ["Terminal shell in container"]');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:9:3: error: match.rulez: unknown field "rulez" (did you mean "rules"?); ' +
        'expected one of: sources, rules, tags, priorityAtLeast, namespaces, labels, fields, exclude',
    ]);
  });

  test('wrong type names the line of the value', () => {
    const text = playbookYaml('test').replace('  version: 2', '  version: two');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:5:12: error: metadata.version: Invalid input: expected number, received string',
    ]);
  });

  test('impossible deadline points at the deadline', () => {
    const text = playbookYaml('test').replace('deadline: 10m', 'deadline: 45d');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:15:49: error: gates.isolate.P1.deadline: deadline 45d is longer than the maximum of 30d',
    ]);
  });

  test('deadline on an auto gate is an error', () => {
    const text = playbookYaml('test').replace('P0: { mode: auto }', 'P0: { mode: auto, deadline: 5m }');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:14:33: error: gates.isolate.P0.deadline: deadline applies only when mode is ask, ' +
        'but mode is auto; remove deadline or set mode: ask',
    ]);
  });

  test('missing field names the field and its parent line', () => {
    const text = playbookYaml('test').replace('    P3: { mode: skip }\n', '');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:14:5: error: gates.isolate.P3: missing required field "P3"; expected object',
    ]);
  });

  test('containment error names the step index', () => {
    const text = playbookYaml('test').replace('  - action: quarantine', '  - action: quarantine\n    mode: strict');

    expect(parse(text)).toEqual([
      expect.stringMatching(/^playbooks\/test\.yaml:22:5: error: containment\[0\]\.mode: unknown field "mode"/),
    ]);
  });

  test('regex that RE2 cannot compile names file, line and field', () => {
    const text = playbookYaml('test', '  fields: { proc.cmdline: { regex: "(?=curl)" } }');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:9:36: error: match.fields["proc.cmdline"].regex: invalid regex "(?=curl)": ' +
        'error parsing regexp: invalid or unsupported Perl syntax: `(?=`; ' +
        'Firebreak uses RE2 syntax, which has no backreferences (\\1) and no lookahead or lookbehind',
    ]);
  });

  test('plain string that looks like a regex is an exact value', () => {
    const result = parsePlaybookText(playbookYaml('test', '  fields: { proc.exepath: /usr/bin/su }'), 'test.yaml');

    expect(result.diagnostics).toEqual([]);
    expect(result.loaded?.playbook.match.fields).toEqual({ 'proc.exepath': '/usr/bin/su' });
  });

  test('missing enum field says missing and lists the values', () => {
    const text = playbookYaml('test').replace('    P3: { mode: skip }', '    P3: { }');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:17:9: error: gates.isolate.P3.mode: missing required field "mode"; expected one of "auto", "ask", "skip"',
    ]);
  });

  test('missing literal field says missing and gives the value', () => {
    const text = playbookYaml('test').replace('kind: Playbook\n', '');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:1:1: error: kind: missing required field "kind"; expected "Playbook"',
    ]);
  });

  test('misspelt enum field gives one error', () => {
    const text = playbookYaml('test').replace('  default: P2', '  defualt: P2');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:11:3: error: severity.defualt: unknown field "defualt" (did you mean "default"?); ' +
        'expected one of: default, reason, rules, senderHint',
    ]);
  });

  test('misspelt field in an exclusion gives one error', () => {
    const matchLines = '  rules: ["Terminal shell in container"]\n  exclude:\n    - namespace: [kube-system]';

    expect(parse(playbookYaml('test', matchLines))).toEqual([
      expect.stringMatching(
        /^playbooks\/test\.yaml:11:7: error: match\.exclude\[0\]\.namespace: unknown field "namespace" \(did you mean "namespaces"\?\)/,
      ),
    ]);
  });

  test('too long duration shows the value and the maximum', () => {
    const text = playbookYaml('test').replace('deadline: 10m', 'deadline: 99999999999999999999d');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:15:49: error: gates.isolate.P1.deadline: duration 99999999999999999999d is longer than the maximum of 365d',
    ]);
  });

  test('YAML merge key is an error that names merge keys', () => {
    const text = playbookYaml('test').replace(
      '    P2: { mode: ask, approvers: [U1], deadline: 30m }',
      '    P2: &asking { mode: ask, approvers: [U1], deadline: 30m }\n    P3x: { <<: *asking }',
    );

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:17:12: error: YAML merge keys (<<) are not supported; write the fields out in full',
    ]);
  });

  test.each(['%YAML 1.1', '%TAG !e! tag:example.com,2000:'])('directive %s is an error', (directive) => {
    expect(parse(`# comment\n${directive}\n---\n${playbookYaml('test')}`)).toEqual([
      'playbooks/test.yaml:2:1: error: YAML directives (%YAML, %TAG) are not supported: playbooks are always read ' +
        'as YAML 1.2 with the core schema; remove the directive',
    ]);
  });

  test('complex key is a located error without a Node warning', () => {
    const warning = jest.spyOn(process, 'emitWarning');
    const text = playbookYaml('test').replace('  version: 2', '  ? [version]\n  : 2');

    try {
      expect(parse(text)).toEqual(['playbooks/test.yaml:5:5: error: a key must be plain text, but this key is a list']);
      expect(warning).not.toHaveBeenCalled();
    } finally {
      warning.mockRestore();
    }
  });

  test('YAML syntax error names its position', () => {
    expect(parse('apiVersion: firebreak.dev/v1\nkind: [Playbook\n')).toEqual([
      expect.stringMatching(/^playbooks\/test\.yaml:\d+:\d+: error: invalid YAML \(\w+\): /),
    ]);
  });

  test('duplicate key is a YAML error', () => {
    const text = playbookYaml('test').replace('  version: 2', '  version: 2\n  version: 3');

    expect(parse(text)).toEqual([
      'playbooks/test.yaml:6:3: error: invalid YAML (DUPLICATE_KEY): Map keys must be unique',
    ]);
  });

  test('empty file is an error', () => {
    expect(parse('# nothing here\n')).toEqual([
      'playbooks/test.yaml:1:1: error: file is empty; expected a playbook starting with apiVersion: firebreak.dev/v1 and kind: Playbook',
    ]);
  });

  test('two documents in one file are an error', () => {
    expect(parse(`${playbookYaml('test')}---\n${playbookYaml('other')}`)).toEqual([
      expect.stringContaining('error: the file holds more than one YAML document'),
    ]);
  });

  test('ask gate without approvers is a warning', () => {
    const text = playbookYaml('test').replace(
      'P2: { mode: ask, approvers: [U1], deadline: 30m }',
      'P2: { mode: ask, deadline: 30m }',
    );

    expect(parse(text)).toEqual([
      expect.stringMatching(/^playbooks\/test\.yaml:16:9: warning: gates\.isolate\.P2: nobody may approve/),
    ]);
  });
});

describe('loadPlaybookDirectory', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'firebreak-playbooks-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('overlapping matches are an error in both files', async () => {
    await writeFile(path.join(directory, 'shell-a.yaml'), playbookYaml('shell-a'));
    await writeFile(
      path.join(directory, 'shell-b.yaml'),
      playbookYaml('shell-b', '  rules: ["Terminal shell in container", "Other"]'),
    );

    const { diagnostics } = await loadPlaybookDirectory(directory);
    const lines = diagnostics.map(formatDiagnostic);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `${directory}/shell-a.yaml:9:3: error: match: match overlaps playbook shell-b (${directory}/shell-b.yaml:9:3): ` +
        'both claim rule "Terminal shell in container" with the same specificity (rules (exact)); ' +
        'make one match narrower, for example with namespaces, labels or a more exact rule list',
    );
    expect(lines[1]).toMatch(
      new RegExp(`^${directory}/shell-b\\.yaml:9:3: error: match: match overlaps playbook shell-a`),
    );
  });

  test('different namespaces do not overlap', async () => {
    await writeFile(path.join(directory, 'shell-a.yaml'), playbookYaml('shell-a', '  rules: [x]\n  namespaces: [a]'));
    await writeFile(path.join(directory, 'shell-b.yaml'), playbookYaml('shell-b', '  rules: [x]\n  namespaces: [b]'));

    const { diagnostics, playbooks } = await loadPlaybookDirectory(directory);
    expect(diagnostics).toEqual([]);
    expect(playbooks).toHaveLength(2);
  });

  test('duplicate names are an error', async () => {
    await writeFile(path.join(directory, 'shell-a.yaml'), playbookYaml('shell', '  rules: [a]'));
    await writeFile(path.join(directory, 'shell-b.yaml'), playbookYaml('shell', '  rules: [b]'));

    const lines = (await loadPlaybookDirectory(directory)).diagnostics.map(formatDiagnostic);
    expect(lines).toContain(
      `${directory}/shell-b.yaml:4:9: error: metadata.name: playbook name shell is already used by ${directory}/shell-a.yaml:4:9; names must be unique`,
    );
  });

  test('name that differs from the file name is a warning', async () => {
    await writeFile(path.join(directory, 'shell.yaml'), playbookYaml('terminal'));

    const lines = (await loadPlaybookDirectory(directory)).diagnostics.map(formatDiagnostic);
    expect(lines).toEqual([
      `${directory}/shell.yaml:4:9: warning: metadata.name: name terminal differs from the file name shell`,
    ]);
  });

  test('symbolic links count, as in a ConfigMap volume', async () => {
    await mkdir(path.join(directory, '..data'));
    await writeFile(path.join(directory, '..data', 'shell.yaml'), playbookYaml('shell'));
    await symlink(path.join('..data', 'shell.yaml'), path.join(directory, 'shell.yaml'));

    const { diagnostics, playbooks } = await loadPlaybookDirectory(directory);
    expect(diagnostics).toEqual([]);
    expect(playbooks.map((loaded) => loaded.file)).toEqual([path.join(directory, 'shell.yaml')]);
  });

  test('dangling link and link loop are errors of their own files', async () => {
    await writeFile(path.join(directory, 'shell.yaml'), playbookYaml('shell'));
    await symlink(path.join(directory, 'absent.yaml'), path.join(directory, 'dangling.yaml'));
    await symlink(path.join(directory, 'loop-b.yaml'), path.join(directory, 'loop-a.yaml'));
    await symlink(path.join(directory, 'loop-a.yaml'), path.join(directory, 'loop-b.yaml'));

    const { diagnostics, playbooks } = await loadPlaybookDirectory(directory);
    expect(playbooks.map((loaded) => loaded.playbook.metadata.name)).toEqual(['shell']);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${directory}/dangling.yaml:1:1: error: cannot read the file: it is a symbolic link whose target does not exist (ENOENT)`,
      `${directory}/loop-a.yaml:1:1: error: cannot read the file: it is a symbolic link that loops back on itself (ELOOP)`,
      `${directory}/loop-b.yaml:1:1: error: cannot read the file: it is a symbolic link that loops back on itself (ELOOP)`,
    ]);
  });

  test('bytes that are not UTF-8 are an error with their offset and line', async () => {
    const text = Buffer.from(playbookYaml('shell').replace('Test playbook.', 'Test \u00e9 playbook.'), 'utf8');
    const offset = text.indexOf(Buffer.from('\u00e9', 'utf8'));
    text[offset] = 0xff;
    await writeFile(path.join(directory, 'shell.yaml'), text);

    const lines = (await loadPlaybookDirectory(directory)).diagnostics.map(formatDiagnostic);
    expect(lines).toEqual([
      `${directory}/shell.yaml:6:21: error: file is not valid UTF-8: byte 0xff at byte offset ${offset}; save the file as UTF-8`,
    ]);
  });

  test('hostile pattern and exact rule validate quickly', async () => {
    await writeFile(path.join(directory, 'aaa.yaml'), playbookYaml('aaa', '  rules: [{ regex: "((a+))+$" }]'));
    await writeFile(
      path.join(directory, 'bbb.yaml'),
      playbookYaml('bbb', `  rules: [{ regex: zzz }, "${'a'.repeat(40)}!"]`),
    );

    const startedMs = performance.now();
    const { diagnostics, playbooks } = await loadPlaybookDirectory(directory);
    expect(performance.now() - startedMs).toBeLessThan(2000);
    expect(diagnostics).toEqual([]);
    expect(playbooks).toHaveLength(2);
  });

  test('directory without playbooks is an error', async () => {
    await writeFile(path.join(directory, 'README.md'), '# not a playbook\n');

    const { diagnostics } = await loadPlaybookDirectory(directory);
    expect(diagnostics).toEqual([
      expect.objectContaining({ level: 'error', message: expect.stringContaining('no playbook files') }),
    ]);
  });

  test('loadPlaybooks raises PlaybookLoadError listing each error', async () => {
    await writeFile(path.join(directory, 'bad.yaml'), playbookYaml('bad').replace('default: P2', 'default: P5'));

    const failure = loadPlaybooks(directory);
    await expect(failure).rejects.toBeInstanceOf(PlaybookLoadError);
    await expect(failure).rejects.toThrow(`${directory}/bad.yaml:11:12: error: severity.default: Invalid option`);
  });

  test('loadPlaybooks returns the playbooks of a valid directory', async () => {
    await writeFile(path.join(directory, 'shell.yaml'), playbookYaml('shell'));

    const playbooks = await loadPlaybooks(directory);
    expect(playbooks.map((playbook) => playbook.metadata.name)).toEqual(['shell']);
  });
});
