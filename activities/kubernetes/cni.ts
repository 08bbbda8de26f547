import { z } from 'zod';
import { deleteOptions, dryRunParam, type KubeClients } from './client';
import type { EgressAllow } from './network-policy';
import { workflowRunId } from './context';
import { ownedLabels, quarantinePolicyName, quarantineSelector } from './labels';
import { createOwned, deleteOwned, ownedAnnotations, type OwnedObject, type StoredObject } from './owned';

/** A network plugin policy kind that Firebreak adds next to the NetworkPolicy when the cluster serves it. */
export interface CniPolicyKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const CILIUM_POLICY: CniPolicyKind = {
  group: 'cilium.io',
  version: 'v2',
  plural: 'ciliumnetworkpolicies',
  kind: 'CiliumNetworkPolicy',
};
export const CALICO_POLICY: CniPolicyKind = {
  group: 'projectcalico.org',
  version: 'v3',
  plural: 'networkpolicies',
  kind: 'NetworkPolicy',
};

const resourceListSchema = z.object({ resources: z.array(z.object({ name: z.string() })) });

const stringMap = z.record(z.string(), z.string());
/** The parts of a stored plugin policy that ownership checks read. */
const storedObjectSchema = z.object({
  metadata: z
    .object({ uid: z.string().optional(), labels: stringMap.optional(), annotations: stringMap.optional() })
    .optional(),
  spec: z.unknown(),
});

function storedObject(value: unknown): StoredObject {
  const parsed = storedObjectSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}

/** Reads API discovery for the plugin policy kinds; an empty list on a cluster without Cilium or Calico. */
export async function discoverCniPolicyKinds(clients: KubeClients): Promise<CniPolicyKind[]> {
  const served: CniPolicyKind[] = [];
  for (const kind of [CILIUM_POLICY, CALICO_POLICY]) {
    const body = await clients.discover(`/apis/${kind.group}/${kind.version}`);
    const parsed = resourceListSchema.safeParse(body);
    if (parsed.success && parsed.data.resources.some((resource) => resource.name === kind.plural)) served.push(kind);
  }
  return served;
}

/**
 * Five minutes: a plugin installed (or removed) while the worker runs shows in quarantines that start at
 * most this long later. Until then a new quarantine gets the NetworkPolicy alone, which Cilium and Calico
 * both enforce.
 */
export const CNI_DISCOVERY_MAX_AGE_MS = 5 * 60_000;

interface DiscoveryEntry {
  discoveredAtMs: number;
  kinds: Promise<CniPolicyKind[]>;
}

/** Discovery results per set of API clients: a worker process sends discovery requests once per maximum age. */
const discoveries = new WeakMap<KubeClients, DiscoveryEntry>();

export interface CniDiscoveryOptions {
  nowMs?: number;
  maxAgeMs?: number;
}

/**
 * Returns the plugin policy kinds that API discovery lists, from a cached discovery of these clients when it
 * is younger than the maximum age. Concurrent callers share one discovery, and a failed one is not kept.
 */
export async function servedCniPolicyKinds(
  clients: KubeClients,
  options: CniDiscoveryOptions = {},
): Promise<CniPolicyKind[]> {
  const nowMs = options.nowMs ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? CNI_DISCOVERY_MAX_AGE_MS;
  const cached = discoveries.get(clients);
  if (cached !== undefined && nowMs - cached.discoveredAtMs < maxAgeMs) {
    return cached.kinds;
  }
  const entry: DiscoveryEntry = { discoveredAtMs: nowMs, kinds: discoverCniPolicyKinds(clients) };
  discoveries.set(clients, entry);
  try {
    return await entry.kinds;
  } catch (error) {
    if (discoveries.get(clients) === entry) discoveries.delete(clients);
    throw error;
  }
}

/**
 * Cilium deny rules take precedence over allow rules, so this policy blocks ingress even where another
 * policy allows it. Egress is denied the same way unless an allow-list is given, because a Cilium deny rule
 * would also override the allow-list.
 */
