import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { freePort } from '../tools/lab/process';
import { statusQuery } from '../workflows/messages';
import { falcoAlertBody } from './support/alerts';
import { runBench, type BenchContext } from './support/bench';
import { startFirebreak, type FirebreakProcess } from './support/firebreak';
import { JsonPoster, paced } from './support/http';
import { createNamespace, createPods, PolicyWatch } from './support/kube';
import { startBenchLab, type BenchLab } from './support/lab';
import { DeliveryLedger } from './support/ledger';
import { scaled } from './support/machine';
import { writeP0Playbooks } from './support/playbooks';
import { buildTalon, startFloor, type Peer } from './peer/peers';

/**
 * What a responder loses when its process is killed (SIGKILL) in the middle of an alert storm. The sender
 * resends failed requests as Alertmanager and Falcosidekick do. Firebreak's intake and worker are killed and
 * restarted on the same port. So is the floor script, which replaces Falco Talon when Talon does not build.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const ratePerSec = 150;
const outageMs = 2000;
const floorStatsSchema = z.object({ received: z.number(), acted: z.number(), failed: z.number() });

interface StormOutcome {
  ledger: DeliveryLedger;
  sent: number;
  connectionFailures: number;
}

async function storm(
  url: string,
  path: string,
  headers: Record<string, string>,
  options: {
    namespace: string;
    pod: string;
    node: string;
    count: number;
    killAtMs: number;
    crash: () => Promise<void>;
  },
): Promise<StormOutcome> {
  const poster = new JsonPoster(url, headers, 1000);
  const ledger = new DeliveryLedger();
  const crash = new Promise<void>((resolve) => setTimeout(() => void options.crash().then(resolve), options.killAtMs));
  const run = await paced({
    ratePerSec,
    count: options.count,
    maxDurationMs: (options.count / ratePerSec) * 1000 + 60_000,
    send: async () => {
      const alert = falcoAlertBody({ namespace: options.namespace, pod: options.pod, node: options.node });
      if (path === '/') {
        await deliverToPeer(poster, ledger, alert);
      } else {
        await ledger.deliver(poster, { key: options.pod, id: alert.id, body: alert.body });
      }
    },
  });
  await crash;
  poster.close();
  return { ledger, sent: run.sent, connectionFailures: ledger.statusCounts.get(0) ?? 0 };
}

/** Posts one alert to a peer, which responds 200, retrying as `DeliveryLedger.deliver` does for the intake. */
async function deliverToPeer(poster: JsonPoster, ledger: DeliveryLedger, alert: { id: string; body: string }) {
  ledger.sent += 1;
  for (let attempt = 0; attempt <= 8; attempt += 1) {
    if (attempt > 0) {
      ledger.retries += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 200 * 2 ** (attempt - 1))));
    }
    const result = await poster.post('/', alert.body, 15_000);
    ledger.statusCounts.set(result.status, (ledger.statusCounts.get(result.status) ?? 0) + 1);
    if (result.status === 200) {
      const ids = ledger.acknowledged.get('floor') ?? new Set<string>();
      ids.add(alert.id);
      ledger.acknowledged.set('floor', ids);
      return;
    }
  }
  ledger.unacknowledged += 1;
}

