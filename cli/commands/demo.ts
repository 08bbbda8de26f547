import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { Command } from 'commander';
import { defaultEvidenceDir } from '../../activities/evidence/store';
import { defaultReportDir, reportDirOf } from '../../activities/report';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';
import { demoNamespace, demoPod } from '../../tools/lab/demo';
import { labOperator } from '../../tools/lab/playbooks';
import { connectClient, incidentUiUrl, temporalSettingsFromEnv, type TemporalSettings } from '../../workers/temporal';
import { demoAlertBody, postFalcoAlert, scenarioAlerts, type AlertTarget } from './demo-alerts';
import { followIncident, type FollowedIncident } from './demo-follow';
import { verifyCommand } from './evidence';

/** Settings of one demo run, which `registerDemoCommands` fills from the options and the environment. */
export interface DemoSettings {
  intakeUrl: string;
  tokenFile: string;
  kubeconfig: string;
  temporal: TemporalSettings;
  operator: string;
  evidenceDir: string;
  /** The pod the alerts name, by default the lab's `shop-prod/checkout-api-7c9d5f6b8-x2lqp`. */
  target?: AlertTarget;
  /** Image to restore on when the playbook takes the trusted digest from the person who approves. */
  imageDigest?: string;
  out: (text: string) => void;
}

/** Label selector of the lab's demo workload, whose other pods stand in when the named pod was replaced. */
const demoSelector = 'app=checkout-api';
/** A made-up trusted build of the demo image, for a restore gate that takes the digest from the approver. */
export const demoTrustedImage =
  'registry.example.internal/shop/checkout-api@sha256:6f1c0e0a4b7d2c9e8f3a5b1d7c2e9f4a0b8d3c6e1f5a7b2d9c4e8f0a3b6d1c5e';

const kubeErrorSchema = z.object({ code: z.number() });

function isRunning(pod: V1Pod | undefined): boolean {
  return pod?.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined;
}

/**
 * Finds the pod the alerts should name: the requested pod while it runs, else another running pod of the demo
 * workload, because an earlier demo run may have deleted the first one and its ReplicaSet replaced it.
 */
async function alertTarget(settings: DemoSettings, out: (text: string) => void): Promise<AlertTarget> {
  const wanted = settings.target ?? { namespace: demoNamespace, pod: demoPod };
  const config = new KubeConfig();
  config.loadFromFile(settings.kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const named = await core.readNamespacedPod({ namespace: wanted.namespace, name: wanted.pod }).catch((error) => {
    if (kubeErrorSchema.safeParse(error).data?.code === 404) return undefined;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot read pod ${wanted.namespace}/${wanted.pod} with ${settings.kubeconfig}: ${reason}`, {
      cause: error,
    });
  });
  const pods = isRunning(named)
    ? [named]
    : (await core.listNamespacedPod({ namespace: wanted.namespace, labelSelector: demoSelector })).items;
  const pod = pods.find(isRunning);
  if (pod?.metadata?.name === undefined) {
    throw new Error(
      `no running pod ${demoSelector} in namespace ${wanted.namespace}: start the lab cluster with npm start`,
    );
  }
  const owner = pod.metadata.ownerReferences?.[0];
  const ownedBy = owner ? `, owned by ${owner.kind} ${owner.name}` : '';
  out(`  pod ${wanted.namespace}/${pod.metadata.name} runs on ${pod.spec?.nodeName ?? 'no node'}${ownedBy}`);
  if (pod.metadata.name !== wanted.pod) {
    out(`  (pod ${wanted.pod} was replaced in an earlier run, so the alerts name ${pod.metadata.name})`);
  }
  return { namespace: wanted.namespace, pod: pod.metadata.name };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot read the intake token (${reason}): start Firebreak with npm start, which writes ${file}`, {
      cause: error,
    });
  }
}

function joinedLabel(first: string | undefined, workflowId: string): string {
  if (first === undefined) return 'new incident';
  return workflowId === first ? 'same incident' : 'another incident';
}

async function sendAlerts(settings: DemoSettings, target: AlertTarget): Promise<{ workflowId: string; runId: string }> {
  const token = await readToken(settings.tokenFile);
  let first: { workflowId: string; runId: string } | undefined;
  for (const alert of scenarioAlerts) {
    const accepted = await postFalcoAlert(settings.intakeUrl, token, demoAlertBody(alert.file, target));
    settings.out(
      `  ${alert.rule.padEnd(48)} -> ${accepted.workflowId} (${joinedLabel(first?.workflowId, accepted.workflowId)})`,
    );
    first ??= accepted;
  }
  if (first === undefined) throw new Error('the demo has no alerts to send');
  return first;
}

async function printResults(
  settings: DemoSettings,
  client: Client,
  result: FollowedIncident,
  run: { workflowId: string; runId: string },
): Promise<void> {
  const { workflowId, runId } = run;
  const out = settings.out;
  out(`  outcome      ${result.outcome}`);
  out(`  severity     ${result.severity ?? 'none'}`);
  const verifyLines: string[] = [];
  const capture = { out: (text: string) => verifyLines.push(text), err: (text: string) => verifyLines.push(text) };
  const reportDir = result.report && reportDirOf(result.report.markdownPath);
  await verifyCommand(workflowId, { dir: settings.evidenceDir, reportDir }, capture);
  for (const [index, line] of verifyLines.entries()) out(`  ${index === 0 ? 'evidence    ' : '            '} ${line}`);

  const listed = await listedRun(client, workflowId, runId);
  const attributes = Object.entries(listed?.searchAttributes ?? {})
    .filter(([name]) => name.startsWith('Firebreak'))
    .map(([name, values]) => `${name}=${(values ?? []).join(',')}`);
  out(`  Temporal     ${listed?.status.name ?? 'not listed yet'}: ${attributes.join(' ')}`);
}

/** Reads the run from the workflow list, waiting up to 10 s for visibility to show it completed. */
async function listedRun(client: Client, workflowId: string, runId: string) {
  const deadline = Date.now() + 10_000;
  let found: WorkflowExecutionInfo | undefined;
  do {
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      if (execution.runId === runId) found = execution;
    }
    if (found?.status.name === 'COMPLETED') return found;
    await sleep(500);
  } while (Date.now() < deadline);
  return found;
}

