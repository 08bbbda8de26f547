import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { alertSchema } from '../domain/alert';
import { incidentWorkflowId, type AlertBatch } from '../domain/incident';
import { gateActionIds } from '../activities/notify/slack-blocks';
import {
  blockActionsPayload,
  interactionBody,
  sendSlackRequest,
  signedSlackRequest,
} from '../test/support/slack-signing';
import { startSlackStandIn, type RecordedCall, type SlackStandIn } from '../test/support/slack-stand-in';
import { runBench, type BenchContext } from './support/bench';
import { startFirebreak } from './support/firebreak';
import { activityNamed, runTimes } from './support/history';
import { epochMs } from './support/http';
import { createNamespace, createPods } from './support/kube';
import { startBenchLab } from './support/lab';
import { scaled } from './support/machine';
import { askingPlaybook, writeLabCopy } from './support/playbooks';
import { describeLatency, splitRounds, summarise } from './support/stats';

/**
 * Slack click to acknowledgement and to the next activity: an approver clicks Approve on the isolate gate
 * message. The click is a signed interaction request to the Firebreak Slack app (Bolt, HTTP receiver), and
 * the acknowledgement is its HTTP response. The next activity is the first one that the approval schedules,
 * timed by its ActivityTaskStarted event in the incident's history.
 */

const namespace = 'bench-slack';
const botToken = 'xoxb-firebreak-bench';
const signingSecret = `bench-${randomBytes(16).toString('hex')}`;
const approver = 'U0000APPR1';
const channelId = 'C0000SOC1';

function firstBatch(pod: string): AlertBatch {
  const alert = alertSchema.parse({
    id: randomBytes(16).toString('hex'),
    source: 'falco',
    rule: 'Terminal shell in container',
    priority: 'Notice',
    eventTime: new Date().toISOString(),
    status: 'firing',
    output: 'A shell was spawned in a container with an attached terminal',
    tags: ['container', 'shell'],
    mitre: { techniques: ['T1059'], tactics: ['execution'] },
    target: { namespace, pod, container: 'app' },
    process: { name: 'bash', cmdline: 'bash -i' },
    fields: {},
    hostScoped: false,
  });
  return { alerts: [alert], count: 1, redeliveries: 0, receivedAt: new Date().toISOString() };
}

function gateMessage(slack: SlackStandIn, workflowId: string): Promise<RecordedCall> {
  return slack.waitForCall(
    'chat.postMessage',
    (call) =>
      JSON.stringify(call.args.blocks).includes(workflowId) && JSON.stringify(call.args.blocks).includes('isolate'),
    60_000,
  );
}

async function clickApprove(slack: SlackStandIn, slackUrl: string, workflowId: string, message: RecordedCall) {
  const channel = String(message.response?.channel);
  const ts = String(message.response?.ts);
  const payload = blockActionsPayload({
    userId: approver,
    channelId: channel,
    messageTs: ts,
    messageBlocks: slack.messages.get(`${channel}/${ts}`)?.blocks,
    actionId: gateActionIds.approve,
    value: JSON.stringify({ incidentId: workflowId, gate: 'isolate' }),
  });
  const sentMs = epochMs();
  const response = await sendSlackRequest(slackUrl, signedSlackRequest(signingSecret, interactionBody(payload)));
  return { sentMs, status: response.status, ackMs: response.durationMs };
}

