import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { quarantinePolicyName } from '../activities/kubernetes/labels';
import { statusQuery } from '../workflows/messages';
import { falcoAlertBody } from './support/alerts';
import { runBench, type BenchContext } from './support/bench';
import { firebreakSettings, startFirebreak } from './support/firebreak';
import { activityNamed, runTimes } from './support/history';
import { JsonPoster } from './support/http';
import { createNamespace, createPods, PolicyWatch } from './support/kube';
import { startBenchLab, type BenchLab } from './support/lab';
import { scaled } from './support/machine';
import { writeP0Playbooks } from './support/playbooks';
import { describeLatency, median, ms, percentile, splitRounds, summarise } from './support/stats';
import { buildTalon, startFloor, startTalon, type Peer, type TalonBuild } from './peer/peers';

/**
 * Alert received to quarantine NetworkPolicy stored in the API server, with automatic isolation (a P0
 * terminal shell). Firebreak (intake and worker as separate processes), the floor script and, when it builds,
 * Falco Talon take turns on fresh pods, and a NetworkPolicy watch times all three at the same point.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const acceptedSchema = z.object({ workflowId: z.string(), runId: z.string() });
const roundCount = 3;

interface FirebreakSample {
  latencyMs: number;
  ackMs: number;
  stagesMs: Record<string, number>;
  /** False when the incident had not reached a gate 60 s after its policy, so the next sample overlapped it. */
  settled: boolean;
  workflowId: string;
  /** Alerts that the incident counted once it settled; one alert was sent to it. */
  alertCount: number;
}

const stageNames = [
  'intake: batch window, signalWithStart (sent to workflow started)',
  'first workflow task (started to selectPlaybook scheduled)',
  'selectPlaybook schedule-to-start',
  'selectPlaybook run (checks the playbook folder, loads it when it changed)',
  'workflow task (selectPlaybook done to resolveTarget scheduled)',
  'resolveTarget schedule-to-start',
  'resolveTarget run (Kubernetes reads)',
  'workflow task (resolveTarget done to quarantinePod scheduled)',
  'quarantinePod schedule-to-start',
  'quarantinePod to policy stored (read pod, label pod, create policy)',
] as const;

async function firebreakSample(
  poster: JsonPoster,
  client: Client,
  watch: PolicyWatch,
  lab: BenchLab,
  pod: string,
): Promise<FirebreakSample> {
  const alert = falcoAlertBody({ namespace: 'bench-fb', pod, node: lab.node });
  const response = await poster.post('/v1/alerts/falco', alert.body);
  if (response.status !== 202)
    throw new Error(`the intake responded ${response.status} for pod ${pod}: ${response.body}`);
  const { workflowId, runId } = acceptedSchema.parse(JSON.parse(response.body));
  const seenMs = await watch.waitFor('bench-fb', quarantinePolicyName(workflowId), 30_000);
  if (seenMs === undefined) throw new Error(`no quarantine NetworkPolicy for ${workflowId} within 30 s`);
  const { settled, alertCount } = await settle(client, workflowId);
  const times = await runTimes(client, workflowId, runId);
  const select = activityNamed(times, 'selectPlaybook');
  const resolve = activityNamed(times, 'resolveTarget');
  const quarantine = activityNamed(times, 'quarantinePod');
  const marks = [
    response.sentAtMs,
    times.startedMs,
    select?.scheduledMs,
    select?.startedMs,
    select?.completedMs,
    resolve?.scheduledMs,
    resolve?.startedMs,
    resolve?.completedMs,
    quarantine?.scheduledMs,
    quarantine?.startedMs,
    seenMs,
  ];
  const stagesMs: Record<string, number> = {};
  stageNames.forEach((name, index) => {
    const [from, to] = [marks[index], marks[index + 1]];
    if (from !== undefined && to !== undefined) stagesMs[name] = to - from;
  });
  return {
    latencyMs: seenMs - response.sentAtMs,
    ackMs: response.durationMs,
    stagesMs,
    settled,
    workflowId,
    alertCount,
  };
}

