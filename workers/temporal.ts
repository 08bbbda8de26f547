import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { z } from 'zod';

/**
 * Temporal connection settings shared by the worker, the intake, the Slack app and the CLI, read from the
 * environment. TLS is off for a local dev server, on with any certificate setting or an API key (Temporal
 * Cloud).
 */
export const temporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  FIREBREAK_TASK_QUEUE: z.string().min(1).default('firebreak'),
  /** `true` for TLS with the system's root certificates and no client certificate. */
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** Base URL of the Temporal Web UI, for links in Slack messages and CLI output. */
  FIREBREAK_TEMPORAL_UI_URL: z.url().optional(),
});
export type TemporalEnv = z.infer<typeof temporalEnvSchema>;

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl?: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** Reads and checks the Temporal settings; the error names every invalid variable. */
export function temporalSettingsFromEnv(env: Record<string, string | undefined> = process.env): TemporalSettings {
  const parsed = temporalEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Temporal settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  const vars = parsed.data;
  if ((vars.TEMPORAL_TLS_CERT_FILE === undefined) !== (vars.TEMPORAL_TLS_KEY_FILE === undefined)) {
    throw new Error('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE must be set together for mutual TLS');
  }
  return {
    address: vars.TEMPORAL_ADDRESS,
    namespace: vars.TEMPORAL_NAMESPACE,
    taskQueue: vars.FIREBREAK_TASK_QUEUE,
    uiUrl: vars.FIREBREAK_TEMPORAL_UI_URL,
    tls: tlsConfig(vars),
    apiKey: vars.TEMPORAL_API_KEY,
  };
}

function tlsConfig(vars: TemporalEnv): TLSConfig | boolean | undefined {
  const custom = vars.TEMPORAL_TLS_CA_FILE ?? vars.TEMPORAL_TLS_CERT_FILE ?? vars.TEMPORAL_TLS_SERVER_NAME;
  if (custom === undefined) {
    return vars.TEMPORAL_TLS === 'true' || vars.TEMPORAL_API_KEY !== undefined ? true : undefined;
  }
  const config: TLSConfig = {};
  if (vars.TEMPORAL_TLS_SERVER_NAME) config.serverNameOverride = vars.TEMPORAL_TLS_SERVER_NAME;
  if (vars.TEMPORAL_TLS_CA_FILE) config.serverRootCACertificate = readFileSync(vars.TEMPORAL_TLS_CA_FILE);
  if (vars.TEMPORAL_TLS_CERT_FILE && vars.TEMPORAL_TLS_KEY_FILE) {
    config.clientCertPair = {
      crt: readFileSync(vars.TEMPORAL_TLS_CERT_FILE),
      key: readFileSync(vars.TEMPORAL_TLS_KEY_FILE),
    };
  }
  return config;
}

/** Options for `Connection.connect` (client) and `NativeConnection.connect` (worker); both take this shape. */
export function connectionOptions(settings: TemporalSettings): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
} {
  return {
    address: settings.address,
    ...(settings.tls === undefined ? {} : { tls: settings.tls }),
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
  };
}

/** Link to an incident in the Temporal Web UI, or undefined without a UI URL. */
export function incidentUiUrl(settings: TemporalSettings, incidentId: string): string | undefined {
  if (settings.uiUrl === undefined) return undefined;
  const base = settings.uiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(incidentId)}`;
}

/** Connects a Temporal client with these settings; close it with `client.connection.close()`. */
export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(settings));
  return new Client({ connection, namespace: settings.namespace });
}
