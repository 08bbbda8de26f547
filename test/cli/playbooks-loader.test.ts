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

  test('fields keys with dots are quoted in the path', () => {
    const text = playbookYaml('test', '  fields: { proc.cmdline: "/(a+)+/" }');

    expect(parse(text)).toEqual([
      expect.stringMatching(/^playbooks\/test\.yaml:9:27: error: match\.fields\["proc\.cmdline"\]: invalid pattern/),
    ]);
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
