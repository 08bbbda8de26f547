import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { runBench, type BenchContext } from './support/bench';
import { intakeSignalStats, firebreakSettings, startFirebreak, type FirebreakProcess } from './support/firebreak';
import { JsonPoster, paced } from './support/http';
import { labPids, startBenchLab, type BenchLab } from './support/lab';
import { checkLedger, DeliveryLedger, IncidentMix } from './support/ledger';
import { CpuMeter, scaled } from './support/machine';
import { writeLabCopy } from './support/playbooks';
import { describeLatency, ms, splitRounds, summarise } from './support/stats';
import { probeSignals, startMemoryTemporal } from './support/temporal-probe';

/**
 * Intake acknowledgement at 100 alerts/s: the time from sending an alert until the intake responds 202, which
 * covers the token check, parsing, batching and the durable signalWithStart. One alert in ten opens a new
 * incident; the rest repeat one of the 50 most recent. A second, shorter run with a batch window of 0 ms shows
 * what the batch window adds.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const ratePerSec = 100;
const roundCount = 3;
/** Signals in flight of the comparison intake, against the product default of 64. */
const narrowInFlight = 16;

async function runLoad(intake: FirebreakProcess, lab: BenchLab, namespace: string, count: number) {
  const poster = new JsonPoster(intake.intakeUrl ?? '', { authorization: `Bearer ${token}` }, 64);
  const mix = new IncidentMix({ namespace, node: lab.node, newShare: 0.1, openWindow: 50, prefix: 'shell' });
  const ledger = new DeliveryLedger();
  const run = await paced({
    ratePerSec,
    count,
    maxDurationMs: (count / ratePerSec) * 1000 + 30_000,
    send: async () => {
      await ledger.deliver(poster, mix.next());
    },
  });
  poster.close();
  return { ledger, run, incidents: mix.incidents, namespace };
}