/** Builds the `firebreak evidence verify` command for the incident, with each folder that differs from its default. */
function verifyCommandLine(workflowId: string, evidenceDir: string, reportPath: string | undefined): string {
  const words = ['./bin/firebreak', 'evidence', 'verify', workflowId];
  if (resolve(evidenceDir) !== resolve(defaultEvidenceDir())) words.push('--dir', evidenceDir);
  const reportDir = reportPath && reportDirOf(reportPath);
  if (reportDir !== undefined && resolve(reportDir) !== resolve(defaultReportDir()))
    words.push('--report-dir', reportDir);
  return words.join(' ');
}

/** Runs the demo against a running `npm start` and prints each step, then where to look. */
export async function runDemo(settings: DemoSettings): Promise<void> {
  const out = settings.out;
  out('Firebreak demo: an attack on one checkout pod, from the first Falco alert to the closed incident.\n');
  out('1. The workload');
  const target = await alertTarget(settings, out);

  out(`\n2. Three Falco alerts through the intake at ${settings.intakeUrl}`);
  const { workflowId, runId } = await sendAlerts(settings, target);

  const client = await connectClient(settings.temporal).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to Temporal at ${settings.temporal.address} (${reason}): start it with npm start`, {
      cause: error,
    });
  });
  try {
    out(`\n3. The incident responds (the demo approves its gates as ${settings.operator})`);
    const imageDigest = settings.imageDigest;
    const result = await followIncident({ client, workflowId, runId, operator: settings.operator, imageDigest, out });

    out('\n4. Results');
    await printResults(settings, client, result, { workflowId, runId });
    out('\nWhere to look:');
    out(`  Temporal UI      ${incidentUiUrl(settings.temporal, workflowId) ?? 'set FIREBREAK_TEMPORAL_UI_URL'}`);
    out(`  Report           ${result.report?.markdownPath ?? 'not written: see the timeline above'}`);
    out(`  Evidence check   ${verifyCommandLine(workflowId, settings.evidenceDir, result.report?.markdownPath)}`);
    out(`  All incidents    ./bin/firebreak incidents list --namespace ${target.namespace}`);
  } finally {
    await client.connection.close();
  }
}

interface DemoCommandOptions {
  intakeUrl: string;
  tokenFile: string;
  kubeconfig: string;
  temporalAddress: string;
}

/** Registers `firebreak demo`, which walks one incident through every phase against `npm start`. */
export function registerDemoCommands(program: Command, out = (text: string) => process.stdout.write(`${text}\n`)) {
  const env = process.env;
  program
    .command('demo')
    .description(
      'Send three Falco alerts for the lab pod to a running `npm start` and follow the incident to its report',
    )
    .option('--intake-url <url>', 'intake base URL', env['FIREBREAK_INTAKE_URL'] ?? 'http://127.0.0.1:8787')
    .option(
      '--token-file <path>',
      'file with the intake token; the evidence store is the evidence folder beside it unless FIREBREAK_EVIDENCE_DIR is set',
      join(repoRoot, '.data', 'intake-token'),
    )
    .option('--kubeconfig <path>', 'kubeconfig of the lab cluster', join(repoRoot, '.data', 'kube', 'admin.kubeconfig'))
    .option('--temporal-address <host:port>', 'Temporal frontend address', env['TEMPORAL_ADDRESS'] ?? '127.0.0.1:7233')
    .action(async (options: DemoCommandOptions) => {
      const temporal = temporalSettingsFromEnv({ ...env, TEMPORAL_ADDRESS: options.temporalAddress });
      await runDemo({
        intakeUrl: options.intakeUrl,
        tokenFile: options.tokenFile,
        kubeconfig: options.kubeconfig,
        temporal: { ...temporal, uiUrl: temporal.uiUrl ?? 'http://localhost:8233' },
        operator: env['FIREBREAK_OPERATOR'] ?? labOperator,
        // `npm start` keeps the token and the evidence store in one data folder.
        evidenceDir: env['FIREBREAK_EVIDENCE_DIR'] ?? join(dirname(options.tokenFile), 'evidence'),
        imageDigest: demoTrustedImage,
        out,
      });
    });
}
