import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { repoRoot } from '../tools/lab/binaries';
import { createDemoWorkload, demoNamespace } from '../tools/lab/demo';
import { labNodes } from '../tools/lab/kube';
import { startLab, stopLab, type Lab } from '../tools/lab/lab';
import { startPagerDutyStandIn, type PagerDutyStandIn, type TriggerEvent } from '../tools/lab/pagerduty-stand-in';
import { labOperator, labQuietPeriod, labWatchPeriod, writeLabPlaybooks } from '../tools/lab/playbooks';
import { createActivities } from '../activities';
import { buildIntakeServer } from './intake/server';
import { chooseDevCluster, devKubeconfigEnv, type DevCluster } from './dev-cluster';
import { activityDepsFromEnv, createFirebreakWorker, workerTuningFromEnv } from './worker';
import { temporalSettingsFromEnv } from './temporal';

const dataDir = process.env.FIREBREAK_DATA_DIR ?? join(repoRoot, '.data');
const temporalPort = 7233;
const temporalUiPort = 8233;
const intakePort = Number(process.env.FIREBREAK_INTAKE_PORT ?? 8787);
/** Routing key variable that the shipped playbooks name for PagerDuty. */
const routingKeyEnv = 'FIREBREAK_PAGERDUTY_ROUTING_KEY';
const log = pino({ name: 'firebreak-dev', level: process.env.LOG_LEVEL ?? 'info' });

/** Reads the intake token from the data folder, creating it on first start. */
function intakeToken(): { token: string; file: string } {
  const file = join(dataDir, 'intake-token');
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  return { token: readFileSync(file, 'utf8').trim(), file };
}

async function startKubernetes(lab: Lab, cluster: DevCluster): Promise<string> {
  if (cluster.kind === 'explicit') {
    log.warn(
      { kubeconfig: cluster.kubeconfigPath, context: cluster.context, server: cluster.server },
      `${devKubeconfigEnv} is set: responding on cluster ${cluster.server} with the shipped playbooks`,
    );
    return cluster.kubeconfigPath;
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

/** Prints a page that reached the PagerDuty stand-in; the routing key is a secret, so it is not printed. */
function printPage(event: TriggerEvent): void {
  const { severity, summary } = event.payload;
  process.stdout.write(
    `[pagerduty stand-in] 202 for trigger event dedup_key=${event.dedup_key} severity=${severity}: ${summary}\n`,
  );
}

/**
 * Returns the playbook folder, FIREBREAK_PLAYBOOK_DIR when set. On the lab cluster the default is the lab copy
 * of the shipped playbooks, with short periods and escalation sent to a PagerDuty stand-in that this function
 * starts. On a cluster named by FIREBREAK_DEV_KUBECONFIG it is the shipped playbooks, because the lab copy
 * isolates automatically.
 */
async function devPlaybooks(cluster: DevCluster): Promise<{ directory: string; pagerDuty?: PagerDutyStandIn }> {
  const given = process.env.FIREBREAK_PLAYBOOK_DIR;
  if (given !== undefined) return { directory: given };
  if (cluster.kind === 'explicit') return { directory: join(repoRoot, 'playbooks') };
  const pagerDuty = await startPagerDutyStandIn(printPage);
  const options = { escalationUrl: pagerDuty.enqueueUrl };
  const directory = writeLabPlaybooks(join(repoRoot, 'playbooks'), join(dataDir, 'playbooks'), options);
  return { directory, pagerDuty };
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const cluster = chooseDevCluster();
  const useLabCluster = cluster.kind === 'lab';
  // The lab cluster's certificates and tokens are made anew at each start, so its state is too.
  rmSync(join(dataDir, 'kube'), { recursive: true, force: true });
  const lab = await startLab({ dir: dataDir, kube: useLabCluster, temporalPort, temporalUiPort });
  const kubeconfig = await startKubernetes(lab, cluster);
  const playbooks = await devPlaybooks(cluster);

  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    TEMPORAL_ADDRESS: lab.temporal.address,
    FIREBREAK_TEMPORAL_UI_URL: `http://localhost:${temporalUiPort}`,
    FIREBREAK_EVIDENCE_DIR: process.env.FIREBREAK_EVIDENCE_DIR ?? join(dataDir, 'evidence'),
    FIREBREAK_REPORT_DIR: process.env.FIREBREAK_REPORT_DIR ?? join(dataDir, 'reports'),
    FIREBREAK_PLAYBOOK_DIR: playbooks.directory,
    ...(useLabCluster ? { FIREBREAK_OPERATOR: process.env.FIREBREAK_OPERATOR ?? labOperator } : {}),
    ...(playbooks.pagerDuty === undefined ? {} : { [routingKeyEnv]: playbooks.pagerDuty.routingKey }),
  };
  Object.assign(process.env, env);
  const settings = temporalSettingsFromEnv(env);
  const workerConnection = await NativeConnection.connect({ address: settings.address });
  const worker = await createFirebreakWorker({
    connection: workerConnection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: createActivities(activityDepsFromEnv(settings, env)),
    ...workerTuningFromEnv(env),
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

  printWelcome({ lab, kubeconfig, cluster, intakeUrl, token, tokenFile, pagerDuty: playbooks.pagerDuty });

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
    await playbooks.pagerDuty?.close();
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
  cluster: DevCluster;
  intakeUrl: string;
  token: string;
  tokenFile: string;
  pagerDuty?: PagerDutyStandIn;
}): void {
  const sample = join('deploy', 'examples', 'alerts', 'falcosidekick-terminal-shell.json');
  const kube =
    info.cluster.kind === 'lab'
      ? `lab control plane (kube-apiserver ${info.lab.kube?.version}, kwok nodes), demo namespace ${demoNamespace}`
      : `WARNING: ${info.cluster.server} (context ${info.cluster.context}, named by ${devKubeconfigEnv}); containment acts on this cluster`;
  process.stdout.write(`
Firebreak is running (Ctrl-C stops everything):

  Temporal Web UI     http://localhost:${temporalUiPort}   (server ${info.lab.temporal.address}, temporal CLI ${info.lab.temporal.version})
  Alert intake        ${info.intakeUrl}
  Intake token        ${info.token}   (stored in ${info.tokenFile})
  Kubernetes          ${kube}
  Kubeconfig          ${info.kubeconfig}
  Server logs         ${info.lab.logDir}
  Playbooks           ${playbookLine(info.pagerDuty)}
  Paging              ${info.pagerDuty ? `PagerDuty stand-in at ${info.pagerDuty.enqueueUrl} (prints each page it receives)` : 'as your playbooks set it'}

Send a sample alert, or run the whole scenario with ./bin/firebreak demo:

  FIREBREAK_INTAKE_TOKEN_FILE=${info.tokenFile} ./bin/firebreak alert send ${sample}

`);
}

function playbookLine(pagerDuty: PagerDutyStandIn | undefined): string {
  const directory = process.env.FIREBREAK_PLAYBOOK_DIR ?? '';
  if (pagerDuty === undefined) return directory;
  const changes = `isolation automatic, ${labOperator} approves the other gates, quiet period ${labQuietPeriod}, watch ${labWatchPeriod}`;
  return `${directory} (lab copy: ${changes})`;
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'firebreak dev runner failed');
  process.exit(1);
});