async function main(context: BenchContext): Promise<void> {
  const count = scaled(3000, context.scale, 300);
  const lab = await startBenchLab('intake-ack');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const common = firebreakSettings(lab, writeLabCopy(join(lab.dir, 'playbooks')), token);
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const intake = await startFirebreak('intake', { ...common, roles: ['intake'] });
    stops.unshift(() => intake.stop());
    const noWindow = await startFirebreak('intake-no-window', {
      ...common,
      roles: ['intake'],
      intakeLimits: { batchWindowMs: 0 },
    });
    stops.unshift(() => noWindow.stop());
    const narrow = await startFirebreak('intake-16-in-flight', {
      ...common,
      roles: ['intake'],
      intakeLimits: { maxSignalsInFlight: narrowInFlight },
    });
    stops.unshift(() => narrow.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });

    // The probes run first, while the server has no other work, so both dev servers are measured idle.
    const probeCount = Math.max(200, Math.round(count / 6));
    context.log(`probing Temporal alone: ${probeCount} describe + signalWithStart pairs at ${ratePerSec}/s`);
    const fileProbe = await probeSignals(lab.lab.temporal.address, {
      ratePerSec,
      count: probeCount,
      workflows: 60,
      prefix: 'probe-file',
    });
    const memory = await startMemoryTemporal(join(lab.dir, 'logs'));
    stops.unshift(() => memory.stop());
    const memoryProbe = await probeSignals(memory.address, {
      ratePerSec,
      count: probeCount,
      workflows: 60,
      prefix: 'probe-memory',
    });
    await memory.stop();
    context.log(`sending ${count} alerts at ${ratePerSec}/s`);
    const cpu = new CpuMeter({ 'Firebreak intake': intake.pid, 'Firebreak worker': worker.pid, ...labPids(lab) });
    cpu.start();
    const main = await runLoad(intake, lab, 'bench-intake', count);
    const cpuRows = cpu.stop();
    const signals = await intakeSignalStats(intake.intakeUrl ?? '');
    const referenceCount = Math.max(100, Math.round(count / 3));
    context.log(`sending ${referenceCount} alerts at ${ratePerSec}/s to an intake with a 0 ms batch window`);
    const reference = await runLoad(noWindow, lab, 'bench-no-window', referenceCount);
    context.log(
      `sending ${referenceCount} alerts at ${ratePerSec}/s to an intake with ${narrowInFlight} signals in flight`,
    );
    const narrowLoad = await runLoad(narrow, lab, 'bench-narrow', referenceCount);
    const narrowSignals = await intakeSignalStats(narrow.intakeUrl ?? '');

    const summary = summarise(main.ledger.ackLatenciesMs, splitRounds(main.ledger.ackLatenciesMs, roundCount));
    const referenceSummary = summarise(reference.ledger.ackLatenciesMs);
    const narrowSummary = summarise(narrowLoad.ledger.ackLatenciesMs);
    context.row({
      benchmark: 'Intake acknowledgement (auth, parse, durable signal) at 100 alerts/s',
      goal: 'p50 <= 20 ms, p99 <= 100 ms',
      measured: describeLatency(summary),
      met: summary.p50Ms <= 20 && summary.p99Ms <= 100,
      scale: `${main.run.sent} alerts at ${ratePerSec}/s in ${roundCount} rounds, ${main.incidents} incidents (scale ${context.scale})`,
    });
    context.section('Intake acknowledgement', {
      text:
        'The intake holds the first alert of an idle incident for its batch window (20 ms by default) so that ' +
        'a burst for the same incident leaves in one signal; then it sends signalWithStart, one round trip to ' +
        'Temporal (a describe and a second signalWithStart only when a closed incident holds the workflow id), ' +
        'and responds 202 once Temporal has stored the signal. At most 64 signals are in flight ' +
        '(FIREBREAK_INTAKE_MAX_SIGNALS_IN_FLIGHT), so an alert also waits for a free signal slot whenever ' +
        'Temporal completes fewer signals per second than the load needs. The run with a 0 ms window shows the ' +
        `share of the window, and the run with ${narrowInFlight} signals in flight how that wait grows with ` +
        `fewer slots (its signals took ${ms(narrowSignals.meanMs)} on average).`,
      table: {
        header: ['Intake', 'Acknowledgement latency', 'Responses', 'Sender late (> 50 ms behind)'],
        rows: [
          [
            'batch window 20 ms (default)',
            describeLatency(summary),
            main.ledger.statusSummary(),
            String(main.run.late),
          ],
          [
            'batch window 0 ms',
            describeLatency(referenceSummary),
            reference.ledger.statusSummary(),
            String(reference.run.late),
          ],
          [
            `batch window 20 ms, ${narrowInFlight} signals in flight`,
            describeLatency(narrowSummary),
            narrowLoad.ledger.statusSummary(),
            String(narrowLoad.run.late),
          ],
        ],
      },
    });

    context.section('CPU during the 100 alerts/s run', {
      text:
        `The intake sent ${signals.signals} signals carrying ${signals.alertsPerSignal.toFixed(2)} alerts each on average; ` +
        `one signal (a signalWithStart round trip) took ${ms(signals.meanMs)} on average.`,
      table: { header: ['Process', 'CPU time', 'Load'], rows: cpuRows },
    });

    context.section('Temporal dev server alone: SQLite file against SQLite in memory', {
      text:
        `${probeCount} describe + signalWithStart pairs at ${ratePerSec}/s over 60 workflows, sent straight to the ` +
        'Temporal dev server with no worker polling, first to the server of this run (SQLite file), then to a ' +
        'second dev server that keeps SQLite in memory, both before the intake runs. The difference is the cost ' +
        'of the SQLite file.',
      table: {
        header: ['Temporal dev server', 'describe + signalWithStart', 'signalWithStart alone'],
        rows: [
          ['SQLite file (this run)', describeLatency(fileProbe.pair), describeLatency(fileProbe.signal)],
          ['SQLite in memory', describeLatency(memoryProbe.pair), describeLatency(memoryProbe.signal)],
        ],
      },
    });

    const deadline = Date.now() + 180_000;
    for (const [name, load] of [
      ['main', main],
      ['reference', reference],
      ['16 in flight', narrowLoad],
    ] as const) {
      const check = await checkLedger(client, load.ledger, load.namespace, deadline);
      for (const problem of [...check.problems, ...check.mismatched, ...check.unverified]) {
        context.fail(`${name} run: ${problem}`);
      }
      context.log(
        `${name}: ${check.alertsAcknowledged} alerts acknowledged, ${check.alertsCounted} counted in ` +
          `${check.incidentsFound}/${check.incidentsExpected} incidents (${ms(summary.p50Ms)} p50)`,
      );
    }
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('intake-ack', 'Intake acknowledgement at 100 alerts/s', __filename, main);
