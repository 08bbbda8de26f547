import { evidence } from './activities';
import { jsonBytes } from './bounds';
import type { IncidentState } from './state';
import { errorMessage, record } from './timeline';

/**
 * Gives the raw bodies of sampled alerts to `storeAlertBodies` when the pinned playbook collects alerts as
 * evidence, and drops them when it does not. Runs at the evidence step, before continue-as-new (so the
 * bodies do not travel in the state) and before the report. A body that could not be stored stays in the
 * signal that brought it, in history, and in the intake's archive when the intake cut it.
 */
export async function flushAlertBodies(state: IncidentState): Promise<void> {
  const { playbook } = state;
  const ledger = state.alerts;
  if (playbook === undefined || ledger.pendingBodies.length === 0) return;

  const bodies = ledger.pendingBodies.splice(0);
  ledger.pendingBodyBytes = ledger.pendingBodies.reduce<number>((sum, body) => sum + jsonBytes(body), 0);
  if (!playbook.evidence.includes('alerts')) return;
  try {
    const keepSecretsInRaw = playbook.evidenceOptions.keepSecrets;
    const result = await evidence.storeAlertBodies({ incidentId: state.incidentId, bodies, keepSecretsInRaw });
    state.evidence = {
      manifestPath: result.manifestPath,
      artefacts: [...(state.evidence?.artefacts ?? []), ...result.artefacts],
    };
    record(state, 'step', `alert bodies stored: ${result.artefacts.length} artefacts`);
  } catch (error) {
    record(state, 'error', `storing ${bodies.length} alert bodies failed`, { error: errorMessage(error) });
  }
}
