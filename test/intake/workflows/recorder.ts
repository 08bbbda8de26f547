/**
 * Test fixture, not product code: a stand-in registered under the incident workflow's type name
 * (`incidentWorkflow`) that records the alert batches the intake signals, so intake tests can check what
 * Temporal stored. It completes on the test-only `close` signal, to model an incident that closed.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { Alert, AlertSummary } from '../../../domain/alert';
import type { AlertBatch } from '../../../domain/incident';

export interface RecorderStart {
  fingerprint: string;
  firstAlert: AlertSummary;
  previousRunId?: string;
}

export interface RecorderStatus {
  fingerprint: string;
  previousRunId: string | null;
  firstAlertId: string;
  alertCount: number;
  alertIds: string[];
  redeliveries: number;
  signals: number;
}

export const alertsSignal = defineSignal<[AlertBatch]>('alerts');
export const closeSignal = defineSignal('close');
export const statusQuery = defineQuery<RecorderStatus>('status');
/** Every recorded alert in arrival order. */
export const alertsQuery = defineQuery<Alert[]>('alerts');

export async function incidentWorkflow(start: RecorderStart): Promise<RecorderStatus> {
  const status: RecorderStatus = {
    fingerprint: start.fingerprint,
    previousRunId: start.previousRunId ?? null,
    firstAlertId: start.firstAlert.id,
    alertCount: 0,
    alertIds: [],
    redeliveries: 0,
    signals: 0,
  };
  const alerts: Alert[] = [];
  let closed = false;
  setHandler(alertsSignal, (batch) => {
    status.signals += 1;
    status.redeliveries += batch.redeliveries;
    for (const alert of batch.alerts) {
      status.alertCount += 1;
      status.alertIds.push(alert.id);
      alerts.push(alert);
    }
  });
  setHandler(closeSignal, () => {
    closed = true;
  });
  setHandler(statusQuery, () => status);
  setHandler(alertsQuery, () => alerts);
  await condition(() => closed);
  return status;
}
