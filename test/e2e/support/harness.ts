import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createActivities } from '../../../activities';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { createSlackWebClient } from '../../../activities/notify/slack';
import { buildIntakeServer } from '../../../workers/intake/server';
import { createFirebreakWorker } from '../../../workers/worker';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import { startSlackStandIn, type SlackStandIn } from '../../support/slack-stand-in';
import { EscalationStandIn, standInRoutingKey } from './escalation-stand-in';
import { writeTestPlaybooks, type TestPlaybookOptions } from './playbooks';

/** The Slack channel that the shipped playbooks post gate messages to, and its id in the stand-in. */
export const gateChannel = { name: '#sec-incidents', id: 'C0SECINC01' };
/** Members of the approver group that the shipped playbooks name, as the Slack stand-in lists them. */
export const securityTeam = ['U0SECOPS01'];
const routingKeyEnv = 'FIREBREAK_PAGERDUTY_ROUTING_KEY';
const slackToken = 'xoxb-main-job-test';

/** Firebreak as `npm start` runs it, in this process against the test servers, with stand-ins for the outside. */
export interface MainJobHarness {
  client: Client;
  taskQueue: string;
  intake: FastifyInstance;
  intakeUrl: string;
  token: string;
  escalation: EscalationStandIn;
  routingKey: string;
  slack: SlackStandIn;
  evidenceDir: string;
  reportDir: string;
  close(): Promise<void>;
}

/**
 * Starts a worker and an intake on the test Temporal server and cluster, with the lab playbooks (isolation
 * automatic, `lab-operator` an approver of every other gate) changed to the given quiet and watch periods, the
 * escalation webhook on a local PagerDuty stand-in, and Slack on a local stand-in.
 */
export async function startMainJobHarness(
  name: string,
  timings: Pick<TestPlaybookOptions, 'quietPeriod' | 'watchPeriod'>,
): Promise<MainJobHarness> {
  const dir = mkdtempSync(join(tmpdir(), `firebreak-${name}-`));
  const cleanups: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const escalation = await EscalationStandIn.start();
    cleanups.push(() => escalation.close());
    const slack = await startSlackStandIn([slackToken]);
    cleanups.push(() => slack.close());
    slack.channelNames.set(gateChannel.name, gateChannel.id);
    slack.userGroups.set('S0SECURITY', securityTeam);
    const routingKey = standInRoutingKey();
    const playbookDir = writeTestPlaybooks(dir, { ...timings, escalationUrl: escalation.enqueueUrl });
    const taskQueue = `${name}-${process.pid}`;
    const evidenceDir = join(dir, 'evidence');
    const reportDir = join(dir, 'reports');
    const activities = createActivities({
      kubeConfig: kubeConfigFor('admin'),
      playbooks: { directory: playbookDir, logger: pino({ level: 'silent' }) },
      evidence: { store: new LocalEvidenceStore(evidenceDir) },
      report: { reportDir },
      escalation: { env: { [routingKeyEnv]: routingKey } },
      slack: {
        client: createSlackWebClient({ token: slackToken, slackApiUrl: slack.apiUrl }),
        temporalUiBaseUrl: `${testEnv().temporal.uiUrl}/namespaces/default`,
        defaultChannel: gateChannel.id,
      },
    });
    await startWorker(taskQueue, activities, cleanups);

    const clientConnection = await Connection.connect({ address: testEnv().temporal.address });
    cleanups.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection, namespace: 'default' });
    const token = randomBytes(24).toString('hex');
    const deadLetterDir = join(dir, 'dead-letters');
    const intake = buildIntakeServer({ client, taskQueue, token, deadLetterDir, logger: pino({ level: 'silent' }) });
    cleanups.push(() => intake.close());
    const intakeUrl = await intake.listen({ host: '127.0.0.1', port: 0 });
    return {
      client,
      taskQueue,
      intake,
      intakeUrl,
      token,
      escalation,
      routingKey,
      slack,
      evidenceDir,
      reportDir,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts a Firebreak worker on the task queue and registers its shutdown. */
async function startWorker(taskQueue: string, activities: object, cleanups: (() => Promise<void>)[]): Promise<void> {
  const connection = await NativeConnection.connect({ address: testEnv().temporal.address });
  cleanups.push(() => connection.close());
  const worker = await createFirebreakWorker({ connection, namespace: 'default', taskQueue, activities });
  const run = worker.run();
  cleanups.push(async () => {
    worker.shutdown();
    await run;
  });
}