async function main(context: BenchContext): Promise<void> {
  const total = scaled(25, context.scale, 6);
  const lab = await startBenchLab('slack-click');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const pods = Array.from({ length: total + 1 }, (_, index) => `clicked-${index}`);
    await createNamespace(lab.kubeConfig, namespace);
    await createPods(lab.kubeConfig, namespace, pods, lab.node);
    const slack = await startSlackStandIn([botToken]);
    stops.unshift(() => slack.close());
    slack.channelNames.set('#sec-incidents', channelId);
    const common = {
      temporalAddress: lab.lab.temporal.address,
      taskQueue: 'firebreak',
      kubeconfigPath: lab.kube.kubeconfigPath,
      playbookDir: writeLabCopy(join(lab.dir, 'playbooks')),
      dataDir: join(lab.dir, 'firebreak'),
      intakeToken: 'unused',
      slack: { apiUrl: slack.apiUrl, botToken, signingSecret, defaultChannel: channelId },
    };
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const app = await startFirebreak('slack-app', { ...common, roles: ['slack'] });
    stops.unshift(() => app.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const playbook = askingPlaybook({ slackChannel: '#sec-incidents', approvers: [approver] });

    const acks: number[] = [];
    const nextActivity: number[] = [];
    const quarantineStart: number[] = [];
    const stages = { toUpdate: [] as number[], toScheduled: [] as number[], toStarted: [] as number[] };
    // The first incident warms up the Slack app and the worker and is not counted.
    for (const [index, pod] of pods.entries()) {
      const workflowId = incidentWorkflowId(`click${randomBytes(6).toString('hex')}`);
      await client.workflow.signalWithStart('incidentWorkflow', {
        workflowId,
        taskQueue: 'firebreak',
        args: [{ fingerprint: workflowId.replace(/^incident-/, ''), playbook }],
        signal: 'alerts',
        signalArgs: [firstBatch(pod)],
      });
      const message = await gateMessage(slack, workflowId);
      const click = await clickApprove(slack, app.slackUrl ?? '', workflowId, message);
      if (click.status !== 200) context.fail(`the Slack app responded ${click.status} to a click on ${workflowId}`);
      const deadline = Date.now() + 30_000;
      let quarantine = activityNamed(await runTimes(client, workflowId), 'quarantinePod');
      while (quarantine?.startedMs === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        quarantine = activityNamed(await runTimes(client, workflowId), 'quarantinePod');
      }
      const times = await runTimes(client, workflowId);
      const next = times.activities
        .filter((activity) => activity.scheduledMs >= click.sentMs && activity.startedMs !== undefined)
        .sort((a, b) => (a.startedMs ?? 0) - (b.startedMs ?? 0))[0];
      const acceptedMs = times.updatesAcceptedMs.find((at) => at >= click.sentMs);
      if (quarantine?.startedMs === undefined || next?.startedMs === undefined || acceptedMs === undefined) {
        context.fail(`no activity started within 30 s of the click on ${workflowId}`);
        continue;
      }
      if (index === 0) continue;
      acks.push(click.ackMs);
      nextActivity.push(next.startedMs - click.sentMs);
      quarantineStart.push(quarantine.startedMs - click.sentMs);
      stages.toUpdate.push(acceptedMs - click.sentMs);
      stages.toScheduled.push(next.scheduledMs - acceptedMs);
      stages.toStarted.push(next.startedMs - next.scheduledMs);
    }
    const ack = summarise(acks, splitRounds(acks, 3));
    const next = summarise(nextActivity, splitRounds(nextActivity, 3));
    const scale = `${acks.length} clicks (scale ${context.scale})`;
    context.row({
      benchmark: 'Slack click to acknowledgement',
      goal: 'p99 <= 300 ms',
      measured: describeLatency(ack),
      met: ack.p99Ms <= 300,
      scale,
    });
    context.row({
      benchmark: 'Slack click to the next activity starting',
      goal: 'p99 <= 1 s',
      measured: describeLatency(next),
      met: next.p99Ms <= 1000,
      scale,
    });
    context.section('Slack click details', {
      text:
        'The Slack app acknowledges a click first (its action listener calls ack() before anything else), then ' +
        'reads the incident, sends the decideGate Update and edits the message. The next activity is the first ' +
        'one scheduled after the click: the Slack message edit or the quarantine.',
      table: {
        header: ['Measure', 'Latency'],
        rows: [
          ['Click to HTTP acknowledgement', describeLatency(ack)],
          ['Click to the next activity started', describeLatency(next)],
          ['Click to quarantinePod started', describeLatency(summarise(quarantineStart))],
          [
            'Stage: click to Update accepted (Slack app reads the incident, sends decideGate)',
            describeLatency(summarise(stages.toUpdate)),
          ],
          [
            'Stage: Update accepted to next activity scheduled (workflow task)',
            describeLatency(summarise(stages.toScheduled)),
          ],
          ['Stage: next activity schedule-to-start', describeLatency(summarise(stages.toStarted))],
        ],
      },
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('slack-click', 'Slack click to acknowledgement and next activity', __filename, main);
