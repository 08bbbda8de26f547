import type { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { targetRefSchema } from '../../domain/response';
import { classifyKubeError, isStatus } from '../kubernetes/errors';
import {
  storeJsonArtefact,
  type ArtefactRef,
  type CollectContext,
  type ResolvedLimits,
  type StoreContext,
} from './artefacts';
import { storeAlerts } from './collect-alerts';
import { recordChainHead } from './anchor';
import { collectCheckpoints, type CheckpointArchiveReader } from './collect-checkpoint';
import { collectExec, defaultExecPlans, type ExecPlan, type ExecPlanOptions } from './collect-exec';
import { collectLogs } from './collect-logs';
import { collectObjects } from './collect-objects';
import { collectorIdentity, heartbeat, kubernetesUserOf } from './identity';
import { getObject, OBJECTS_COLLECTOR, objectPath, podSchema, type Pod } from './kube-objects';
import { emptySecretEnvContext, secretEnvFromPod } from './redact';
import { fitResult, type CollectEvidenceOutput } from './result';
import { defaultEvidenceDir, isStoreCorrupt, LocalEvidenceStore, type EvidenceStore } from './store';

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxLogBytes: 10 * 1024 * 1024,
  maxArtefactBytes: 16 * 1024 * 1024,
  execDeadlineMs: 30_000,
  execBudgetMs: 3 * 60_000,
  requestTimeoutMs: 30_000,
};

export const evidenceKinds = ['objects', 'logs', 'exec', 'checkpoint'] as const;

const positiveInt = z.number().int().positive();
export const collectEvidenceInputSchema = z.object({
  incidentId: z.string().min(1),
  target: targetRefSchema,
  kinds: z.array(z.enum(evidenceKinds)),
  limits: z
    .object({
      maxLogBytes: positiveInt,
      execDeadlineMs: positiveInt,
      execBudgetMs: positiveInt,
      maxArtefactBytes: positiveInt,
    })
    .partial(),
  /** The playbook's choice to keep secrets in raw artefacts; reports always show redacted copies. */
  keepSecretsInRaw: z.boolean().optional(),
});
export type CollectEvidenceActivityInput = z.input<typeof collectEvidenceInputSchema>;

export const storeAlertBodiesInputSchema = z.object({
  incidentId: z.string().min(1),
  bodies: z.array(z.unknown()),
  keepSecretsInRaw: z.boolean().optional(),
});

export interface EvidenceDeps {
  kubeConfig: KubeConfig;
  /** Defaults to a local directory store at FIREBREAK_EVIDENCE_DIR or `.data/evidence`. */
  store?: EvidenceStore;
  limits?: Partial<ResolvedLimits>;
  execPlans?: ExecPlan[];
  execPlanOptions?: ExecPlanOptions;
  readCheckpointArchive?: CheckpointArchiveReader;
}

/** Builds the evidence activities: `collectEvidence` and `storeAlertBodies`. */
export function createEvidenceActivities(deps: EvidenceDeps) {
  const store = deps.store ?? new LocalEvidenceStore(defaultEvidenceDir());
  const plans = deps.execPlans ?? defaultExecPlans(deps.execPlanOptions);
  let kubernetesUser: Promise<string> | undefined;
  const identity = async () => collectorIdentity(await (kubernetesUser ??= kubernetesUserOf(deps.kubeConfig)));

  /** Captures the requested kinds of evidence about the target pod and returns only names, hashes and sizes. */
  async function collectEvidence(input: unknown): Promise<CollectEvidenceOutput> {
    const parsed = parseInput(collectEvidenceInputSchema, input, 'collectEvidence');
    const ctx: CollectContext = {
      store,
      kubeConfig: deps.kubeConfig,
      incidentId: parsed.incidentId,
      target: parsed.target,
      identity: await identity(),
      limits: { ...DEFAULT_LIMITS, ...deps.limits, ...parsed.limits },
      keepSecretsInRaw: parsed.keepSecretsInRaw ?? false,
      secretEnv: emptySecretEnvContext(),
      problems: [],
    };
    const artefacts = await collectAll(ctx, parsed.kinds, plans, deps.readCheckpointArchive);
    return output(store, parsed.incidentId, artefacts);
  }

  /** Stores the raw alert bodies of an incident, one artefact per distinct body. */
  async function storeAlertBodies(input: unknown): Promise<CollectEvidenceOutput> {
    const parsed = parseInput(storeAlertBodiesInputSchema, input, 'storeAlertBodies');
    const ctx: StoreContext = {
      store,
      incidentId: parsed.incidentId,
      identity: collectorIdentity('none (no cluster request)'),
      limits: { ...DEFAULT_LIMITS, ...deps.limits },
      keepSecretsInRaw: parsed.keepSecretsInRaw ?? false,
      secretEnv: emptySecretEnvContext(),
    };
    return output(store, parsed.incidentId, await storeAlerts(ctx, parsed.bodies));
  }

  return { collectEvidence, storeAlertBodies };
}

