import { storeJsonArtefact, storeTextArtefact, type ArtefactRef, type StoreContext } from './artefacts';
import { canonicalJson, parseManifest, sha256Hex } from './custody';
import { textLineRedactor } from './line-redactor';

export const ALERTS_COLLECTOR = { name: 'collect-alerts', version: '1' };

/** Artefact name of an alert body: the first 16 hex digits of its SHA-256, so a redelivery maps to one name. */
export function alertArtefactName(body: unknown): string {
  const text = typeof body === 'string' ? body : canonicalJson(body);
  return `alerts/${sha256Hex(text).slice(0, 16)}`;
}

/**
 * Stores the raw alert bodies of an incident. A body whose artefact is already in the manifest is skipped,
 * so a retried activity or a redelivered alert adds no second entry.
 */
export async function storeAlerts(ctx: StoreContext, bodies: unknown[]): Promise<ArtefactRef[]> {
  const recorded = new Set(
    parseManifest(await ctx.store.readManifest(ctx.incidentId)).flatMap((line) =>
      'entry' in line ? [line.entry.name] : [],
    ),
  );
  const refs: ArtefactRef[] = [];
  for (const body of bodies) {
    const name = alertArtefactName(body);
    if (recorded.has(name)) continue;
    recorded.add(name);
    const meta = { name, collector: ALERTS_COLLECTOR, source: { kind: 'AlertBody', name } };
    if (typeof body === 'string') {
      const textMeta = { ...meta, contentType: 'text/plain; charset=utf-8' };
      const redactor = () => textLineRedactor(ctx.secretEnv);
      refs.push(...(await storeTextArtefact(ctx, [body], textMeta, ctx.limits.maxArtefactBytes, redactor)));
    } else {
      refs.push(...(await storeJsonArtefact(ctx, body, meta)));
    }
  }
  return refs;
}
