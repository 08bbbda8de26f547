import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { alertSchema, type Alert } from '../../domain/alert';
import { incidentWorkflowId, type AlertBatch } from '../../domain/incident';
import { playbookSchema, type PlaybookInput } from '../../domain/playbook';
import { createActivities } from '../../activities/index';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { createReportActivities } from '../../activities/report';
import { createSlackWebClient } from '../../activities/notify/slack';
import { gateActionIds } from '../../activities/notify/slack-blocks';
import { alertsSignal, decideGateUpdate, statusQuery, type IncidentStatus } from '../../workflows/messages';
import { buildSlackApp, type SlackAppHandle } from '../../workers/slack/app';
import { createTemporalGateDecisions } from '../../workers/slack/gate-decisions';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';
import { blockActionsPayload, interactionBody, sendSlackRequest, signedSlackRequest } from '../support/slack-signing';
import { startSlackStandIn, type RecordedCall, type SlackStandIn } from '../support/slack-stand-in';

/**
 * The whole decision path on real servers: the incident workflow on the Temporal dev server with Firebreak's
 * activities, the Slack stand-in as Slack's Web API, and the Bolt app receiving signed clicks.
 */

export const botToken = 'xoxb-firebreak-gate-test';
export const signingSecret = 'gate-test-signing-secret-2b7e151628aed2a6';
export const channelId = 'C0000SOC1';
export const approver = 'U0000APPR1';
export const operator = 'alice';
export const secondApprover = 'U0000APPR2';

const gatePolicy = {
  mode: 'ask' as const,
  approvers: [approver, operator],
  deadline: '1h',
  onTimeout: 'reject' as const,
};
const everySeverity = <T>(policy: T) => ({ P0: policy, P1: policy, P2: policy, P3: policy });

/** Builds a playbook whose isolate and restore gates ask the test approvers and post to the test channel. */
function playbookInput(twoPerson: boolean): PlaybookInput {
  const isolate = twoPerson ? { ...gatePolicy, approvers: [approver, secondApprover], twoPerson } : gatePolicy;
  return {
    apiVersion: 'firebreak.dev/v1',
    kind: 'Playbook',
    metadata: {
      name: 'slack-gate-test',
      version: 1,
      description: 'Asks before isolating and restoring.',
      rationale: 'Exercises the Slack decision path.',
    },
    match: { rules: ['Terminal shell in container'] },
    severity: { default: 'P2', reason: 'one application' },
    gates: {
      isolate: everySeverity(isolate),
      escalate: everySeverity({ mode: 'skip' }),
      restore: everySeverity(gatePolicy),
    },
    containment: [{ action: 'quarantine' }],
    evidence: [],
    restore: { quietPeriod: '1s', watchPeriod: '0s' },
    notify: { slackChannel: '#sec-incidents' },
    dryRun: true,
  };
}

const podName = 'checkout-7d9f8b6c5-x2k4q';

function terminalShellAlert(namespace: string): Alert {
  return alertSchema.parse({
    id: randomUUID(),
    source: 'falco',
    rule: 'Terminal shell in container',
    priority: 'Notice',
    eventTime: new Date().toISOString(),
    status: 'firing',
    output: 'A shell was spawned in a container with an attached terminal <!channel> `id`',
    tags: ['container', 'mitre_execution', 'shell'],
    mitre: { techniques: [], tactics: ['execution'] },
    target: { namespace, pod: podName, container: 'app' },
    process: { name: 'bash', cmdline: 'bash -i' },
    fields: {},
    hostScoped: false,
  });
}

