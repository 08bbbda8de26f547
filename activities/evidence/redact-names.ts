/** Replacement for a redacted value. */
export const REDACTED = '[REDACTED]';

// Name parts that mark a secret wherever they occur in an environment variable or text key.
const SECRET_NAME_PARTS =
  /PASSW|PASSPHRASE|TOKEN|SECRET|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE|CONNECTION_?STRING|CONN_?STR/;
// Whole name segments that mark a secret: DB_PASS, MYSQL_PWD, REDIS_CONN, SENTRY_DSN, SESSION_COOKIE.
const SECRET_SEGMENTS = new Set(['PASS', 'PWD', 'PW', 'CONN', 'DSN', 'COOKIE']);
// Last segments that mark a secret when the name has more than one segment: STRIPE_SK, SIGNING_KEY.
const SECRET_LAST_SEGMENTS = new Set(['SK', 'KEY']);
// Names that contain a secret segment but are never secret: the shell's working directories.
const NEVER_SECRET_NAMES = new Set(['PWD', 'OLDPWD']);

/** Splits `DB_PASS`, `db-pass`, `db.pass` and `dbPass` into upper-case segments. */
function nameSegments(name: string): string[] {
  return name
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .filter((segment) => segment !== '')
    .map((segment) => segment.toUpperCase());
}

/** True when a variable or key called `name` contains a secret, judged by the name alone. */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (NEVER_SECRET_NAMES.has(upper)) return false;
  if (SECRET_NAME_PARTS.test(upper.replace(/[-.]/g, '_'))) return true;
  const segments = nameSegments(name);
  if (segments.some((segment) => SECRET_SEGMENTS.has(segment))) return true;
  const last = segments.at(-1);
  return segments.length > 1 && last !== undefined && SECRET_LAST_SEGMENTS.has(last);
}

// Object keys whose string values are secrets. Matching is by suffix, because Kubernetes objects are full of
// keys such as `secretName` and `tokenExpirationSeconds` that contain the words but hold no secret. A bare
// `key` is left alone: in Kubernetes objects it names a selector or Secret key.
const SENSITIVE_KEY_SUFFIXES = [
  'token',
  'password',
  'passwd',
  'passphrase',
  'pass',
  'pwd',
  'secret',
  'credential',
  'credentials',
  'dsn',
  'cookie',
  'connectionstring',
  'connstr',
];
const SENSITIVE_KEY_NAMES = ['apikey', 'privatekey', 'secretkey', 'accesskey', 'signingkey', 'encryptionkey'];

/** True when the string value of the JSON object key `key` must be hidden. */
export function isSensitiveKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[_.-]/g, '');
  if (SENSITIVE_KEY_NAMES.some((name) => normalized.endsWith(name))) return true;
  if (SENSITIVE_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix))) return true;
  const segments = nameSegments(key);
  return segments.length > 1 && segments.at(-1) === 'SK';
}
