import { z } from 'zod';
import { kubeErrorInfo } from '../kubernetes/errors';
import { storeJsonArtefact, type ArtefactRef, type CollectContext } from './artefacts';
import {
  getObject,
  kubeObjectSchema,
  listAll,
  OBJECTS_COLLECTOR,
  objectMetaSchema,
  objectPath,
  type Pod,
} from './kube-objects';

const labelSelectorSchema = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() }))
      .optional(),
  })
  .loose();
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

const networkPolicySchema = z.object({
  metadata: objectMetaSchema,
  spec: z.object({ podSelector: labelSelectorSchema }).loose(),
});

const bindingSchema = z.object({
  metadata: objectMetaSchema,
  subjects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() })).optional(),
  roleRef: z.object({ kind: z.string(), name: z.string() }),
});
type Binding = z.infer<typeof bindingSchema>;

const LIST_OPTIONS = { pageSize: 500, maxItems: 20_000 };

/** True when `labels` satisfy a Kubernetes label selector; an empty selector selects everything. */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabels &&
    (selector.matchExpressions ?? []).every((expression) => {
      const value = labels[expression.key];
      const values = expression.values ?? [];
      switch (expression.operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          return false;
      }
    })
  );
}

/** True when a binding subject is the service account itself or a group that contains it. */
export function subjectTouches(
  subject: { kind: string; name: string; namespace?: string },
  bindingNamespace: string | undefined,
  namespace: string,
  serviceAccount: string,
): boolean {
  if (subject.kind === 'ServiceAccount') {
    return subject.name === serviceAccount && (subject.namespace ?? bindingNamespace) === namespace;
  }
  if (subject.kind === 'User') return subject.name === `system:serviceaccount:${namespace}:${serviceAccount}`;
  if (subject.kind === 'Group') {
    return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'].includes(
      subject.name,
    );
  }
  return false;
}

/** Stores the NetworkPolicies that select the pod, and the service account with every binding that grants it access. */
export async function collectPolicies(ctx: CollectContext, pod: Pod): Promise<ArtefactRef[]> {
  const namespace = pod.metadata.namespace ?? ctx.target.namespace;
  const labels = pod.metadata.labels ?? {};
  const options = { ...LIST_OPTIONS, timeoutMs: ctx.limits.requestTimeoutMs };
  const page = await listAll(
    ctx.kubeConfig,
    `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`,
    {},
    options,
  );
  const selecting = page.items.filter((item) => {
    const policy = networkPolicySchema.safeParse(item);
    return policy.success && matchesSelector(policy.data.spec.podSelector, labels);
  });
  const refs = await storeJsonArtefact(
    ctx,
    { kind: 'NetworkPolicyList', items: selecting },
    {
      name: 'objects/networkpolicies',
      collector: OBJECTS_COLLECTOR,
      source: { kind: 'NetworkPolicyList', name: pod.metadata.name, namespace, resourceVersion: page.resourceVersion },
      incomplete: page.truncated,
      details: {
        count: selecting.length,
        ...(page.truncated ? { outcome: `only the first ${LIST_OPTIONS.maxItems} NetworkPolicies were checked` } : {}),
      },
    },
  );
  refs.push(...(await collectRbac(ctx, namespace, pod.spec.serviceAccountName ?? 'default')));
  return refs;
}

async function collectRbac(ctx: CollectContext, namespace: string, serviceAccount: string): Promise<ArtefactRef[]> {
  const timeoutMs = ctx.limits.requestTimeoutMs;
  const options = { ...LIST_OPTIONS, timeoutMs };
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const forbidden: string[] = [];
  const account = await tolerate(forbidden, () =>
    getObject(ctx.kubeConfig, objectPath('ServiceAccount', serviceAccount, namespace), kubeObjectSchema, timeoutMs),
  );
  const roleBindings = await tolerate(forbidden, () => listAll(ctx.kubeConfig, `${rbac}/rolebindings`, {}, options));
  const clusterBindings = await tolerate(forbidden, () =>
    listAll(ctx.kubeConfig, `${rbac}/clusterrolebindings`, {}, options),
  );

  const touching = (items: unknown[] = []) =>
    items.flatMap((item) => {
      const binding = bindingSchema.safeParse(item);
      if (!binding.success) return [];
      const ns = binding.data.metadata.namespace;
      return (binding.data.subjects ?? []).some((subject) => subjectTouches(subject, ns, namespace, serviceAccount))
        ? [{ raw: item, binding: binding.data }]
        : [];
    });
  const bindings = [...touching(roleBindings?.items), ...touching(clusterBindings?.items)];
  const roles = [];
  for (const { binding } of bindings) {
    const role = await tolerate(forbidden, () => readRole(ctx, binding));
    if (role) roles.push(role.raw);
  }

  return storeJsonArtefact(
    ctx,
    {
      kind: 'ServiceAccountAccess',
      serviceAccount: account?.raw ?? null,
      bindings: bindings.map((entry) => entry.raw),
      roles,
    },
    {
      name: 'objects/rbac',
      collector: OBJECTS_COLLECTOR,
      source: {
        kind: 'ServiceAccount',
        name: serviceAccount,
        namespace,
        uid: account?.object.metadata.uid,
        resourceVersion: account?.object.metadata.resourceVersion,
      },
      incomplete: forbidden.length > 0,
      details: {
        bindings: bindings.length,
        ...(forbidden.length > 0
          ? { unreadable: forbidden.slice(0, 10), outcome: `${forbidden.length} RBAC reads were forbidden` }
          : {}),
      },
    },
  );
}

/** Reads the Role or ClusterRole that a binding grants; the API server accepts no other roleRef kind. */
function readRole(ctx: CollectContext, binding: Binding) {
  const { kind, name } = binding.roleRef;
  if (kind !== 'Role' && kind !== 'ClusterRole') {
    throw new Error(`binding ${binding.metadata.name} refers to a ${JSON.stringify(kind)}, not a Role or ClusterRole`);
  }
  const namespace = kind === 'Role' ? binding.metadata.namespace : undefined;
  return getObject(ctx.kubeConfig, objectPath(kind, name, namespace), kubeObjectSchema, ctx.limits.requestTimeoutMs);
}

/** Runs a read; a 403 or 404 is noted in `unreadable` and gives undefined, other errors are thrown. */
async function tolerate<T>(unreadable: string[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const info = kubeErrorInfo(error);
    if (info.statusCode !== 403 && info.statusCode !== 404) throw error;
    unreadable.push(`HTTP ${info.statusCode}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200));
    return undefined;
  }
}
