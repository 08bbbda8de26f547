import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIntakeToken } from '../../workers/intake/main';

const token = 'f3a9c1d7e5b2a8c4d6e0f1a2';

test('token from the variable loses surrounding whitespace', () => {
  expect(readIntakeToken({ FIREBREAK_INTAKE_TOKEN: `  ${token}\n`, FIREBREAK_INTAKE_TOKEN_FILE: undefined })).toBe(
    token,
  );
});

test('token from the file loses surrounding whitespace', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'firebreak-token-')), 'token');
  writeFileSync(file, `\t${token} \n`);

  expect(readIntakeToken({ FIREBREAK_INTAKE_TOKEN: undefined, FIREBREAK_INTAKE_TOKEN_FILE: file })).toBe(token);
});

test('token with inner whitespace is rejected', () => {
  const read = () =>
    readIntakeToken({ FIREBREAK_INTAKE_TOKEN: 'f3a9c1d7 e5b2a8c4d6e0', FIREBREAK_INTAKE_TOKEN_FILE: undefined });

  expect(read).toThrow(/FIREBREAK_INTAKE_TOKEN contains whitespace/);
});

test('short token is rejected', () => {
  const read = () => readIntakeToken({ FIREBREAK_INTAKE_TOKEN: 'short-token', FIREBREAK_INTAKE_TOKEN_FILE: undefined });

  expect(read).toThrow(/has 11 characters, fewer than 16/);
});
