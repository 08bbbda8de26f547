import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { alertSchema } from '../domain/alert';
import { incidentWorkflowId, type AlertBatch } from '../domain/incident';
import { decideGateUpdate } from '../workflows/messages';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../workers/worker';
import { runBench, type BenchContext } from './support/bench';
import { startFirebreak } from './support/firebreak';
import { epochMs, inParallel } from './support/http';
import { labPids, startBenchLab } from './support/lab';
import { CpuMeter, scaled } from './support/machine';
import { askingPlaybook, benchOperator, writeLabCopy } from './support/playbooks';
import { describeLatency, splitRounds, summarise } from './support/stats';

/**
 * Many incidents open at once, each waiting at its isolate gate. Measured: the worker's resident memory while
 * they wait, and the time a decision takes on incidents picked at random, most of them no longer in the
 * worker's cache. A decision is the `decideGate` Update, as the CLI and the Slack app send it. Incidents
 * start as the intake starts them (signalWithStart with the first alert), with the asking playbook in the
 * workflow input. Their pods do not exist, so they resolve no target and wait for a person.
 */

const namespace = 'bench-gates';

function firstBatch(index: number): AlertBatch {
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
    target: { namespace, pod: `gate-${index}`, container: 'app' },
    process: { name: 'bash', cmdline: 'bash -i' },
    fields: {},
    hostScoped: false,
  });
  return { alerts: [alert], count: 1, redeliveries: 0, receivedAt: new Date().toISOString() };
}

const gateQuery = `WorkflowType = 'incidentWorkflow' AND FirebreakGate = 'isolate' AND ExecutionStatus = 'Running'`;

async function countAtGate(client: Client): Promise<number> {
  return (await client.workflow.count(gateQuery)).count;
}

/**
 * Fails the run unless exactly one incident exists for each started one and every incident still runs,
 * before any decision is sent. Visibility can lag the history, so the counts get 30 s to agree.
 */
async function checkIncidentCount(context: BenchContext, client: Client, startedCount: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  const readCounts = async () => ({
    all: (await client.workflow.count(`WorkflowType = 'incidentWorkflow'`)).count,
    running: (await client.workflow.count(`WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`)).count,
  });
  let counts = await readCounts();
  while ((counts.all !== startedCount || counts.running !== startedCount) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    counts = await readCounts();
  }
  if (counts.all !== startedCount) context.fail(`${startedCount} incidents started, but ${counts.all} exist`);
  if (counts.running !== counts.all) {
    context.fail(`${counts.all - counts.running} incidents closed before any decision was sent`);
  }
}

