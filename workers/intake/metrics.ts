import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one intake server, in a registry of its own so several servers can share a process. */
export interface IntakeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  alertsAccepted: Counter<'source'>;
  redeliveries: Counter<'source'>;
  rejections: Counter<'reason'>;
  droppedResolved: Counter;
  signals: Counter<'outcome'>;
  signalDurationSec: Histogram<'outcome'>;
  batchAlerts: Histogram;
}

export function createIntakeMetrics(): IntakeMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'firebreak_intake_requests_total',
      help: 'HTTP requests to the alert intake, by route and status code.',
      labelNames: ['route', 'status'],
      registers,
    }),
    alertsAccepted: new Counter({
      name: 'firebreak_intake_alerts_accepted_total',
      help: 'Alerts stored in an incident workflow, by source.',
      labelNames: ['source'],
      registers,
    }),
    redeliveries: new Counter({
      name: 'firebreak_intake_redeliveries_total',
      help: 'Alerts recognised as redeliveries of an alert already stored, by source.',
      labelNames: ['source'],
      registers,
    }),
    rejections: new Counter({
      name: 'firebreak_intake_rejections_total',
      help: 'Rejected requests, by reason (unauthorized, too_large, unsupported_media_type, invalid_body, unavailable).',
      labelNames: ['reason'],
      registers,
    }),
    droppedResolved: new Counter({
      name: 'firebreak_intake_resolved_without_incident_total',
      help: 'Resolved alerts recorded and dropped because no incident for them was running.',
      registers,
    }),
    signals: new Counter({
      name: 'firebreak_intake_signals_total',
      help: 'Incident signals to Temporal (signalWithStart, or a signal for resolved alerts), by outcome (ok, unavailable, error).',
      labelNames: ['outcome'],
      registers,
    }),
    signalDurationSec: new Histogram({
      name: 'firebreak_intake_signal_duration_seconds',
      help: 'Duration of one incident signal to Temporal, including the describe call before it.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchAlerts: new Histogram({
      name: 'firebreak_intake_batch_alerts',
      help: 'Alerts carried by one signal.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
  };
}
