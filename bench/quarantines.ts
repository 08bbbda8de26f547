import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_RATE_LIMIT } from '../activities/kubernetes';
import { quarantinePolicyName } from '../activities/kubernetes/labels';
import { falcoAlertBody } from './support/alerts';
import { runBench, type BenchContext } from './support/bench';
import { firebreakSettings, startFirebreak } from './support/firebreak';
import { activityNamed, runTimes } from './support/history';
import { epochMs, JsonPoster } from './support/http';
import { createNamespace, createPods, PolicyWatch } from './support/kube';
import { apiServerCounter, labPids, startBenchLab, type BenchLab } from './support/lab';
import { DeliveryLedger } from './support/ledger';
import { CpuMeter, scaled } from './support/machine';
import { writeP0Playbooks } from './support/playbooks';
import { describeLatency, ms, summarise } from './support/stats';

/**
 * 100 simultaneous quarantines: alerts for 100 different pods reach the intake at the same moment, each opening
 * a P0 incident with automatic isolation. Measured from the first alert sent to the last NetworkPolicy stored,
 * and the API server's own count of 429 responses over the run.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const namespace = 'bench-q';

async function main(context: BenchContext): Promise<void> {
  const total = scaled(100, context.scale, 10);
  const lab = await startBenchLab('quarantines');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const pods = Array.from({ length: total }, (_, index) => `burst-${index}`);
    await createNamespace(lab.kubeConfig, namespace);
    await createPods(lab.kubeConfig, namespace, pods, lab.node);
    const common = firebreakSettings(lab, writeP0Playbooks(join(lab.dir, 'playbooks')), token);
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const intake = await startFirebreak('intake', { ...common, roles: ['intake'] });
    stops.unshift(() => intake.stop());
    const watch = await PolicyWatch.start(lab.kubeConfig);
    stops.unshift(async () => watch.stop());

    const poster = new JsonPoster(intake.intakeUrl ?? '', { authorization: `Bearer ${token}` }, total);
    const ledger = new DeliveryLedger();
    const throttledBefore = await apiServerCounter(lab, 'apiserver_request_total', 'code="429"');
    const requestsBefore = await apiServerCounter(lab, 'apiserver_request_total', 'code=');
    const cpu = new CpuMeter({ 'Firebreak intake': intake.pid, 'Firebreak worker': worker.pid, ...labPids(lab) });
    cpu.start();
    const firstSentMs = epochMs();
    const alerts = pods.map((pod) => ({ pod, ...falcoAlertBody({ namespace, pod, node: lab.node }) }));
    await Promise.all(
      alerts.map((alert) => ledger.deliver(poster, { key: alert.pod, id: alert.id, body: alert.body })),
    );
    poster.close();

    const seen: number[] = [];
    for (const pod of pods) {
      const workflowId = [...(ledger.workflowIds.get(pod) ?? [])][0];
      const seenMs =
        workflowId === undefined
          ? undefined
          : await watch.waitFor(namespace, quarantinePolicyName(workflowId), 120_000);
      if (seenMs === undefined) context.fail(`pod ${pod} got no quarantine NetworkPolicy within 120 s`);
      else seen.push(seenMs - firstSentMs);
    }
    const cpuRows = cpu.stop();
    const stages = await quarantineStages(lab, ledger, firstSentMs);
    const throttled = (await apiServerCounter(lab, 'apiserver_request_total', 'code="429"')) - throttledBefore;
    const requests = (await apiServerCounter(lab, 'apiserver_request_total', 'code=')) - requestsBefore;
    if (ledger.unacknowledged > 0) context.fail(`${ledger.unacknowledged} alerts were never acknowledged`);
    if (ledger.workflowIds.size !== total) context.fail(`${ledger.workflowIds.size} incidents for ${total} pods`);

    const allDoneMs = seen.length === 0 ? Number.NaN : Math.max(...seen);
    const summary = summarise(seen);
    context.row({
      benchmark: '100 simultaneous quarantines',
      goal: 'all done within 10 s; no 429 from the API server',
      measured: `${seen.length} of ${total} done in ${ms(allDoneMs)} after the first alert; ${throttled} responses with 429`,
      met: seen.length === total && allDoneMs <= 10_000 && throttled === 0,
      scale: `${total} pods (scale ${context.scale})`,
    });
    context.section('Simultaneous quarantines', {
      text:
        `Time from the first alert sent to each NetworkPolicy stored: ${describeLatency(summary)}. The API server ` +
        `served ${requests} requests meanwhile (all clients: Firebreak, the controllers, kwok, the watch). Each incident ` +
        'runs selectPlaybook, resolveTarget and quarantinePod before its policy exists; the Kubernetes activities ' +
        `of one worker share a client-side token bucket of ${DEFAULT_RATE_LIMIT.qps} requests/s with bursts of ` +
        `${DEFAULT_RATE_LIMIT.burst} (FIREBREAK_KUBE_QPS and FIREBREAK_KUBE_BURST), which spreads a burst of ` +
        "quarantines over time; the 429 count above is the API server's own.",
      table: { header: ['Process', 'CPU time', 'Load'], rows: cpuRows },
    });
    context.section('Where the quarantines wait (from Temporal history event times)', {
      text:
        'Milestones: times from the first alert sent, over all incidents. Stages: the time each incident spent ' +
        'between two milestones. Schedule-to-start grows when the worker runs out of ' +
        'activity slots or CPU; the time from quarantinePod started to the policy stored grows when the ' +
        "Kubernetes requests wait for the worker's token bucket or for the API server.",
      table: { header: ['Milestone or stage', 'Time after the first alert, or stage duration'], rows: stages },
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** Returns, for each milestone of the incidents' histories, its spread of times after the first alert. */
async function quarantineStages(lab: BenchLab, ledger: DeliveryLedger, firstSentMs: number): Promise<string[][]> {
  const connection = await Connection.connect({ address: lab.lab.temporal.address });
  try {
    const client = new Client({ connection });
    const stageNames = [
      'stage: workflow started to selectPlaybook scheduled',
      'stage: selectPlaybook scheduled to resolveTarget scheduled',
      'stage: resolveTarget scheduled to quarantinePod scheduled',
      'stage: quarantinePod schedule-to-start',
      'stage: quarantinePod run',
    ];
    const stageTimes: Record<string, number[]> = Object.fromEntries(stageNames.map((name) => [name, []]));
    const marks: Record<string, number[]> = {
      'incident workflow started': [],
      'selectPlaybook scheduled': [],
      'resolveTarget scheduled': [],
      'quarantinePod scheduled': [],
      'quarantinePod started': [],
      'quarantinePod completed': [],
    };
    for (const ids of ledger.workflowIds.values()) {
      const times = await runTimes(client, [...ids][0] ?? '');
      const quarantine = activityNamed(times, 'quarantinePod');
      const values: [string, number | undefined][] = [
        ['incident workflow started', times.startedMs],
        ['selectPlaybook scheduled', activityNamed(times, 'selectPlaybook')?.scheduledMs],
        ['resolveTarget scheduled', activityNamed(times, 'resolveTarget')?.scheduledMs],
        ['quarantinePod scheduled', quarantine?.scheduledMs],
        ['quarantinePod started', quarantine?.startedMs],
        ['quarantinePod completed', quarantine?.completedMs],
      ];
      for (const [name, at] of values) if (at !== undefined) marks[name]?.push(at - firstSentMs);
      values.slice(0, -1).forEach(([, from], index) => {
        const to = values[index + 1]?.[1];
        const stage = stageNames[index];
        if (from !== undefined && to !== undefined && stage !== undefined) stageTimes[stage]?.push(to - from);
      });
    }
    return [...Object.entries(marks), ...Object.entries(stageTimes)].map(([name, values]) => [
      name,
      describeLatency(summarise(values)),
    ]);
  } finally {
    await connection.close();
  }
}

void runBench('quarantines', '100 simultaneous quarantines', __filename, main);