async function main(context: BenchContext): Promise<void> {
  const total = scaled(10_000, context.scale, 200);
  const decisions = scaled(200, context.scale, 30);
  const startBudgetMs = Math.max(30_000, Math.round(300_000 * context.scale));
  const gateBudgetMs = Math.max(60_000, Math.round(900_000 * context.scale));
  const lab = await startBenchLab('open-gates');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const worker = await startFirebreak('worker', {
      roles: ['worker'],
      temporalAddress: lab.lab.temporal.address,
      taskQueue: 'firebreak',
      kubeconfigPath: lab.kube.kubeconfigPath,
      playbookDir: writeLabCopy(join(lab.dir, 'playbooks')),
      dataDir: join(lab.dir, 'firebreak'),
      intakeToken: 'unused',
    });
    stops.unshift(() => worker.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const playbook = askingPlaybook({});

    const baseline = worker.memoryMiB();
    const cpu = new CpuMeter({ 'Firebreak worker': worker.pid, ...labPids(lab) });
    cpu.start();
    const started = Date.now();
    const ids = Array.from({ length: total }, (_, index) =>
      incidentWorkflowId(`gates${String(index).padStart(11, '0')}`),
    );
    let startedCount = 0;
    await inParallel(ids, 16, async (workflowId) => {
      if (Date.now() - started > startBudgetMs) return;
      await client.workflow.signalWithStart('incidentWorkflow', {
        workflowId,
        taskQueue: 'firebreak',
        args: [{ fingerprint: workflowId.replace(/^incident-/, ''), playbook }],
        signal: 'alerts',
        signalArgs: [firstBatch(startedCount)],
      });
      startedCount += 1;
    });
    context.log(
      `${startedCount} incidents started in ${Math.round((Date.now() - started) / 1000)} s; waiting for their gates`,
    );
    let waiting = await countAtGate(client);
    const afterStarts = { waiting, rss: worker.memoryMiB().rss };
    let progressMs = Date.now();
    while (waiting < startedCount && Date.now() - started < startBudgetMs + gateBudgetMs) {
      if (Date.now() - progressMs > 60_000) {
        context.log(`no incident reached the gate for 60 s; ${waiting} of ${startedCount} wait there`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const now = await countAtGate(client);
      if (now > waiting) progressMs = Date.now();
      waiting = now;
      context.log(
        `${waiting} of ${startedCount} incidents wait at the isolate gate, worker ${worker.memoryMiB().rss} MiB`,
      );
    }
    const openSec = (Date.now() - started) / 1000;
    const cpuRows = cpu.stop();
    await checkIncidentCount(context, client, startedCount);
    const memoryWaiting = worker.memoryMiB();

    const atGate: string[] = [];
    for await (const execution of client.workflow.list({ query: gateQuery })) atGate.push(execution.workflowId);
    const picks = Array.from({ length: decisions }, () => atGate[Math.floor(Math.random() * atGate.length)] ?? '');
    const latencies: number[] = [];
    let unanswered = 0;
    const decisionsUntilMs = Date.now() + Math.max(60_000, 120_000 * context.scale);
    for (const workflowId of new Set(picks)) {
      if (Date.now() > decisionsUntilMs) break;
      const sentMs = epochMs();
      const input = {
        gate: 'isolate' as const,
        decision: 'reject' as const,
        decider: benchOperator,
        channel: 'cli' as const,
      };
      try {
        await client.withDeadline(Date.now() + 30_000, () =>
          client.workflow
            .getHandle(workflowId)
            .executeUpdate(decideGateUpdate, { args: [{ ...input, reason: 'benchmark' }] }),
        );
        latencies.push(epochMs() - sentMs);
      } catch (error) {
        unanswered += 1;
        context.log(`decision on ${workflowId} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (unanswered > 0) context.log(`${unanswered} decisions failed or took longer than 30 s`);
    const memoryAfter = worker.memoryMiB();
    const exitCode = await Promise.race([
      worker.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 100)),
    ]);
    if (exitCode !== 'running') {
      context.fail(
        `the worker process exited (code ${exitCode ?? 'none, so a signal ended it'}) while the incidents waited; see its log in the run folder`,
      );
    }
    const peakMiB = Math.max(memoryAfter.peak, memoryWaiting.peak, memoryWaiting.rss);
    const decided = summarise(latencies, splitRounds(latencies, 3));
    const limitMiB = 1536;
    const scale = `${waiting} of ${total} incidents waiting, ${latencies.length} decisions (scale ${context.scale})`;
    if (waiting < startedCount)
      context.log(`only ${waiting} of ${startedCount} started incidents reached the gate in time`);
    context.row({
      benchmark: '10,000 incidents open and waiting at a gate: worker resident memory',
      goal: '<= 1.5 GiB',
      measured:
        `${memoryWaiting.rss} MiB resident with ${waiting} incidents waiting (peak ${peakMiB} MiB)` +
        (exitCode === 'running' ? '' : `; the worker exited (code ${exitCode ?? 'none, so a signal ended it'})`),
      met: peakMiB <= limitMiB && waiting >= total && exitCode === 'running',
      scale,
    });
    context.row({
      benchmark: '10,000 incidents waiting: a decision resumes any of them',
      goal: 'p99 <= 1 s',
      measured: `${describeLatency(decided)}${unanswered > 0 ? `; ${unanswered} decisions failed or took over 30 s` : ''}`,
      met: decided.p99Ms <= 1000 && waiting >= total && unanswered === 0,
      scale,
    });
    // The benchmark worker is built by createFirebreakWorker without a cache size, so the product default applies.
    const cacheSize = DEFAULT_MAX_CACHED_WORKFLOWS;
    const cached = Math.min(cacheSize, waiting);
    const laterWaiting = waiting - afterStarts.waiting;
    const laterKiB = laterWaiting > 0 ? ((memoryWaiting.rss - afterStarts.rss) * 1024) / laterWaiting : 0;
    context.section('Where the worker memory goes', {
      text:
        `The worker used ${baseline.rss} MiB before the first incident, ${afterStarts.rss} MiB once all ` +
        `${startedCount} incidents were started (${afterStarts.waiting} of them waiting at the gate), and ` +
        `${memoryWaiting.rss} MiB with ${waiting} waiting (peak ${peakMiB} MiB). After the starts, ${laterWaiting} ` +
        `more incidents reached the gate and the resident memory grew by ${laterKiB.toFixed(0)} KiB per incident. ` +
        `The worker keeps at most ${cacheSize} incidents in its sticky cache (maxCachedWorkflows, set by ` +
        `FIREBREAK_MAX_CACHED_WORKFLOWS), so about ${cached} are cached; the others are evicted and replayed from ` +
        'their history when a decision or signal arrives. ' +
        (afterStarts.rss - baseline.rss > memoryWaiting.rss - afterStarts.rss
          ? 'Most of the memory above the baseline was taken while the incidents were started. '
          : 'Most of the memory above the baseline was taken after the starts, while incidents reached the gate. ') +
        "The benchmark samples the process's resident set size only, so it does not split the JavaScript heaps of " +
        'the main thread (activities) and the workflow thread from native memory.',
    });
    context.section('Open incidents at a gate', {
      text:
        `Starting ${startedCount} incidents and bringing them to the isolate gate took ${openSec.toFixed(0)} s ` +
        `(${(waiting / openSec).toFixed(1)} incidents/s), bounded at ${Math.round(startBudgetMs / 1000)} s of starts ` +
        `and ${Math.round(gateBudgetMs / 1000)} s more for the gates. ` +
        'Each decision is the decideGate Update on an incident picked at random, sent one at a time; the latency ' +
        'runs until the Update returns, when the workflow has recorded the decision and resumed.',
      table: { header: ['Process', 'CPU time while opening the incidents', 'Load'], rows: cpuRows },
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('open-gates', 'Open incidents waiting at a gate', __filename, main);