export interface GateHarness {
  standIn: SlackStandIn;
  client: Client;
  slackUrl: string;
  /** Starts an incident whose alert points at a new pod; `twoPerson` makes the isolate gate need two approvers. */
  startIncident(options?: { twoPerson?: boolean }): Promise<string>;
  status(incidentId: string): Promise<IncidentStatus>;
  waitForStatus(
    incidentId: string,
    done: (status: IncidentStatus) => boolean,
    timeoutMs?: number,
  ): Promise<IncidentStatus>;
  waitForGateMessage(incidentId: string, gate: string): Promise<RecordedCall>;
  click(
    userId: string,
    decision: 'approve' | 'reject',
    incidentId: string,
    gate: string,
    message: RecordedCall,
  ): Promise<number>;
  decideFromCli(incidentId: string, gate: 'isolate' | 'restore', reason: string): Promise<unknown>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startGateHarness(): Promise<GateHarness> {
  const env = testEnv();
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const standIn = await startSlackStandIn([botToken]);
  standIn.channelNames.set('#sec-incidents', channelId);

  const connection = await Connection.connect({ address: env.temporal.address });
  const client = new Client({ connection, namespace: env.temporal.namespace });
  const taskQueue = `slack-gate-test-${randomUUID()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'firebreak-slack-gates-'));
  const store = new LocalEvidenceStore(join(dataDir, 'evidence'));
  const activities = {
    ...createActivities({
      kubeConfig: kubeConfigFor('admin'),
      evidence: { store },
      slack: {
        client: createSlackWebClient({ token: botToken, slackApiUrl: standIn.apiUrl, timeoutMs: 2000 }),
        temporalUiBaseUrl: `${env.temporal.uiUrl}/namespaces/${env.temporal.namespace}`,
        defaultChannel: channelId,
      },
    }),
    ...createReportActivities({ reportDir: join(dataDir, 'reports'), store }),
  };
  const workerConnection = await NativeConnection.connect({ address: env.temporal.address });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: env.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities,
  });
  const workerRun = worker.run();

  const app: SlackAppHandle = buildSlackApp({
    mode: 'http',
    botToken,
    signingSecret,
    port: 0,
    host: '127.0.0.1',
    slackApiUrl: standIn.apiUrl,
    decisions: createTemporalGateDecisions(client),
    logger: pino({ level: process.env['FIREBREAK_TEST_LOG_LEVEL'] ?? 'silent' }),
  });
  const { url: slackUrl = '' } = await app.start();

  const status = (incidentId: string) => client.workflow.getHandle(incidentId).query(statusQuery);
  const core = kubeConfigFor('admin').makeApiClient(CoreV1Api);
  const namespaces: string[] = [];
  const incidents: string[] = [];

  /** Creates the pod the alert points at; kwok runs it on a lab node, as the lab has no scheduler. */
  async function createTargetPod(namespace: string): Promise<void> {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    namespaces.push(namespace);
    const container = { name: 'app', image: 'registry.example.net/shop/checkout:1.0' };
    const spec = { nodeName: env.kube.nodes[0] ?? 'kwok-node-0', containers: [container] };
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: podName, labels: { app: 'checkout' } }, spec },
    });
  }

  return {
    standIn,
    client,
    slackUrl,
    status,

    async startIncident(options = {}) {
      const fingerprint = randomBytes(8).toString('hex');
      const incidentId = incidentWorkflowId(fingerprint);
      const namespace = `slack-gate-${fingerprint}`;
      await createTargetPod(namespace);
      incidents.push(incidentId);
      const batch: AlertBatch = {
        alerts: [terminalShellAlert(namespace)],
        count: 1,
        redeliveries: 0,
        receivedAt: new Date().toISOString(),
      };
      await client.workflow.signalWithStart('incidentWorkflow', {
        workflowId: incidentId,
        taskQueue,
        args: [
          {
            fingerprint,
            playbook: playbookSchema.parse(playbookInput(options.twoPerson ?? false)),
            uiBaseUrl: env.temporal.uiUrl,
          },
        ],
        signal: alertsSignal,
        signalArgs: [batch],
      });
      return incidentId;
    },

    async waitForStatus(incidentId, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await status(incidentId);
        if (done(current)) return current;
        if (Date.now() > deadline) {
          throw new Error(`incident ${incidentId} did not reach the expected state: ${JSON.stringify(current.gates)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },

    waitForGateMessage(incidentId, gate) {
      return standIn.waitForCall(
        'chat.postMessage',
        (call) =>
          call.args.thread_ts === undefined &&
          JSON.stringify(call.args.blocks).includes(`\\"gate\\":\\"${gate}\\"`) &&
          JSON.stringify(call.args.blocks).includes(incidentId),
        60_000,
      );
    },

    async click(userId, decision, incidentId, gate, message) {
      const channel = String(message.response?.channel);
      const ts = String(message.response?.ts);
      const payload = blockActionsPayload({
        userId,
        channelId: channel,
        messageTs: ts,
        messageBlocks: standIn.messages.get(`${channel}/${ts}`)?.blocks,
        actionId: gateActionIds[decision === 'approve' ? 'approve' : 'reject'],
        value: JSON.stringify({ incidentId, gate }),
      });
      const response = await sendSlackRequest(slackUrl, signedSlackRequest(signingSecret, interactionBody(payload)));
      return response.status;
    },

    decideFromCli(incidentId, gate, reason) {
      const input = { gate, decision: 'approve' as const, decider: operator, channel: 'cli' as const, reason };
      return client.workflow.getHandle(incidentId).executeUpdate(decideGateUpdate, { args: [input] });
    },

    async close() {
      for (const incidentId of incidents) {
        await client.workflow
          .getHandle(incidentId)
          .terminate('test finished')
          .catch(() => undefined);
      }
      for (const namespace of namespaces) {
        await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      }
      await app.stop();
      worker.shutdown();
      await workerRun;
      await workerConnection.close();
      await connection.close();
      await standIn.close();
    },
  };
}