function parseInput<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.create({
    message: `${activity} received invalid input: ${z.prettifyError(parsed.error)}`,
    type: 'EvidenceInvalidInput',
    nonRetryable: true,
  });
}

/**
 * Writes the chain's head to the store's head log and returns it with the artefact references. The workflow
 * keeps `custodyHeadSha256` and `custodyEntryCount` in its history and the incident record, which anchor the chain.
 */
async function output(
  store: EvidenceStore,
  incidentId: string,
  artefacts: ArtefactRef[],
): Promise<CollectEvidenceOutput> {
  const chain = await recordChainHead(store, incidentId);
  return fitResult({
    manifestPath: store.manifestLocation(incidentId),
    artefacts,
    custodyHeadSha256: chain.headSha256,
    custodyEntryCount: chain.entryCount,
  });
}

/**
 * Reads the pod once, then runs each collector. A collector that fails does not stop the others: its error,
 * with the problems that collectors recorded and went on after, is stored as the `collection-errors` artefact.
 * When nothing at all was collected the first error is thrown, and a corrupt store always stops collection.
 */
async function collectAll(
  ctx: CollectContext,
  kinds: readonly (typeof evidenceKinds)[number][],
  plans: ExecPlan[],
  readArchive: CheckpointArchiveReader | undefined,
): Promise<ArtefactRef[]> {
  const pod = await readTargetPod(ctx);
  if (!pod) return missingPod(ctx);
  ctx.secretEnv = secretEnvFromPod(pod.raw);

  const collectors: Record<(typeof evidenceKinds)[number], () => Promise<ArtefactRef[]>> = {
    objects: () => collectObjects(ctx, pod.raw, pod.object),
    logs: () => collectLogs(ctx, pod.object),
    exec: () => collectExec(ctx, pod.object, plans),
    checkpoint: () => collectCheckpoints(ctx, pod.object, readArchive),
  };
  const refs: ArtefactRef[] = [];
  const errors: { kind: string; error: ApplicationFailure }[] = [];
  for (const kind of new Set(kinds)) {
    heartbeat(`collecting ${kind}`);
    try {
      refs.push(...(await collectors[kind]()));
    } catch (error) {
      if (isStoreCorrupt(error)) throw error;
      errors.push({ kind, error: classifyKubeError(error, `collect ${kind} evidence`) });
    }
  }
  const [first] = errors;
  if (first && refs.length === 0) throw first.error;
  if (errors.length > 0 || ctx.problems.length > 0) {
    const failed = errors.map(({ kind, error }) => ({ kind, type: error.type, message: error.message }));
    const record = [...failed, ...ctx.problems];
    const meta = {
      name: 'collection-errors',
      collector: OBJECTS_COLLECTOR,
      source: sourceOfTarget(ctx),
      incomplete: true,
      details: { failed: true, outcome: collectionOutcome(failed.length, ctx.problems.length) },
    };
    refs.push(...(await storeJsonArtefact(ctx, { errors: record }, meta)));
  }
  return refs;
}

/** Says how many collectors failed and how many problems the others recorded, for the report. */
function collectionOutcome(failedCollectors: number, problems: number): string {
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const parts = [
    failedCollectors > 0 ? `${count(failedCollectors, 'collector')} failed` : '',
    problems > 0 ? `${count(problems, 'step')} failed while their collectors went on` : '',
  ];
  return `${parts.filter(Boolean).join(' and ')}; this artefact lists each error`;
}

async function readTargetPod(ctx: CollectContext): Promise<{ raw: unknown; object: Pod } | undefined> {
  try {
    const path = objectPath('Pod', ctx.target.pod, ctx.target.namespace);
    return await getObject(ctx.kubeConfig, path, podSchema, ctx.limits.requestTimeoutMs);
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw classifyKubeError(error, `read pod ${ctx.target.namespace}/${ctx.target.pod}`);
  }
}

/** Records that the pod was gone when collection started, so the manifest shows the attempt. */
function missingPod(ctx: CollectContext): Promise<ArtefactRef[]> {
  const record = { outcome: 'the pod no longer exists', httpStatus: 404, target: ctx.target };
  const meta = {
    name: 'objects/pod-missing',
    collector: OBJECTS_COLLECTOR,
    source: sourceOfTarget(ctx),
    incomplete: true,
    details: { failed: true, httpStatus: 404, outcome: record.outcome },
  };
  return storeJsonArtefact(ctx, record, meta);
}

function sourceOfTarget(ctx: CollectContext) {
  const { pod, namespace, uid, resourceVersion } = ctx.target;
  return { kind: 'Pod', name: pod, namespace, uid, resourceVersion };
}

export type EvidenceActivitiesImpl = ReturnType<typeof createEvidenceActivities>;
export { LocalEvidenceStore, defaultEvidenceDir } from './store';
export type { EvidenceStore } from './store';
export { verifyIncidentEvidence } from './verify';
