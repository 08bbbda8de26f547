import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { runBench, type BenchContext } from './support/bench';
import { intakeSignalStats, firebreakSettings, startFirebreak } from './support/firebreak';
import { JsonPoster, paced } from './support/http';
import { labPids, startBenchLab } from './support/lab';
import { checkLedger, DeliveryLedger, IncidentMix } from './support/ledger';
import { CpuMeter } from './support/machine';
import { writeLabCopy } from './support/playbooks';
import { describeLatency, ms, splitRounds, summarise } from './support/stats';

/**
 * Sustained intake: 500 alerts/s for 5 minutes at full scale (the scale shortens the duration, never the
 * rate), one alert in twenty opening a new incident (25 new incidents/s) and the rest repeating one of the 200
 * most recent incidents. Afterwards every acknowledged alert must be counted in its own incident.
 */

const token = `bench-${randomBytes(8).toString('hex')}`;
const ratePerSec = 500;
const maxInFlight = 4000;
const namespace = 'bench-sustained';

async function main(context: BenchContext): Promise<void> {
  const durationSec = Math.max(10, Math.round(300 * context.scale));
  const count = ratePerSec * durationSec;
  const lab = await startBenchLab('sustained');
  const stops: (() => Promise<void>)[] = [() => lab.stop()];
  try {
    context.versions = lab.versions;
    const common = firebreakSettings(lab, writeLabCopy(join(lab.dir, 'playbooks')), token);
    const worker = await startFirebreak('worker', { ...common, roles: ['worker'] });
    stops.unshift(() => worker.stop());
    const intake = await startFirebreak('intake', { ...common, roles: ['intake'] });
    stops.unshift(() => intake.stop());
    const connection = await Connection.connect({ address: lab.lab.temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });

    const poster = new JsonPoster(intake.intakeUrl ?? '', { authorization: `Bearer ${token}` }, maxInFlight);
    const mix = new IncidentMix({ namespace, node: lab.node, newShare: 0.05, openWindow: 200, prefix: 'svc' });
    const ledger = new DeliveryLedger();
    const cpu = new CpuMeter({ 'Firebreak intake': intake.pid, 'Firebreak worker': worker.pid, ...labPids(lab) });
    cpu.start();
    context.log(`sending ${count} alerts at ${ratePerSec}/s for ${durationSec} s`);
    const progress = setInterval(
      () => context.log(`${ledger.sent} sent, ${ledger.acknowledgedCount} acknowledged`),
      30_000,
    );
    const run = await paced({
      ratePerSec,
      count,
      maxDurationMs: durationSec * 1000 + 60_000,
      maxInFlight,
      send: async () => {
        await ledger.deliver(poster, mix.next());
      },
    });
    clearInterval(progress);
    const cpuRows = cpu.stop();
    poster.close();
    const signals = await intakeSignalStats(intake.intakeUrl ?? '');

    context.log('checking every incident');
    const checkStarted = Date.now();
    const check = await checkLedger(client, ledger, namespace, Date.now() + 120_000);
    const checkSec = Math.round((Date.now() - checkStarted) / 1000);
    for (const problem of check.problems) context.fail(problem);
    const wrong = [...check.mismatched, ...check.unverified];
    for (const problem of wrong.slice(0, 20)) context.fail(`alert count wrong or unverified: ${problem}`);
    if (wrong.length > 20) context.fail(`${wrong.length - 20} more incidents with a wrong or unverified count`);

    const loadSec = run.elapsedMs / 1000;
    const newPerSec = check.incidentsFound / loadSec;
    const scale = `${run.sent} alerts at ${ratePerSec}/s for ${durationSec} s (scale ${context.scale})`;
    context.row({
      benchmark: 'Sustained intake: 500 alerts/s, mixed incidents, 0 lost, each in its incident',
      goal: '0 lost, every alert in its incident',
      measured:
        `${check.alertsAcknowledged} of ${count} offered alerts acknowledged (${count - run.sent} never sent because ` +
        `${maxInFlight} requests were already waiting, ${ledger.unacknowledged} sent but never acknowledged); ` +
        `${check.mismatched.length} incidents miss acknowledged alerts, ${check.unverified.length} could not be ` +
        `checked; ${check.storedNotCounted} incidents had every alert stored but not yet counted by the worker`,
      met:
        run.sent === count &&
        ledger.unacknowledged === 0 &&
        check.mismatched.length === 0 &&
        check.unverified.length === 0 &&
        check.storedNotCounted === 0 &&
        check.problems.length === 0,
      scale,
    });
    context.row({
      benchmark: 'Sustained intake: new incidents per second',
      goal: '>= 20 new incidents/s',
      measured: `${newPerSec.toFixed(1)} new incidents/s (${check.incidentsFound} incidents in ${loadSec.toFixed(0)} s)`,
      met: newPerSec >= 20,
      scale,
    });
    const ack = summarise(ledger.ackLatenciesMs, splitRounds(ledger.ackLatenciesMs, 5));
    context.section('Sustained intake details', {
      text:
        `Offered ${ratePerSec} alerts/s; the load took ${loadSec.toFixed(0)} s to send (${run.late} sends started more than ` +
        `50 ms late). Responses: ${ledger.statusSummary()}; ${ledger.retries} retries. The intake sent ${signals.signals} ` +
        `signals of ${signals.alertsPerSignal.toFixed(1)} alerts on average, each taking ${ms(signals.meanMs)} (one ` +
        `signalWithStart round trip to Temporal). Checking every incident's count took ${checkSec} s after the load.`,
      table: {
        header: ['Measure', 'Value'],
        rows: [
          ['Acknowledgement latency of first attempts', describeLatency(ack)],
          ['Incidents expected / found', `${check.incidentsExpected} / ${check.incidentsFound}`],
          ['Alerts acknowledged / counted by the worker', `${check.alertsAcknowledged} / ${check.alertsCounted}`],
          ['Incidents checked against their history (worker too busy to answer)', String(check.storedNotCounted)],
          ...cpuRows.map((row) => [`CPU: ${row[0]}`, `${row[1]} (${row[2]})`]),
        ],
      },
    });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

void runBench('sustained', 'Sustained intake at 500 alerts/s', __filename, main);
