import type { CollectEvidenceResult, EvidenceRecord } from '../domain/response';
import { evidenceActivities } from './activities';
import { jsonBytes } from './bounds';
import type { IncidentState } from './state';
import { errorMessage, record } from './timeline';

/**
 * UTF-8 bytes of artefact references kept in the incident state. Later references are counted in
 * `omittedArtefacts`; the custody manifest in the evidence store lists every artefact.
 */
export const maxEvidenceRefBytes = 16 * 1024;

/**
 * Adds the result of an evidence activity to the state: artefact references up to `maxEvidenceRefBytes`, and
 * the custody chain head with the most entries. The chain only grows, so a head with fewer entries than the
 * one kept comes from a retried or reordered call and is ignored.
 */
export function keepEvidence(state: IncidentState, result: CollectEvidenceResult): EvidenceRecord {
  const previous = state.evidence;
  const artefacts = [...(previous?.artefacts ?? [])];
  let omitted = (previous?.omittedArtefacts ?? 0) + (result.omittedArtefacts ?? 0);
  let bytes = jsonBytes(artefacts);
  let full = (previous?.omittedArtefacts ?? 0) > 0;
  for (const ref of result.artefacts) {
    const { name, sha256, bytes: size, incomplete, truncated, unsupported } = ref;
    const kept = {
      name,
      sha256,
      bytes: size,
      ...(incomplete ? { incomplete } : {}),
      ...(truncated ? { truncated } : {}),
      ...(unsupported ? { unsupported } : {}),
    };
    const refBytes = jsonBytes(kept) + 1;
    // Once one reference is left out, later ones are too, so the kept list is the manifest's first artefacts.
    full ||= bytes + refBytes > maxEvidenceRefBytes;
    if (full) {
      omitted += 1;
      continue;
    }
    artefacts.push(kept);
    bytes += refBytes;
  }

  const head = newerHead(previous, result) ?? previous;
  state.evidence = {
    manifestPath: result.manifestPath,
    artefacts,
    ...(omitted > 0 ? { omittedArtefacts: omitted } : {}),
    ...(head?.custodyHeadSha256 === undefined
      ? {}
      : { custodyHeadSha256: head.custodyHeadSha256, custodyEntryCount: head.custodyEntryCount }),
  };
  return state.evidence;
}

/** Returns the result's custody head when it is valid and longer than the kept one. */
function newerHead(
  kept: EvidenceRecord | undefined,
  result: CollectEvidenceResult,
): Pick<EvidenceRecord, 'custodyHeadSha256' | 'custodyEntryCount'> | undefined {
  const { custodyHeadSha256, custodyEntryCount } = result;
  if (custodyHeadSha256 === undefined || !/^[0-9a-f]{64}$/.test(custodyHeadSha256)) return undefined;
  if (custodyEntryCount === undefined || !Number.isSafeInteger(custodyEntryCount) || custodyEntryCount < 1) {
    return undefined;
  }
  if (kept?.custodyEntryCount !== undefined && kept.custodyEntryCount >= custodyEntryCount) return undefined;
  return { custodyHeadSha256, custodyEntryCount };
}

/**
 * Gives the raw bodies of sampled alerts to `storeAlertBodies` when the pinned playbook collects alerts as
 * evidence, and drops them when it does not. Runs at the evidence step, before continue-as-new (so the
 * bodies do not travel in the state) and before the report. A body that could not be stored stays in the
 * signal that brought it, in history, and in the intake's archive when the intake cut it. The activity runs on
 * `evidenceTaskQueue` when given, else on the workflow's task queue.
 */
export async function flushAlertBodies(state: IncidentState, evidenceTaskQueue: string | undefined): Promise<void> {
  const { playbook } = state;
  const ledger = state.alerts;
  if (playbook === undefined || ledger.pendingBodies.length === 0) return;

  const bodies = ledger.pendingBodies.splice(0);
  ledger.pendingBodyBytes = ledger.pendingBodies.reduce<number>((sum, body) => sum + jsonBytes(body), 0);
  if (!playbook.evidence.includes('alerts')) return;
  try {
    const keepSecretsInRaw = playbook.evidenceOptions.keepSecrets;
    const evidence = evidenceActivities(evidenceTaskQueue);
    const result = await evidence.storeAlertBodies({ incidentId: state.incidentId, bodies, keepSecretsInRaw });
    keepEvidence(state, result);
    record(state, 'step', `alert bodies stored: ${result.artefacts.length} artefacts`);
  } catch (error) {
    record(state, 'error', `storing ${bodies.length} alert bodies failed`, { error: errorMessage(error) });
  }
}