function ciliumSpec(incidentId: string, allowEgress: EgressAllow[]): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    endpointSelector: { matchLabels: quarantineSelector(incidentId) },
    ingressDeny: [{ fromEntities: ['all'] }],
  };
  if (allowEgress.length === 0) spec.egressDeny = [{ toEntities: ['all'] }];
  return spec;
}

/**
 * Calico evaluates policies by ascending `order` and a matching Deny rule ends the evaluation, so with
 * order 0 this policy allows the allow-list and denies everything else before other policies apply.
 * NOTE: this spec follows Calico's documented policy model and has not been run against a Calico cluster.
 */
function calicoSpec(incidentId: string, allowEgress: EgressAllow[]): Record<string, unknown> {
  const allowRules = allowEgress.flatMap((allow) => {
    const destination: Record<string, unknown> = allow.cidr
      ? { nets: [allow.cidr] }
      : { namespaceSelector: calicoSelector(allow.namespaceSelector ?? {}) };
    if (!allow.ports?.length) return [{ action: 'Allow', destination }];
    return ['TCP', 'UDP'].map((protocol) => ({
      action: 'Allow',
      protocol,
      destination: { ...destination, ports: allow.ports },
    }));
  });
  return {
    order: 0,
    selector: calicoSelector(quarantineSelector(incidentId)),
    types: ['Ingress', 'Egress'],
    ingress: [{ action: 'Deny' }],
    egress: [...allowRules, { action: 'Deny' }],
  };
}

function calicoSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key} == '${value}'`)
    .join(' && ');
}

interface CniInput {
  incidentId: string;
  namespace: string;
  allowEgress: EgressAllow[];
  dryRun: boolean;
}

function cniObject(kind: CniPolicyKind, clients: KubeClients, input: CniInput): OwnedObject {
  const name = quarantinePolicyName(input.incidentId);
  const target = { group: kind.group, version: kind.version, namespace: input.namespace, plural: kind.plural, name };
  const dryRun = dryRunParam(input.dryRun);
  const spec =
    kind === CILIUM_POLICY
      ? ciliumSpec(input.incidentId, input.allowEgress)
      : calicoSpec(input.incidentId, input.allowEgress);
  const body = {
    apiVersion: `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata: {
      name,
      namespace: input.namespace,
      labels: ownedLabels(input.incidentId),
      annotations: ownedAnnotations(input.incidentId, spec, workflowRunId()),
    },
    spec,
  };
  return {
    description: `${kind.kind} ${input.namespace}/${name}`,
    incidentId: input.incidentId,
    spec,
    retry: clients.retry,
    create: async () =>
      storedObject(await clients.customObjects.createNamespacedCustomObject({ ...target, body, dryRun })),
    read: async () => storedObject(await clients.customObjects.getNamespacedCustomObject(target)),
    delete: (uid) =>
      clients.customObjects.deleteNamespacedCustomObject({
        ...target,
        dryRun,
        body: deleteOptions(uid, input.dryRun),
      }),
  };
}

function cniPolicyRef(kind: CniPolicyKind, incidentId: string): string {
  return `${kind.group}/${kind.kind}/${quarantinePolicyName(incidentId)}`;
}

/** Creates the plugin policy for each served kind; returns `group/Kind/name` of each. */
export async function ensureCniPolicies(clients: KubeClients, kinds: CniPolicyKind[], input: CniInput) {
  for (const kind of kinds) await createOwned(cniObject(kind, clients, input));
  return kinds.map((kind) => cniPolicyRef(kind, input.incidentId));
}

/** Deletes this incident's plugin policies; returns `group/Kind/name` of each one deleted. */
export async function deleteCniPolicies(clients: KubeClients, kinds: CniPolicyKind[], input: CniInput) {
  const deleted: string[] = [];
  for (const kind of kinds) {
    const outcome = await deleteOwned(cniObject(kind, clients, input));
    if (outcome === 'deleted') deleted.push(cniPolicyRef(kind, input.incidentId));
  }
  return deleted;
}
