import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';
import { apiRequest, labNodes, type LabCluster } from '../../tools/lab/kube';
import { startLab, stopLab, type Lab } from '../../tools/lab/lab';

/** The servers of one benchmark: the Temporal dev server (SQLite file) and the Kubernetes lab on 127.0.0.1. */
export interface BenchLab {
  lab: Lab;
  kube: LabCluster;
  dir: string;
  kubeConfig: KubeConfig;
  node: string;
  versions: { temporalCli: string; kubeApiserver: string };
  stop(): Promise<void>;
}

const versionSchema = z.object({ gitVersion: z.string() });

/** Run folders of this process; `bench.ts` removes them after a run without wrong results. */
export const labDirs: string[] = [];

/** Starts fresh servers in `.cache/bench/runs/<id>-<time>/`, which keeps their data and logs. */
export async function startBenchLab(id: string): Promise<BenchLab> {
  const dir = join(repoRoot, '.cache', 'bench', 'runs', `${id}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  labDirs.push(dir);
  const lab = await startLab({ dir, kube: true });
  const kube = lab.kube;
  if (kube === undefined) {
    await stopLab(lab);
    throw new Error('the lab cluster did not start');
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kube.kubeconfigPath);
  const response = await apiRequest(kube.server, kube.adminToken, kube.caCert, 'GET', '/version');
  const served = versionSchema.safeParse(JSON.parse(response.body));
  let stopped = false;
  return {
    lab,
    kube,
    dir,
    kubeConfig,
    node: labNodes[0] ?? 'kwok-node-0',
    versions: {
      temporalCli: lab.temporal.version,
      kubeApiserver: served.success ? served.data.gitVersion : kube.version,
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopLab(lab);
    },
  };
}

/** Reads a Prometheus counter of the API server, summed over the series whose labels contain `match`. */
export async function apiServerCounter(lab: BenchLab, name: string, match: string): Promise<number> {
  const response = await apiRequest(lab.kube.server, lab.kube.adminToken, lab.kube.caCert, 'GET', '/metrics');
  let total = 0;
  for (const line of response.body.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(match)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return total;
}

/** Process ids of the lab servers that benchmarks account CPU time to. */
export function labPids(lab: BenchLab): Record<string, number> {
  const pids: Record<string, number> = { 'Temporal dev server': lab.lab.temporal.process.pid };
  for (const proc of lab.kube.processes) {
    const name = proc.name.replace(/-\d+$/, '');
    if (name === 'kube-apiserver' || name === 'etcd') pids[name] = proc.pid;
  }
  return pids;
}
