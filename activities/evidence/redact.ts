import { z } from 'zod';
import { redactArguments } from './redact-command';
import { isSecretName, isSensitiveKey, REDACTED } from './redact-names';
import { redactText } from './redact-text';

export { isSensitiveKey, REDACTED } from './redact-names';
export { redactText } from './redact-text';

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

const SAFE_ENV_PATTERN =
  /^(PATH|HOME|HOSTNAME|TERM|LANG|LC_\w+|PWD|OLDPWD|SHLVL|USER|SHELL|TZ|KUBERNETES_\w+|\w+_(SERVICE_HOST|SERVICE_PORT\w*|PORT\w*))$/;

/** True when the value of environment variable `name` must be hidden. */
export function isSecretEnvName(name: string, context: SecretEnvContext): boolean {
  if (context.secretEnvNames.has(name) || isSecretName(name)) return true;
  // Variables from envFrom Secrets are not listed in the spec, so every unlisted, non-standard one is hidden.
  return context.hasSecretEnvFrom && !context.literalEnvNames.has(name) && !SAFE_ENV_PATTERN.test(name);
}

/** Redacts `KEY=VALUE` entries separated by newlines or NUL bytes, as in /proc/PID/environ. */
export function redactEnvironment(text: string, context: SecretEnvContext): string {
  return text
    .split(/([\n\0])/)
    .map((part) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(part);
      if (!match || match[1] === undefined || match[2] === undefined) return part;
      const name = match[1];
      return isSecretEnvName(name, context) ? `${name}=${REDACTED}` : `${name}=${redactText(match[2], context)}`;
    })
    .join('');
}

/** The annotation in which `kubectl apply` keeps the whole applied object, literal secrets included. */
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

const stringArray = z.array(z.string());

/**
 * Copies a JSON value with secrets replaced: sensitive keys, secret env entries, Secret data, the
 * last-applied-configuration annotation, command-line passwords in `command` and `args`, and tokens in text.
 */
export function redactJson(value: unknown, context: SecretEnvContext = emptySecretEnvContext()): unknown {
  if (typeof value === 'string') return redactString(value, context);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, context));
  if (value === null || typeof value !== 'object') return value;

  const entries = Object.entries(redactContainerArguments(value));
  const envEntry = envVarSchema.safeParse(value);
  const secretEnv = envEntry.success && isSecretEnvName(envEntry.data.name, context);
  const isSecretObject = entries.some(([key, child]) => key === 'kind' && child === 'Secret');
  return Object.fromEntries(
    entries.map(([key, child]) => {
      if (secretEnv && key === 'value' && typeof child === 'string') return [key, REDACTED];
      if (isSecretObject && (key === 'data' || key === 'stringData')) return [key, redactAllValues(child)];
      if (key === LAST_APPLIED_ANNOTATION && typeof child === 'string') return [key, REDACTED];
      if (typeof child === 'string' && isSensitiveKey(key) && child !== '') return [key, REDACTED];
      return [key, redactJson(child, context)];
    }),
  );
}

/** Redacts passwords in a container's `command` and `args`, read as one argument list. */
function redactContainerArguments(value: object): object {
  const command = stringArray.safeParse('command' in value ? value.command : undefined);
  const args = stringArray.safeParse('args' in value ? value.args : undefined);
  if (!command.success && !args.success) return value;
  const commandList = command.success ? command.data : [];
  const argList = args.success ? args.data : [];
  const { argv } = redactArguments([...commandList, ...argList]);
  return {
    ...value,
    ...(command.success ? { command: argv.slice(0, commandList.length) } : {}),
    ...(args.success ? { args: argv.slice(commandList.length) } : {}),
  };
}

/** Strings holding JSON are redacted as JSON, others as text. */
function redactString(text: string, context: SecretEnvContext): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text), context));
    } catch {
      // Not JSON after all: fall through to text rules.
    }
  }
  return redactText(text, context);
}

function redactAllValues(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  return Object.fromEntries(Object.keys(data).map((key) => [key, REDACTED]));
}
