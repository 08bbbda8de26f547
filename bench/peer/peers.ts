import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';
import { freePort } from '../../tools/lab/process';
import type { LabCluster } from '../../tools/lab/kube';

/** A responder that takes Falco events over HTTP and writes a NetworkPolicy: the floor script or Falco Talon. */
export interface Peer {
  name: string;
  /** URL that Falco events are posted to. */
  eventUrl: string;
  /** Name of the NetworkPolicy the peer creates for a pod. */
  policyName(pod: string): string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export type TalonBuild = { ok: true; binary: string } | { ok: false; command: string; error: string };

/** Builds Falco Talon with `bench/peer/build.sh`; on failure returns the command and its error output. */
export function buildTalon(): Promise<TalonBuild> {
  const script = join(repoRoot, 'bench', 'peer', 'build.sh');
  return new Promise((resolve) => {
    execFile('bash', [script], { cwd: repoRoot, timeout: 900_000 }, (error, stdout, stderr) => {
      if (error) {
        resolve({ ok: false, command: 'bash bench/peer/build.sh', error: `${stderr}`.trim() || error.message });
      } else {
        resolve({ ok: true, binary: stdout.trim().split('\n').at(-1) ?? '' });
      }
    });
  });
}

const readySchema = z.object({ ready: z.literal(true), url: z.string() });

function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function stopper(child: ChildProcess, signal: NodeJS.Signals): () => Promise<void> {
  return async () => {
    const exited = waitForExit(child);
    child.kill(signal);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([exited, timeout]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
}

/** Starts the floor script (`bench/peer/floor.ts`) against the lab API server with the admin token. */
export async function startFloor(kube: LabCluster, logDir: string, port = 0): Promise<Peer> {
  mkdirSync(logDir, { recursive: true });
  const logFd = openSync(join(logDir, 'floor.log'), 'a');
  const config = { server: kube.server, token: kube.adminToken, caFile: kube.caCert, port };
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'floor.ts')], {
    cwd: repoRoot,
    env: { ...process.env, FLOOR_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  const ready = await new Promise<z.infer<typeof readySchema>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the floor script was not ready within 60 s')), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const parsed = readySchema.safeParse(message);
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`the floor script sent an invalid ready message: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) =>
      reject(new Error(`the floor script exited with code ${code}; see ${logDir}/floor.log`)),
    );
  });
  return {
    name: 'floor script',
    eventUrl: ready.url,
    policyName: (pod) => `floor-${pod}`,
    kill: stopper(child, 'SIGKILL'),
    stop: stopper(child, 'SIGTERM'),
  };
}

/**
 * Starts Falco Talon with one rule: a `Terminal shell in container` event runs the `kubernetes:networkpolicy`
 * actionner, which creates a NetworkPolicy named after the pod's owner (the pod itself for a bare pod).
 * NOTE: the configuration follows Falco Talon v0.3.0's documented settings and rule format. It has never run
 * here, because the Go module proxy refuses the module (see docs/benchmarks.md).
 */
export async function startTalon(binary: string, kubeconfigPath: string, dir: string): Promise<Peer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    [
      '- action: Isolate the pod',
      '  actionner: kubernetes:networkpolicy',
      '- rule: Terminal shell in container',
      '  match:',
      '    rules:',
      '      - Terminal shell in container',
      '  actions:',
      '    - action: Isolate the pod',
      '',
    ].join('\n'),
  );
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    [
      'listen_address: 127.0.0.1',
      `listen_port: ${port}`,
      `rules_files: [${JSON.stringify(rulesFile)}]`,
      `kubeconfig: ${JSON.stringify(kubeconfigPath)}`,
      'watch_rules: false',
      'print_all_events: false',
      '',
    ].join('\n'),
  );
  const logFd = openSync(join(dir, 'falco-talon.log'), 'a');
  const child = spawn(binary, ['server', '--config', configFile], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const healthy = await fetch(`${url}/healthz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) {
      return {
        name: 'Falco Talon',
        eventUrl: url,
        policyName: (pod) => pod,
        kill: stopper(child, 'SIGKILL'),
        stop: stopper(child, 'SIGTERM'),
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stopper(child, 'SIGKILL')();
  throw new Error(`Falco Talon did not respond on ${url}/healthz within 30 s; see ${dir}/falco-talon.log`);
}
