import type { KubeConfig } from '@kubernetes/client-node';
import type { TargetRef } from '../../domain/response';
import { appendCustodyEntry, type CollectorIdentity, type CustodyDraft, type EvidenceSource } from './custody';
import type { LineRedactor } from './line-redactor';
import { redactJson, type SecretEnvContext } from './redact';
import type { ByteSource, EvidenceStore, StoredObject } from './store';
import { capBytes, inspectText, mapLines, type TextFacts } from './text-stream';

/** Limits applied by every collector; each has a default in `resolveLimits`. */
export interface ResolvedLimits {
  maxLogBytes: number;
  maxArtefactBytes: number;
  execDeadlineMs: number;
  /** Time all exec commands of one run may take together; commands left when it is spent are skipped. */
  execBudgetMs: number;
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

/** A part of collection that failed or was skipped while the rest went on; stored in `collection-errors`. */
export interface CollectionProblem {
  kind: string;
  step?: string;
  type?: string;
  message: string;
}

/** What every collector of one `collectEvidence` call shares. */
export interface CollectContext extends StoreContext {
  kubeConfig: KubeConfig;
  target: TargetRef;
  /** Problems recorded by collectors that went on after them. */
  problems: CollectionProblem[];
}

/** Most problems kept per collection run, so the `collection-errors` artefact stays small. */
const MAX_PROBLEMS = 50;

export function recordProblem(ctx: CollectContext, problem: CollectionProblem): void {
  if (ctx.problems.length < MAX_PROBLEMS) ctx.problems.push(problem);
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
  /** Set when bytes that were not valid UTF-8 were replaced in this copy. */
  lossy?: boolean;
  /** Set when the text contains control characters other than tab and line breaks (ANSI escapes). */
  controlCharacters?: boolean;
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
    ...(meta.lossy ? { lossy: true } : {}),
    ...(meta.controlCharacters ? { controlCharacters: true } : {}),
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

type TextMeta = Omit<ArtefactMeta, 'redacted' | 'redactedCopyOf'>;

/** A text artefact in the store, not yet recorded in custody. */
export interface PutText {
  stored: StoredObject;
  /** Redacted copy, present when the raw bytes keep secrets and the copy differs from them. */
  copy?: StoredObject;
  facts: TextFacts;
}

/** Makes a fresh redactor for one pass over a text, because a redactor keeps state from line to line. */
export type LineRedactorFactory = () => LineRedactor;

/**
 * Streams a text artefact into the store, keeping at most `maxBytes` of the source. Lines pass through a
 * redactor unless the playbook keeps secrets, in which case the raw bytes are stored unchanged and a redacted
 * copy is stored beside them.
 */
export async function putText(
  ctx: StoreContext,
  source: ByteSource,
  maxBytes: number,
  redactor: LineRedactorFactory,
): Promise<PutText> {
  const cap = { truncated: false, bytes: 0 };
  const facts: TextFacts = { invalidUtf8: false, controlCharacters: false };
  const inspected = inspectText(capBytes(source, maxBytes, cap), facts);
  const raw = await ctx.store.put(ctx.keepSecretsInRaw ? inspected : mapLines(inspected, redactor()));
  const stored = { ...raw, truncated: cap.truncated };
  if (!ctx.keepSecretsInRaw) return { stored, facts };

  const copy = await ctx.store.put(mapLines(ctx.store.read(raw.sha256), redactor()));
  const put = { stored, facts };
  return copy.sha256 === raw.sha256 ? put : { ...put, copy: { ...copy, truncated: cap.truncated } };
}

/** Records a text artefact stored by `putText`, and its redacted copy when there is one. */
export async function recordText(ctx: StoreContext, put: PutText, meta: TextMeta): Promise<ArtefactRef[]> {
  const { invalidUtf8, controlCharacters } = put.facts;
  const rawMeta = { ...meta, redacted: !ctx.keepSecretsInRaw, controlCharacters };
  // The raw bytes are kept as they came; a redacted copy is decoded text, so invalid bytes were replaced.
  const refs = [await recordArtefact(ctx, put.stored, { ...rawMeta, lossy: !ctx.keepSecretsInRaw && invalidUtf8 })];
  if (put.copy) {
    const copyMeta = { ...meta, name: `${meta.name}.redacted`, redacted: true, redactedCopyOf: meta.name };
    refs.push(await recordArtefact(ctx, put.copy, { ...copyMeta, controlCharacters, lossy: invalidUtf8 }));
  }
  return refs;
}

/** Stores and records a text artefact in one step. */
export async function storeTextArtefact(
  ctx: StoreContext,
  source: ByteSource,
  meta: TextMeta,
  maxBytes: number,
  redactor: LineRedactorFactory,
): Promise<ArtefactRef[]> {
  return recordText(ctx, await putText(ctx, source, maxBytes, redactor), meta);
}
