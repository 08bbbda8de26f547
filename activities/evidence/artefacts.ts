import type { KubeConfig } from '@kubernetes/client-node';
import { StringDecoder } from 'node:string_decoder';
import type { TargetRef } from '../../domain/response';
import { appendCustodyEntry, type CollectorIdentity, type CustodyDraft, type EvidenceSource } from './custody';
import { redactJson, type SecretEnvContext } from './redact';
import type { ByteSource, EvidenceStore, StoredObject } from './store';

/** Limits applied by every collector; each has a default in `resolveLimits`. */
export interface ResolvedLimits {
  maxLogBytes: number;
  maxArtefactBytes: number;
  execDeadlineMs: number;
  requestTimeoutMs: number;
}

/** What storing and recording an artefact needs. */
export interface StoreContext {
  store: EvidenceStore;
  incidentId: string;
  identity: CollectorIdentity;
  limits: ResolvedLimits;
  /** Keep secrets in the stored raw artefact (a redacted copy is stored beside it for reports). */
  keepSecretsInRaw: boolean;
  secretEnv: SecretEnvContext;
}

/** What every collector of one `collectEvidence` call shares. */
export interface CollectContext extends StoreContext {
  kubeConfig: KubeConfig;
  target: TargetRef;
}

/** The small reference to one artefact that travels through Temporal. */
export interface ArtefactRef {
  name: string;
  sha256: string;
  bytes: number;
  incomplete?: boolean;
  truncated?: boolean;
  /** True when the cluster does not offer this kind of evidence; the stored artefact says why. */
  unsupported?: boolean;
}

export interface ArtefactMeta {
  name: string;
  contentType: string;
  source: EvidenceSource;
  collector: { name: string; version: string };
  incomplete?: boolean;
  unsupported?: boolean;
  redacted: boolean;
  redactedCopyOf?: string;
  details?: Record<string, unknown>;
}

/** Appends the custody entry of a stored object and returns its reference. */
export async function recordArtefact(
  ctx: StoreContext,
  stored: StoredObject,
  meta: ArtefactMeta,
): Promise<ArtefactRef> {
  const draft: CustodyDraft = {
    name: meta.name,
    sha256: stored.sha256,
    bytes: stored.bytes,
    contentType: meta.contentType,
    truncated: stored.truncated,
    incomplete: meta.incomplete ?? false,
    redacted: meta.redacted,
    redactedCopyOf: meta.redactedCopyOf,
    source: meta.source,
    collector: meta.collector,
    collectedBy: ctx.identity,
    details: meta.unsupported ? { ...meta.details, unsupported: true } : meta.details,
  };
  await appendCustodyEntry(ctx.store, ctx.incidentId, draft);
  return {
    name: meta.name,
    sha256: stored.sha256,
    bytes: stored.bytes,
    ...(meta.incomplete ? { incomplete: true } : {}),
    ...(stored.truncated ? { truncated: true } : {}),
    ...(meta.unsupported ? { unsupported: true } : {}),
  };
}

type JsonMeta = Omit<ArtefactMeta, 'contentType' | 'redacted' | 'redactedCopyOf'>;

/**
 * Stores a JSON artefact. Secrets are redacted in the stored copy unless the playbook keeps them; when it
 * does, a redacted copy named `NAME.redacted` is stored too, and reports show only that one.
 */
