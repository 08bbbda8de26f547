import { z } from 'zod';

/** Replacement for a redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * Secret environment of a pod spec: names of variables set from `valueFrom.secretKeyRef`, and
 * whether a container takes a whole Secret through `envFrom`, whose variable names the spec does not list.
 */
export interface SecretEnvContext {
  secretEnvNames: Set<string>;
  literalEnvNames: Set<string>;
  hasSecretEnvFrom: boolean;
}

export const emptySecretEnvContext = (): SecretEnvContext => ({
  secretEnvNames: new Set(),
  literalEnvNames: new Set(),
  hasSecretEnvFrom: false,
});

const envVarSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({ secretKeyRef: z.object({}).loose().optional() })
    .loose()
    .optional(),
});
const containerEnvSchema = z
  .object({
    env: z.array(envVarSchema).optional(),
    envFrom: z.array(z.object({ secretRef: z.object({}).loose().optional() }).loose()).optional(),
  })
  .loose();
const podEnvSchema = z.object({
  spec: z
    .object({
      containers: z.array(containerEnvSchema).optional(),
      initContainers: z.array(containerEnvSchema).optional(),
      ephemeralContainers: z.array(containerEnvSchema).optional(),
    })
    .loose(),
});

/** Reads the secret environment of every container of a pod object. */
export function secretEnvFromPod(pod: unknown): SecretEnvContext {
  const context = emptySecretEnvContext();
  const parsed = podEnvSchema.safeParse(pod);
  if (!parsed.success) return context;
  const { containers = [], initContainers = [], ephemeralContainers = [] } = parsed.data.spec;
  for (const container of [...containers, ...initContainers, ...ephemeralContainers]) {
    for (const envVar of container.env ?? []) {
      if (envVar.valueFrom?.secretKeyRef) context.secretEnvNames.add(envVar.name);
      else if (envVar.value !== undefined) context.literalEnvNames.add(envVar.name);
    }
    if ((container.envFrom ?? []).some((source) => source.secretRef)) context.hasSecretEnvFrom = true;
  }
  return context;
}

// Object keys whose string values are secrets: token, password, secret and compound key names such as
// apiKey or private_key. A bare `key` is left alone: in Kubernetes objects it names a selector or Secret key.
const SENSITIVE_KEY_SUFFIXES = ['token', 'password', 'passwd', 'secret', 'credential', 'credentials'];
const SENSITIVE_KEY_NAMES = ['apikey', 'privatekey', 'secretkey', 'accesskey', 'signingkey', 'encryptionkey'];

export function isSensitiveKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[_.-]/g, '');
  if (SENSITIVE_KEY_NAMES.some((name) => normalized.endsWith(name))) return true;
  return SENSITIVE_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

const SENSITIVE_ENV_PATTERN = /(TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|_KEY$)/i;
const SAFE_ENV_PATTERN =
  /^(PATH|HOME|HOSTNAME|TERM|LANG|LC_\w+|PWD|OLDPWD|SHLVL|USER|SHELL|TZ|KUBERNETES_\w+|\w+_(SERVICE_HOST|SERVICE_PORT\w*|PORT\w*))$/;

/** True when the value of environment variable `name` must be hidden. */
export function isSecretEnvName(name: string, context: SecretEnvContext): boolean {
  if (context.secretEnvNames.has(name) || SENSITIVE_ENV_PATTERN.test(name)) return true;
  // Variables from envFrom Secrets are not listed in the spec, so every unlisted, non-standard one is hidden.
  return context.hasSecretEnvFrom && !context.literalEnvNames.has(name) && !SAFE_ENV_PATTERN.test(name);
}

const SECRET_WORDS = 'token|password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key';
const TEXT_RULES: { pattern: RegExp; replace: string }[] = [
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: REDACTED },
  { pattern: /(authorization\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s'",;]+/gi, replace: `$1$2 ${REDACTED}` },
  {
    pattern: new RegExp(`("[^"\\n]*(?:${SECRET_WORDS})[^"\\n]*"\\s*:\\s*")[^"\\n]*(")`, 'gi'),
    replace: `$1${REDACTED}$2`,
  },
  {
    pattern: new RegExp(`((?:^|\\s)--?[\\w-]*(?:${SECRET_WORDS})[\\w-]*[ =])[^\\s'"]+`, 'gim'),
    replace: `$1${REDACTED}`,
  },
  { pattern: new RegExp(`\\b([\\w.]*(?:${SECRET_WORDS})[\\w.]*=)[^\\s"'&;,]+`, 'gi'), replace: `$1${REDACTED}` },
];

/** Replaces tokens in free text: JWT-like strings, Authorization values and `name=value` secrets. */
export function redactText(text: string): string {
  return TEXT_RULES.reduce((current, rule) => current.replace(rule.pattern, rule.replace), text);
}

/** Redacts `KEY=VALUE` entries separated by newlines or NUL bytes, as in /proc/PID/environ. */
export function redactEnvironment(text: string, context: SecretEnvContext): string {
  return text
    .split(/([\n\0])/)
    .map((part) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(part);
      if (!match || match[1] === undefined || match[2] === undefined) return part;
      const name = match[1];
      return isSecretEnvName(name, context) ? `${name}=${REDACTED}` : `${name}=${redactText(match[2])}`;
    })
    .join('');
}

/** Copies a JSON value with secrets replaced: sensitive keys, secret env entries, Secret data and tokens. */
export function redactJson(value: unknown, context: SecretEnvContext = emptySecretEnvContext()): unknown {
  if (typeof value === 'string') return redactString(value, context);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, context));
  if (value === null || typeof value !== 'object') return value;

  const entries = Object.entries(value);
  const envEntry = envVarSchema.safeParse(value);
  const secretEnv = envEntry.success && isSecretEnvName(envEntry.data.name, context);
  const isSecretObject = entries.some(([key, child]) => key === 'kind' && child === 'Secret');
  return Object.fromEntries(
    entries.map(([key, child]) => {
      if (secretEnv && key === 'value' && typeof child === 'string') return [key, REDACTED];
      if (isSecretObject && (key === 'data' || key === 'stringData')) return [key, redactAllValues(child)];
      if (typeof child === 'string' && isSensitiveKey(key) && child !== '') return [key, REDACTED];
      return [key, redactJson(child, context)];
    }),
  );
}

/** Strings holding JSON (such as last-applied-configuration) are redacted as JSON, others as text. */
function redactString(text: string, context: SecretEnvContext): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text), context));
    } catch {
      // Not JSON after all: fall through to text rules.
    }
  }
  return redactText(text);
}

function redactAllValues(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  return Object.fromEntries(Object.keys(data).map((key) => [key, REDACTED]));
}
