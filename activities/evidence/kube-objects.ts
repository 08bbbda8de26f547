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

/** API path of a namespaced or cluster-scoped object from its apiVersion and kind. */
export function objectPath(apiVersion: string, kind: string, name: string, namespace?: string): string {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${scope}/${pluralOf(kind)}/${encodeURIComponent(name)}`;
}

// NOTE: plural names follow English rules, not API discovery. A custom resource with an irregular plural is
// therefore not found and is recorded as missing in the owner chain.
function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}
