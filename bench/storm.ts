import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSlackStandIn } from '../test/support/slack-stand-in';
import { statusQuery } from '../workflows/messages';
import { falcoAlertBody } from './support/alerts';
import { runBench, type BenchContext } from './support/bench';
import { intakeSignalStats, startFirebreak } from './support/firebreak';
import { runTimes } from './support/history';
import { JsonPoster, paced } from './support/http';
import { createNamespace, createPods, PolicyWatch } from './support/kube';
import { startBenchLab } from './support/lab';
import { countIncidents, DeliveryLedger } from './support/ledger';
import { scaled } from './support/machine';
import { writeP0Playbooks } from './support/playbooks';
import { describeLatency, ms, summarise } from './support/stats';

/**
 * Storm: 10,000 alerts of one rule on one pod within 60 s at full scale, each a distinct Falco event (its own
 * id), as a shell loop makes Falco fire. Expected: one incident, one quarantine, one Slack message (the
 * escalate gate) plus a bounded number of edits, every alert counted, and a bounded history.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const namespace = 'bench-storm';
const pod = 'storm-target';
const botToken = 'xoxb-firebreak-bench';
const maxEdits = 5;

async function main(context: BenchContext): Promise<void> {
  const count = scaled(10_000, context.scale, 500);
  const windowSec = Math.max(5, Math.round(60 * context.scale));
  const lab = await startBenchLab('storm');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    await createNamespace(lab.kubeConfig, namespace);
    await createPods(lab.kubeConfig, namespace, [pod], lab.node);
    const slack = await startSlackStandIn([botToken]);
    stops.unshift(() => slack.close());
    slack.channelNames.set('#sec-incidents', 'C0000SOC1');
    const common = {
      temporalAddress: lab.lab.temporal.address,
      taskQueue: 'firebreak',
      kubeconfigPath: lab.kube.kubeconfigPath,
      playbookDir: writeP0Playbooks(join(lab.dir, 'playbooks')),
      dataDir: join(lab.dir, 'firebreak'),
      intakeToken: token,
      slack: { apiUrl: slack.apiUrl, botToken, signingSecret: 'unused-in-this-benchmark', defaultChannel: 'C0000SOC1' },
    };
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const intake = await startFirebreak('intake', { ...common, roles: ['intake'] });
    stops.unshift(() => intake.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const watch = await PolicyWatch.start(lab.kubeConfig);
    stops.unshift(async () => watch.stop());

    const poster = new JsonPoster(intake.intakeUrl ?? '', { authorization: `Bearer ${token}` }, 2000);
    const ledger = new DeliveryLedger();
    context.log(`sending ${count} alerts within ${windowSec} s`);
    const run = await paced({
      ratePerSec: count / windowSec,
      count,
      maxDurationMs: windowSec * 1000 + 60_000,
      send: async () => {
        const alert = falcoAlertBody({ namespace, pod, node: lab.node });
        await ledger.deliver(poster, { key: pod, id: alert.id, body: alert.body });
      },
    });
    poster.close();
    const signals = await intakeSignalStats(intake.intakeUrl ?? '');

    const workflowIds = [...(ledger.workflowIds.get(pod) ?? [])];
    const workflowId = workflowIds[0];
    if (workflowIds.length !== 1 || workflowId === undefined) {
      context.fail(`the storm landed in ${workflowIds.length} incidents: ${workflowIds.join(', ')}`);
      return;
    }
    // The escalate gate opens after the quarantine and the evidence; its Slack message is the storm's one message.
    const deadline = Date.now() + 120_000;
    let status = await client.workflow.getHandle(workflowId).query(statusQuery);
    while (
      Date.now() < deadline &&
      (status.alertCount < ledger.acknowledgedCount || status.waitingGate !== 'escalate')
    ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await client.workflow.getHandle(workflowId).query(statusQuery);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    status = await client.workflow.getHandle(workflowId).query(statusQuery);

    const incidents = await countIncidents(client, namespace);
    const runs = (await client.workflow.count(`WorkflowId = '${workflowId}'`)).count;
    const description = await client.workflow.getHandle(workflowId).describe();
    const times = await runTimes(client, workflowId);
    const quarantines = watch.countIn(namespace);
    const posts = slack.callsTo('chat.postMessage').filter((call) => call.response?.ok === true).length;
    const edits = slack.callsTo('chat.update').filter((call) => call.response?.ok === true).length;
    const lost = ledger.acknowledgedCount - status.alertCount;

    if (ledger.unacknowledged > 0) context.fail(`${ledger.unacknowledged} alerts were never acknowledged`);
    if (lost !== 0)
      context.fail(`${ledger.acknowledgedCount} alerts acknowledged, but the incident counts ${status.alertCount}`);
    if (incidents !== 1) context.fail(`${incidents} incident workflows for one storm`);
    if (quarantines !== 1) context.fail(`${quarantines} NetworkPolicies in ${namespace} for one incident`);

    const historyLimit = 10_000;
    const scale = `${run.sent} alerts within ${windowSec} s (scale ${context.scale})`;
    context.row({
      benchmark: 'Storm: 10,000 identical alerts within 60 s',
      goal: '1 incident, 1 containment, 1 Slack message plus bounded edits, history bounded',
      measured:
        `${incidents} incident, ${quarantines} quarantine, ${posts} Slack message, ${edits} edits; ` +
        `${status.alertCount} of ${run.sent} alerts counted; ${runs} runs (continue-as-new), the last with ` +
        `${description.historyLength} history events`,
      met:
        incidents === 1 &&
        quarantines === 1 &&
        posts === 1 &&
        edits <= maxEdits &&
        lost === 0 &&
        ledger.unacknowledged === 0 &&
        description.historyLength <= historyLimit,
      scale,
    });
    context.section('Storm details', {
      text:
        `The intake carried ${run.sent} alerts in ${signals.signals} signals (${signals.alertsPerSignal.toFixed(0)} alerts ` +
        `per signal on average, ${ms(signals.meanMs)} per signal): while one signal is in flight, the next alerts of ` +
        `the same incident queue up and leave together. History is bounded by the incident workflow, which keeps ` +
        `at most 20 alert samples and 1,000 recent alert ids, and continues as new when Temporal suggests it or ` +
        `past ${historyLimit} events.`,
      table: {
        header: ['Measure', 'Value'],
        rows: [
          ['Acknowledgement latency', describeLatency(summarise(ledger.ackLatenciesMs))],
          ['Responses', ledger.statusSummary()],
          ['Alerts counted / redeliveries', `${status.alertCount} / ${status.redeliveries}`],
          ['Runs of the incident (continue-as-new)', String(runs)],
          ['History events / signals in the last run', `${description.historyLength} / ${times.signals}`],
          ['Slack chat.postMessage / chat.update', `${posts} / ${edits} (edits allowed: ${maxEdits})`],
          ['NetworkPolicies in the namespace', String(quarantines)],
        ],
      },
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('storm', 'Storm of 10,000 identical alerts', __filename, main);
