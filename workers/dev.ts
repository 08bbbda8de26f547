import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { repoRoot } from '../tools/lab/binaries';
import { createDemoWorkload, demoNamespace } from '../tools/lab/demo';
import { labNodes } from '../tools/lab/kube';
import { startLab, stopLab, type Lab } from '../tools/lab/lab';
import { labOperator, writeLabPlaybooks } from '../tools/lab/playbooks';
import { createActivities } from '../activities';
import { buildIntakeServer } from './intake/server';
import { activityDepsFromEnv, createFirebreakWorker } from './worker';
import { temporalSettingsFromEnv } from './temporal';

const dataDir = process.env.FIREBREAK_DATA_DIR ?? join(repoRoot, '.data');
const temporalPort = 7233;
const temporalUiPort = 8233;
const intakePort = Number(process.env.FIREBREAK_INTAKE_PORT ?? 8787);
const log = pino({ name: 'firebreak-dev', level: process.env.LOG_LEVEL ?? 'info' });

/** Returns the kubeconfig path of the current context, or undefined when there is none. */
function currentKubeconfig(): string | undefined {
  const path = process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  if (!existsSync(path)) {
    return undefined;
  }
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config.getCurrentContext() ? path : undefined;
}

/** Reads the intake token from the data folder, creating it on first start. */
function intakeToken(): { token: string; file: string } {
  const file = join(dataDir, 'intake-token');
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  return { token: readFileSync(file, 'utf8').trim(), file };
}

async function startKubernetes(lab: Lab): Promise<string> {
  const existing = currentKubeconfig();
  if (existing) {
    log.info({ kubeconfig: existing }, 'using the current kubeconfig context');
    return existing;
  }
  const kube = lab.kube;
  if (!kube) {
    throw new Error('the lab cluster did not start');
  }
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfigPath);
  await createDemoWorkload(config, labNodes[0] ?? 'kwok-node-0');
  return kube.kubeconfigPath;
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const useLabCluster = currentKubeconfig() === undefined;
  // The lab cluster's certificates and tokens are made anew at each start, so its state is too.
  rmSync(join(dataDir, 'kube'), { recursive: true, force: true });
  const lab = await startLab({ dir: dataDir, kube: useLabCluster, temporalPort, temporalUiPort });
  const kubeconfig = await startKubernetes(lab);

  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    TEMPORAL_ADDRESS: lab.temporal.address,
    FIREBREAK_TEMPORAL_UI_URL: `http://localhost:${temporalUiPort}`,
    FIREBREAK_EVIDENCE_DIR: process.env.FIREBREAK_EVIDENCE_DIR ?? join(dataDir, 'evidence'),
    FIREBREAK_REPORT_DIR: process.env.FIREBREAK_REPORT_DIR ?? join(dataDir, 'reports'),
    FIREBREAK_PLAYBOOK_DIR:
      process.env.FIREBREAK_PLAYBOOK_DIR ?? writeLabPlaybooks(join(repoRoot, 'playbooks'), join(dataDir, 'playbooks')),
    FIREBREAK_OPERATOR: process.env.FIREBREAK_OPERATOR ?? labOperator,
  };
  Object.assign(process.env, env);
  const settings = temporalSettingsFromEnv(env);
  const workerConnection = await NativeConnection.connect({ address: settings.address });
  const worker = await createFirebreakWorker({
    connection: workerConnection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: createActivities(activityDepsFromEnv(settings, env)),
  });
  const workerRun = worker.run();

  const clientConnection = await Connection.connect({ address: settings.address });
  const { token, file: tokenFile } = intakeToken();
  const intake = buildIntakeServer({
    client: new Client({ connection: clientConnection, namespace: settings.namespace }),
    taskQueue: settings.taskQueue,
    token,
    deadLetterDir: join(dataDir, 'dead-letters'),
    logger: log.child({ component: 'intake' }),
  });
  const intakeUrl = await intake.listen({ host: '127.0.0.1', port: intakePort });

  printWelcome({ lab, kubeconfig, useLabCluster, intakeUrl, token, tokenFile });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    await intake.close();
    // The Temporal worker stops itself on SIGINT and SIGTERM; shut it down only if it still runs.
    if (worker.getState() === 'RUNNING') {
      worker.shutdown();
    }
    await workerRun.catch(() => undefined);
    await clientConnection.close();
    await workerConnection.close();
    await stopLab(lab);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await workerRun;
}

function printWelcome(info: {
  lab: Lab;
  kubeconfig: string;
  useLabCluster: boolean;
  intakeUrl: string;
  token: string;
  tokenFile: string;
}): void {
  const sample = join('deploy', 'examples', 'alerts', 'falcosidekick-terminal-shell.json');
  const kube = info.useLabCluster
    ? `lab control plane (kube-apiserver ${info.lab.kube?.version}, kwok nodes), demo namespace ${demoNamespace}`
    : 'the current kubeconfig context';
  process.stdout.write(`
Firebreak is running (Ctrl-C stops everything):

  Temporal Web UI     http://localhost:${temporalUiPort}   (server ${info.lab.temporal.address}, temporal CLI ${info.lab.temporal.version})
  Alert intake        ${info.intakeUrl}
  Intake token        ${info.token}   (stored in ${info.tokenFile})
  Kubernetes          ${kube}
  Kubeconfig          ${info.kubeconfig}
  Server logs         ${info.lab.logDir}
  Playbooks           ${process.env.FIREBREAK_PLAYBOOK_DIR} (lab copy: isolation automatic, ${labOperator} approves the other gates)

Send a sample alert:

  FIREBREAK_INTAKE_TOKEN_FILE=${info.tokenFile} ./bin/firebreak alert send ${sample}

`);
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'firebreak dev runner failed');
  process.exit(1);
});