/**
 * Waits until the incident waits at a gate (the escalate gate after its quarantine and evidence), so that its
 * evidence collection does not overlap the next sample. Returns false when that takes longer than 60 s.
 */
async function settle(client: Client, workflowId: string): Promise<{ settled: boolean; alertCount: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await client.workflow.getHandle(workflowId).query(statusQuery);
    if (status.waitingGate !== 'none') return { settled: true, alertCount: status.alertCount };
    if (Date.now() >= deadline) return { settled: false, alertCount: status.alertCount };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function peerSample(peer: Peer, namespace: string, watch: PolicyWatch, lab: BenchLab, pod: string) {
  const poster = new JsonPoster(peer.eventUrl, {}, 4);
  const alert = falcoAlertBody({ namespace, pod, node: lab.node });
  const response = await poster.post('/', alert.body);
  poster.close();
  if (response.status >= 300)
    throw new Error(`${peer.name} responded ${response.status} for pod ${pod}: ${response.body}`);
  const seenMs = await watch.waitFor(namespace, peer.policyName(pod), 30_000);
  if (seenMs === undefined) throw new Error(`${peer.name} created no NetworkPolicy for ${pod} within 30 s`);
  return seenMs - response.sentAtMs;
}

function talonSection(context: BenchContext, build: TalonBuild): void {
  if (build.ok) {
    context.section('Falco Talon build', { text: `Built from the Go module proxy: ${build.binary}.` });
    return;
  }
  context.section('Falco Talon build', {
    text:
      `Falco Talon could not be built from the Go module proxy, so the comparison is against the floor script ` +
      `(a plain HTTP receiver that reads the pod and creates the policy with two API requests).\n\n` +
      `Command: \`${build.command}\` (it runs \`go build github.com/falcosecurity/falco-talon\` in bench/peer with ` +
      `GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod). Error:\n\n\`\`\`\n${build.error}\n\`\`\``,
  });
}

async function main(context: BenchContext): Promise<void> {
  const samples = scaled(30, context.scale, 6);
  const lab = await startBenchLab('alert-to-policy');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const build = await buildTalon();
    talonSection(context, build);
    const pods = (prefix: string) => Array.from({ length: samples + 2 }, (_, index) => `${prefix}-${index}`);
    const namespaces = build.ok ? ['bench-fb', 'bench-floor', 'bench-talon'] : ['bench-fb', 'bench-floor'];
    for (const namespace of namespaces) {
      await createNamespace(lab.kubeConfig, namespace);
      await createPods(lab.kubeConfig, namespace, pods('shell'), lab.node);
    }
    const common = firebreakSettings(lab, writeP0Playbooks(join(lab.dir, 'playbooks')), token);
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const intake = await startFirebreak('intake', { ...common, roles: ['intake'] });
    stops.unshift(() => intake.stop());
    const floor = await startFloor(lab.kube, join(lab.dir, 'floor'));
    stops.unshift(() => floor.stop());
    const talon = build.ok
      ? await startTalon(build.binary, lab.kube.kubeconfigPath, join(lab.dir, 'talon'))
      : undefined;
    if (talon) stops.unshift(() => talon.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const watch = await PolicyWatch.start(lab.kubeConfig);
    stops.unshift(async () => watch.stop());
    const poster = new JsonPoster(intake.intakeUrl ?? '', { authorization: `Bearer ${token}` }, 4);

    const firebreak: FirebreakSample[] = [];
    const floorMs: number[] = [];
    const talonMs: number[] = [];
    // The first pod of each responder warms up connections and code paths and is not counted.
    for (let index = 0; index < samples + 1; index += 1) {
      const pod = `shell-${index}`;
      const fb = await firebreakSample(poster, client, watch, lab, pod);
      const fl = await peerSample(floor, 'bench-floor', watch, lab, pod);
      const ta = talon ? await peerSample(talon, 'bench-talon', watch, lab, pod) : undefined;
      if (index === 0) continue;
      firebreak.push(fb);
      floorMs.push(fl);
      if (ta !== undefined) talonMs.push(ta);
      if (!fb.settled) context.log(`incident for ${pod} had not reached a gate 60 s after its quarantine`);
      if (index % 10 === 0) context.log(`${index}/${samples} samples, last Firebreak ${ms(fb.latencyMs)}`);
    }
    poster.close();
    checkIncidents(context, firebreak);
    report(context, firebreak, floorMs, talonMs, samples);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** Fails the run unless every alert, each for a pod of its own, opened its own incident that counted it. */
function checkIncidents(context: BenchContext, samples: FirebreakSample[]): void {
  const incidents = new Set(samples.map((sample) => sample.workflowId));
  if (incidents.size !== samples.length) {
    context.fail(`${samples.length} alerts for different pods opened ${incidents.size} incidents`);
  }
  for (const sample of samples.filter((item) => item.alertCount !== 1)) {
    context.fail(`incident ${sample.workflowId} counts ${sample.alertCount} alerts, but it was sent 1`);
  }
}

function report(context: BenchContext, firebreak: FirebreakSample[], floorMs: number[], talonMs: number[], n: number) {
  const latencies = firebreak.map((sample) => sample.latencyMs);
  const summary = summarise(latencies, splitRounds(latencies, roundCount));
  const floor = summarise(floorMs, splitRounds(floorMs, roundCount));
  const scale = `${n} alerts per responder, ${roundCount} rounds (scale ${context.scale})`;
  context.row({
    benchmark: 'Alert received to quarantine NetworkPolicy, automatic isolation (P0 playbook)',
    goal: 'p50 <= 250 ms, p99 <= 1 s',
    measured: describeLatency(summary),
    met: summary.p50Ms <= 250 && summary.p99Ms <= 1000,
    scale,
  });
  const peer = talonMs.length > 0 ? 'Falco Talon' : 'floor script (Falco Talon did not build)';
  const peerSummary = talonMs.length > 0 ? summarise(talonMs, splitRounds(talonMs, roundCount)) : floor;
  context.row({
    benchmark: `Alert to policy: Firebreak as a multiple of the ${peer}, same run`,
    goal: 'reported',
    measured: `p50 ${(summary.p50Ms / peerSummary.p50Ms).toFixed(1)}x, p99 ${(summary.p99Ms / peerSummary.p99Ms).toFixed(1)}x`,
    met: 'n/a',
    scale,
  });
  const rows = [
    ['Firebreak', describeLatency(summary)],
    ['floor script', describeLatency(floor)],
    ...(talonMs.length > 0
      ? [['Falco Talon', describeLatency(summarise(talonMs, splitRounds(talonMs, roundCount)))]]
      : []),
    ['Firebreak intake 202 (for reference)', describeLatency(summarise(firebreak.map((sample) => sample.ackMs)))],
  ];
  const unsettled = firebreak.filter((sample) => !sample.settled).length;
  context.section('Alert to policy by responder', {
    text:
      'The responders take turns, one alert at a time, each on a pod of its own. Before the next turn, each ' +
      `Firebreak incident is left to reach its escalate gate (${unsettled} of ${firebreak.length} had not after 60 s).`,
    table: { header: ['Responder', 'Alert to policy stored'], rows },
  });
  const stageRows = stageNames.map((name) => {
    const values = firebreak.map((sample) => sample.stagesMs[name]).filter((value) => value !== undefined);
    const sorted = [...values].sort((a, b) => a - b);
    return [
      name,
      ms(median(values)),
      ms(percentile(sorted, 90)),
      `${((median(values) / summary.p50Ms) * 100).toFixed(0)}%`,
    ];
  });
  context.section('Where Firebreak spends the time (median per stage, from Temporal history event times)', {
    text:
      'Each stage runs from one history event to the next; the last one ends when the NetworkPolicy watch sees ' +
      'the policy. Shares are of the median total, so they need not add up to 100%.',
    table: { header: ['Stage', 'Median', 'p90', 'Share of p50'], rows: stageRows },
  });
}

void runBench('alert-to-policy', 'Alert to quarantine NetworkPolicy', __filename, main);
