import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLabCluster, type LabCluster } from './kube';
import { stopProcess, type ManagedProcess } from './process';
import { startTemporalServer, temporalDbFile, type TemporalServer } from './temporal';

export interface Lab {
  temporal: TemporalServer;
  kube?: LabCluster;
  logDir: string;
  processes: ManagedProcess[];
}

export interface LabOptions {
  dir: string;
  /** Start etcd, kube-apiserver, kube-controller-manager and kwok as well. */
  kube: boolean;
  temporalPort?: number;
  temporalUiPort?: number;
}

/** Starts the lab servers and a reaper process that stops them if this process dies without cleaning up. */
export async function startLab(options: LabOptions): Promise<Lab> {
  const logDir = join(options.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const [temporal, kube] = await Promise.all([
    startTemporalServer({
      logDir,
      dbFile: temporalDbFile(options.dir),
      port: options.temporalPort,
      uiPort: options.temporalUiPort,
    }),
    options.kube ? startLabCluster({ dir: join(options.dir, 'kube'), logDir }) : Promise.resolve(undefined),
  ]);
  const processes = [temporal.process, ...(kube?.processes ?? [])];
  startReaper(processes);
  return { temporal, kube, logDir, processes };
}

/** Stops every lab server, the last started first. */
export async function stopLab(lab: Lab): Promise<void> {
  for (const proc of [...lab.processes].reverse()) {
    await stopProcess(proc);
  }
}

function startReaper(processes: ManagedProcess[]): void {
  const args = [join(__dirname, 'reaper.js'), String(process.pid), ...processes.map((p) => String(p.pid))];
  const reaper = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
  reaper.unref();
}
