import { writeFileSync } from 'node:fs';
import {
  canonicalJson,
  computeEntrySha256,
  GENESIS_SHA256,
  parseManifest,
  type CustodyEntry,
} from '../../../activities/evidence/custody';
import type { LocalEvidenceStore } from '../../../activities/evidence/store';

/**
 * Replaces the stored bytes of one artefact and re-hashes every custody entry so the chain is consistent
 * again, as someone with write access to the store could.
 */
export async function rewriteChain(
  store: LocalEvidenceStore,
  incidentId: string,
  artefact: string,
  content: string,
): Promise<void> {
  const forged = await store.put([content]);
  const entries = parseManifest(await store.readManifest(incidentId)).flatMap((line) =>
    'entry' in line ? [line.entry] : [],
  );
  let prevSha256 = GENESIS_SHA256;
  const lines = entries.map((entry) => {
    const { entrySha256: _old, ...rest } = entry;
    const changed = entry.name === artefact ? { ...rest, sha256: forged.sha256, bytes: forged.bytes } : rest;
    const unsigned: Omit<CustodyEntry, 'entrySha256'> = { ...changed, prevSha256 };
    prevSha256 = computeEntrySha256(unsigned);
    return canonicalJson({ ...unsigned, entrySha256: prevSha256 });
  });
  writeFileSync(store.manifestLocation(incidentId), `${lines.join('\n')}\n`);
}
