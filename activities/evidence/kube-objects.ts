import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { EvidenceSource } from './custody';
import { kubeGetJson } from './kube-http';

/** Collector name and version recorded in custody for every Kubernetes object artefact. */
export const OBJECTS_COLLECTOR = { name: 'collect-objects', version: '1' };

/** The parts of object metadata that collectors read; everything else is kept untouched in `raw`. */
export const objectMetaSchema = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    ownerReferences: z
      .array(z.object({ apiVersion: z.string(), kind: z.string(), name: z.string(), uid: z.string() }).loose())
      .optional(),
  })
  .loose();

export const kubeObjectSchema = z.object({ kind: z.string().optional(), metadata: objectMetaSchema }).loose();
export type KubeObject = z.infer<typeof kubeObjectSchema>;

const containerSchema = z.object({ name: z.string() }).loose();
const containerStatusSchema = z.object({ name: z.string(), restartCount: z.number().int().optional() }).loose();

export const podSchema = kubeObjectSchema.extend({
  spec: z
    .object({
      nodeName: z.string().optional(),
      serviceAccountName: z.string().optional(),
      containers: z.array(containerSchema),
      initContainers: z.array(containerSchema).optional(),
    })
    .loose(),
  status: z
    .object({
      containerStatuses: z.array(containerStatusSchema).optional(),
      initContainerStatuses: z.array(containerStatusSchema).optional(),
    })
    .loose()
    .optional(),
});
export type Pod = z.infer<typeof podSchema>;

export const listSchema = z.object({
  metadata: z.object({ continue: z.string().optional(), resourceVersion: z.string().optional() }).loose().optional(),
  items: z.array(z.unknown()),
});

/** Custody source of an object read from the API server. */
export function sourceOf(kind: string, object: KubeObject): EvidenceSource {
  const { name, namespace, uid, resourceVersion } = object.metadata;
  return { kind, name, namespace, uid, resourceVersion };
}

/** Reads one object and returns both the raw JSON (stored as evidence) and its checked metadata. */
export async function getObject<T extends z.ZodType<KubeObject>>(
  kubeConfig: KubeConfig,
  path: string,
  schema: T,
  timeoutMs: number,
): Promise<{ raw: unknown; object: z.infer<T> }> {
  const raw = await kubeGetJson(kubeConfig, path, undefined, timeoutMs);
  return { raw, object: schema.parse(raw) };
}

export interface ListPage {
  items: unknown[];
  resourceVersion?: string;
  /** True when `maxItems` was reached before the last page. */
  truncated: boolean;
}

/** Lists a collection page by page (`limit` and `continue`) up to `maxItems` items. */
export async function listAll(
  kubeConfig: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
  options: { pageSize: number; maxItems: number; timeoutMs: number },
): Promise<ListPage> {
  const items: unknown[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  do {
    const page = listSchema.parse(
      await kubeGetJson(
        kubeConfig,
        path,
        { ...query, limit: options.pageSize, continue: continueToken },
        options.timeoutMs,
      ),
    );
    items.push(...page.items);
    resourceVersion ??= page.metadata?.resourceVersion;
    continueToken = page.metadata?.continue || undefined;
    if (items.length >= options.maxItems) {
      return { items: items.slice(0, options.maxItems), resourceVersion, truncated: true };
    }
  } while (continueToken);
  return { items, resourceVersion, truncated: false };
}

/** API location of one kind: group (empty for the core group), version and plural resource name. */
export interface KindResource {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

/**
 * Every kind that the collectors read, with its fixed API path. Paths are never built from a kind read from an
 * object, because a kind such as `x/../../other-ns/configmaps/payroll#` would then name another object.
 */
export const KIND_RESOURCES = {
  Pod: { group: '', version: 'v1', resource: 'pods', namespaced: true },
  Node: { group: '', version: 'v1', resource: 'nodes', namespaced: false },
  ServiceAccount: { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
  Job: { group: 'batch', version: 'v1', resource: 'jobs', namespaced: true },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', namespaced: true },
  ClusterRole: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', namespaced: false },
} as const satisfies Record<string, KindResource>;
export type KnownKind = keyof typeof KIND_RESOURCES;

export function isKnownKind(kind: string): kind is KnownKind {
  return Object.hasOwn(KIND_RESOURCES, kind);
}

/**
 * Throws unless `name` is a name that the API server accepts as a path segment: not empty, not `.` or `..`,
 * without `/` or `%`. Object names read from other objects (owner references, role references) pass here.
 */
export function assertPathSegmentName(name: string, what: string): void {
  if (name === '' || name === '.' || name === '..' || /[/%]/.test(name)) {
    throw new Error(`invalid ${what} name ${JSON.stringify(name.slice(0, 100))}: it cannot be an API path segment`);
  }
}

/** API path of one object of a known kind; `namespace` is required for namespaced kinds. */
export function objectPath(kind: KnownKind, name: string, namespace?: string): string {
  const { group, version, resource, namespaced } = KIND_RESOURCES[kind];
  assertPathSegmentName(name, kind);
  if (namespaced && !namespace) throw new Error(`reading ${kind} ${name} needs a namespace`);
  if (namespace !== undefined) assertPathSegmentName(namespace, 'namespace');
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const scope = namespaced ? `/namespaces/${encodeURIComponent(namespace ?? '')}` : '';
  return `${prefix}${scope}/${resource}/${encodeURIComponent(name)}`;
}