async function firebreakRun(context: BenchContext, lab: BenchLab, count: number, stops: (() => Promise<void>)[]) {
  const namespace = 'bench-kill';
  await createNamespace(lab.kubeConfig, namespace);
  await createPods(lab.kubeConfig, namespace, ['victim'], lab.node);
  const common = {
    temporalAddress: lab.lab.temporal.address,
    taskQueue: 'firebreak',
    kubeconfigPath: lab.kube.kubeconfigPath,
    playbookDir: writeP0Playbooks(join(lab.dir, 'playbooks')),
    dataDir: join(lab.dir, 'firebreak'),
    intakeToken: token,
    intakePort: await freePort(),
  };
  const processes: FirebreakProcess[] = [];
  const start = async () => {
    processes.push(await startFirebreak('worker', { ...common, roles: ['worker'] }));
    processes.push(await startFirebreak('intake', { ...common, roles: ['intake'] }));
  };
  stops.unshift(async () => {
    for (const proc of processes) await proc.stop();
  });
  await start();
  const watch = await PolicyWatch.start(lab.kubeConfig);
  stops.unshift(async () => watch.stop());
  const url = processes[1]?.intakeUrl ?? '';
  const outcome = await storm(
    url,
    '/v1/alerts/falco',
    { authorization: `Bearer ${token}` },
    {
      namespace,
      pod: 'victim',
      node: lab.node,
      count,
      killAtMs: ((count / ratePerSec) * 1000) / 3,
      crash: async () => {
        context.log('killing the Firebreak intake and worker (SIGKILL)');
        for (const proc of processes.splice(0)) await proc.kill();
        await new Promise((resolve) => setTimeout(resolve, outageMs));
        await start();
        context.log('Firebreak intake and worker restarted');
      },
    },
  );
  const connection = await Connection.connect({ address: lab.lab.temporal.address });
  stops.unshift(() => connection.close());
  const client = new Client({ connection });
  const workflowIds = [...(outcome.ledger.workflowIds.get('victim') ?? [])];
  const acknowledged = outcome.ledger.acknowledgedCount;
  let counted = 0;
  let timeline = '';
  let queryError = '';
  const deadline = Date.now() + 180_000;
  while (workflowIds.length === 1 && Date.now() < deadline) {
    const status = await client.workflow
      .getHandle(workflowIds[0] ?? '')
      .query(statusQuery)
      .catch((error: unknown) => {
        queryError = error instanceof Error ? error.message : String(error);
        return undefined;
      });
    counted = status?.alertCount ?? counted;
    timeline = (status?.timeline ?? []).map((entry) => `${entry.kind}: ${entry.summary}`).join('; ');
    if (counted >= acknowledged && status?.waitingGate === 'escalate' && watch.countIn(namespace) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const quarantines = watch.countIn(namespace);
  if (workflowIds.length !== 1) context.fail(`the storm landed in ${workflowIds.length} incidents`);
  if (counted !== acknowledged) {
    const why = queryError === '' ? '' : ` (last status query error: ${queryError})`;
    context.fail(`Firebreak acknowledged ${acknowledged} alerts and its incident counts ${counted}${why}`);
  }
  if (quarantines !== 1) {
    context.fail(`${quarantines} quarantine NetworkPolicies for one incident; its latest timeline: ${timeline}`);
  }
  if (outcome.ledger.unacknowledged > 0)
    context.fail(`${outcome.ledger.unacknowledged} alerts were never acknowledged`);
  return { outcome, acknowledged, counted, quarantines };
}

async function floorRun(context: BenchContext, lab: BenchLab, count: number, stops: (() => Promise<void>)[]) {
  const namespace = 'bench-kill-floor';
  await createNamespace(lab.kubeConfig, namespace);
  await createPods(lab.kubeConfig, namespace, ['victim'], lab.node);
  const port = await freePort();
  let floor: Peer = await startFloor(lab.kube, join(lab.dir, 'floor'), port);
  stops.unshift(() => floor.stop());
  const outcome = await storm(
    floor.eventUrl,
    '/',
    {},
    {
      namespace,
      pod: 'victim',
      node: lab.node,
      count,
      killAtMs: ((count / ratePerSec) * 1000) / 3,
      crash: async () => {
        context.log('killing the floor script (SIGKILL)');
        await floor.kill();
        await new Promise((resolve) => setTimeout(resolve, outageMs));
        floor = await startFloor(lab.kube, join(lab.dir, 'floor'), port);
        context.log('floor script restarted');
      },
    },
  );
  const stats = floorStatsSchema.parse(await (await fetch(`${floor.eventUrl}/stats`)).json());
  return { outcome, acknowledged: outcome.ledger.acknowledgedCount, recorded: stats.acted };
}

async function main(context: BenchContext): Promise<void> {
  const count = scaled(1500, context.scale, 300);
  const lab = await startBenchLab('kill-storm');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const talon = await buildTalon();
    const firebreak = await firebreakRun(context, lab, count, stops);
    const floor = await floorRun(context, lab, count, stops);
    const peerName = talon.ok
      ? 'floor script (Falco Talon runs in alert-to-policy only)'
      : 'floor script (Falco Talon did not build)';
    const scale = `${count} alerts at ${ratePerSec}/s per responder, killed after a third (scale ${context.scale})`;
    context.row({
      benchmark: 'Process killed during a storm: what Firebreak loses',
      goal: 'nothing acknowledged is lost',
      measured:
        `${firebreak.acknowledged - firebreak.counted} of ${firebreak.acknowledged} acknowledged alerts lost; ` +
        `${firebreak.outcome.connectionFailures} requests failed during the outage and were resent; ` +
        `${firebreak.quarantines} quarantine`,
      met: firebreak.acknowledged === firebreak.counted && firebreak.quarantines === 1,
      scale,
    });
    context.row({
      benchmark: `Process killed during a storm: what the ${peerName} loses`,
      goal: 'reported',
      measured:
        `${floor.acknowledged - floor.recorded} of ${floor.acknowledged} acknowledged alerts absent from its record after ` +
        `the restart (it keeps counts in memory only); ${floor.outcome.connectionFailures} requests failed and were resent`,
      met: 'n/a',
      scale,
    });
    context.section('Kill during a storm', {
      text:
        'Firebreak responds 202 only after Temporal stored the alert, so an acknowledged alert survives the kill; ' +
        'alerts in flight get no answer and the sender resends them, and the incident counts a resent alert once ' +
        '(by its id). The floor script, like any responder without durable state, keeps nothing across the kill: ' +
        'the alerts it handled before it are in no record afterwards, and no incident ties the storm together. ' +
        `Responses seen by the sender: Firebreak ${firebreak.outcome.ledger.statusSummary()}; floor script ` +
        `${floor.outcome.ledger.statusSummary()}.`,
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('kill-storm', 'Process killed during an alert storm', __filename, main);
