import { join } from 'node:path';
import { serverBinary, pinnedVersion } from './binaries';
import { freePort, startProcess, tcpOpen, waitFor, type ManagedProcess } from './process';

/** Firebreak's search attributes, registered on every Temporal server it uses. */
export const firebreakSearchAttributes: Record<string, 'Keyword' | 'Int'> = {
  FirebreakPhase: 'Keyword',
  FirebreakSeverity: 'Keyword',
  FirebreakNamespace: 'Keyword',
  FirebreakWorkload: 'Keyword',
  FirebreakNode: 'Keyword',
  FirebreakRule: 'Keyword',
  FirebreakGate: 'Keyword',
  FirebreakAlertCount: 'Int',
};

export interface TemporalServer {
  process: ManagedProcess;
  address: string;
  uiUrl: string;
  namespace: string;
  version: string;
  binary: string;
  dbFile: string;
}

export interface TemporalServerOptions {
  logDir: string;
  dbFile: string;
  port?: number;
  uiPort?: number;
  startTimeoutMs?: number;
}

/** Starts `temporal server start-dev` on 127.0.0.1 with a SQLite file and the Web UI. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const binary = serverBinary('temporal');
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-ip',
    '127.0.0.1',
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--db-filename',
    options.dbFile,
    '--namespace',
    'default',
    '--log-level',
    'warn',
    // Larger workflow and history limits are not needed; the defaults are Temporal's production ones.
    ...Object.entries(firebreakSearchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const proc = startProcess(`temporal-${port}`, binary, args, options.logDir);
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  await waitFor(proc, 'the frontend port open', () => tcpOpen(port), options.startTimeoutMs ?? 60_000);
  await waitFor(proc, 'the Web UI answering', async () => (await fetch(uiUrl)).ok, options.startTimeoutMs ?? 60_000);
  return {
    process: proc,
    address: `127.0.0.1:${port}`,
    uiUrl,
    namespace: 'default',
    version: pinnedVersion('temporal'),
    binary,
    dbFile: options.dbFile,
  };
}

/** Default SQLite file for a data folder. */
export function temporalDbFile(dataDir: string): string {
  return join(dataDir, 'temporal.sqlite');
}