export async function storeJsonArtefact(ctx: StoreContext, value: unknown, meta: JsonMeta): Promise<ArtefactRef[]> {
  const redacted = redactJson(value, ctx.secretEnv);
  const raw = ctx.keepSecretsInRaw ? value : redacted;
  const stored = await ctx.store.put([jsonBytes(raw)], { maxBytes: ctx.limits.maxArtefactBytes });
  const refs = [
    await recordArtefact(ctx, stored, { ...meta, contentType: 'application/json', redacted: !ctx.keepSecretsInRaw }),
  ];

  if (ctx.keepSecretsInRaw) {
    const copy = await ctx.store.put([jsonBytes(redacted)], { maxBytes: ctx.limits.maxArtefactBytes });
    if (copy.sha256 !== stored.sha256) {
      const copyMeta = { ...meta, name: `${meta.name}.redacted`, contentType: 'application/json' };
      refs.push(await recordArtefact(ctx, copy, { ...copyMeta, redacted: true, redactedCopyOf: meta.name }));
    }
  }
  return refs;
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/** Passes on at most `maxBytes` of `source`, sets `state.truncated` when there was more, and stops reading. */
export async function* capBytes(
  source: ByteSource,
  maxBytes: number,
  state: { truncated: boolean; bytes: number },
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    const room = maxBytes - state.bytes;
    if (buffer.length > room) {
      if (room > 0) yield buffer.subarray(0, room);
      state.bytes = maxBytes;
      state.truncated = true;
      return;
    }
    state.bytes += buffer.length;
    yield buffer;
  }
}

const MAX_LINE_BYTES = 1024 * 1024;

/** Applies `redactLine` to each line of a byte stream; a line longer than 1 MiB is processed in pieces. */
export async function* mapLines(
  source: AsyncIterable<Uint8Array>,
  redactLine: (line: string) => string,
): AsyncGenerator<Buffer> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of source) {
    pending += decoder.write(Buffer.from(chunk));
    const lastNewline = pending.lastIndexOf('\n');
    if (lastNewline >= 0) {
      yield Buffer.from(
        pending
          .slice(0, lastNewline + 1)
          .split('\n')
          .map(redactLine)
          .join('\n'),
        'utf8',
      );
      pending = pending.slice(lastNewline + 1);
    } else if (pending.length > MAX_LINE_BYTES) {
      yield Buffer.from(redactLine(pending), 'utf8');
      pending = '';
    }
  }
  pending += decoder.end();
  if (pending !== '') yield Buffer.from(redactLine(pending), 'utf8');
}

type TextMeta = Omit<ArtefactMeta, 'redacted' | 'redactedCopyOf'>;

/** A text artefact in the store, not yet recorded in custody. */
export interface PutText {
  stored: StoredObject;
  /** Redacted copy, present when the raw bytes keep secrets and the copy differs from them. */
  copy?: StoredObject;
}

/**
 * Streams a text artefact into the store, keeping at most `maxBytes` of the source. Lines pass through
 * `redactLine` unless the playbook keeps secrets, in which case a redacted copy is stored beside the raw one.
 */
export async function putText(
  ctx: StoreContext,
  source: ByteSource,
  maxBytes: number,
  redactLine: (line: string) => string,
): Promise<PutText> {
  const cap = { truncated: false, bytes: 0 };
  const capped = capBytes(source, maxBytes, cap);
  const raw = await ctx.store.put(ctx.keepSecretsInRaw ? capped : mapLines(capped, redactLine));
  const stored = { ...raw, truncated: cap.truncated };
  if (!ctx.keepSecretsInRaw) return { stored };

  const copy = await ctx.store.put(mapLines(ctx.store.read(raw.sha256), redactLine));
  return copy.sha256 === raw.sha256 ? { stored } : { stored, copy: { ...copy, truncated: cap.truncated } };
}

/** Records a text artefact stored by `putText`, and its redacted copy when there is one. */
export async function recordText(ctx: StoreContext, put: PutText, meta: TextMeta): Promise<ArtefactRef[]> {
  const refs = [await recordArtefact(ctx, put.stored, { ...meta, redacted: !ctx.keepSecretsInRaw })];
  if (put.copy) {
    const copyMeta = { ...meta, name: `${meta.name}.redacted`, redacted: true, redactedCopyOf: meta.name };
    refs.push(await recordArtefact(ctx, put.copy, copyMeta));
  }
  return refs;
}

/** Stores and records a text artefact in one step. */
export async function storeTextArtefact(
  ctx: StoreContext,
  source: ByteSource,
  meta: TextMeta,
  maxBytes: number,
  redactLine: (line: string) => string,
): Promise<ArtefactRef[]> {
  return recordText(ctx, await putText(ctx, source, maxBytes, redactLine), meta);
}
