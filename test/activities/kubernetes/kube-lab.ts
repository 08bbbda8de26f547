import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  PolicyV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import type { KubeRequestRecord } from '../../../activities/kubernetes/client';
import { kubeConfigFor } from '../../support/kube';

/** The identities every activity test runs under: the lab admin, and the containment ServiceAccount. */
export const identities = ['admin', 'containment'] as const;
export type Identity = (typeof identities)[number];

const rbacDir = join(__dirname, '..', '..', '..', 'deploy', 'kubernetes', 'rbac');
const fieldManager = 'firebreak-tests';

export function adminClients() {
  const kubeConfig = kubeConfigFor('admin');
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    networking: kubeConfig.makeApiClient(NetworkingV1Api),
    policy: kubeConfig.makeApiClient(PolicyV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}
export type AdminClients = ReturnType<typeof adminClients>;

const manifestSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});

/** Applies every object in deploy/kubernetes/rbac with server-side apply, after making sure the namespace exists. */
export async function applyRbac(admin: AdminClients): Promise<void> {
  try {
    await admin.core.createNamespace({ body: { metadata: { name: 'firebreak' } } });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
  for (const file of readdirSync(rbacDir).filter((name) => name.endsWith('.yaml'))) {
    const documents = parseAllDocuments(readFileSync(join(rbacDir, file), 'utf8'));
    for (const document of documents) {
      const object: KubernetesObject = manifestSchema.parse(document.toJS());
      await admin.objects.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
    }
  }
}

/** Requests a bearer token for a Firebreak ServiceAccount from the TokenRequest API. */
export async function serviceAccountToken(admin: AdminClients, name: string): Promise<string> {
  const request = await admin.core.createNamespacedServiceAccountToken({
    name,
    namespace: 'firebreak',
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`the TokenRequest for ${name} returned no token`);
  return token;
}

/** Returns the KubeConfig an identity's activities run with; the containment identity uses the shipped RBAC. */
export async function kubeConfigOf(identity: Identity, admin: AdminClients): Promise<KubeConfig> {
  if (identity === 'admin') return admin.kubeConfig;
  await applyRbac(admin);
  const token = await serviceAccountToken(admin, 'firebreak-containment');
  return kubeConfigFor({ token, user: 'firebreak-containment' });
}

/** Activities wired to a recorder, with fast in-activity retries so failures surface quickly. */
export function recordedActivities(kubeConfig: KubeConfig) {
  const records: KubeRequestRecord[] = [];
  const activities = createKubernetesActivities({
    kubeConfig,
    recorder: (record) => records.push(record),
    rateLimit: { qps: 50, burst: 100 },
  });
  return { activities, records };
}

/**
 * Requests that widen the scope: an empty namespace, an empty label or field selector, a pod list or watch
 * across all namespaces, a delete of a pod collection, or a policy body with an empty pod selector. Written
 * independently of the client's own guard, so the check still holds if the guard is wrong.
 */
export function unscopedRequests(records: KubeRequestRecord[]): string[] {
  return records
    .filter((record) => {
      const emptyNamespace = /\/namespaces\/(\/|$)/.test(record.path);
      const clusterPods = /^\/api\/v1\/(watch\/)?pods\/?$/.test(record.path);
      const podCollectionDelete = record.method === 'DELETE' && /\/namespaces\/[^/]+\/pods\/?$/.test(record.path);
      const emptySelector = ['labelSelector', 'fieldSelector'].some((key) => record.query[key]?.trim() === '');
      const emptyPolicySelector = /"(podSelector|endpointSelector)":\{\}/.test(record.body ?? '');
      return emptyNamespace || clusterPods || podCollectionDelete || emptySelector || emptyPolicySelector;
    })
    .map((record) => `${record.method} ${record.path}?${new URLSearchParams(record.query).toString()}`);
}

/** Lists PATCH requests that name no patch type (JSON patch, merge patch or strategic merge patch). */
export function patchesWithoutType(records: KubeRequestRecord[]): string[] {
  const types = [PatchStrategy.JsonPatch, PatchStrategy.MergePatch, PatchStrategy.StrategicMergePatch];
  return records
    .filter((record) => record.method === 'PATCH')
    .filter((record) => !types.some((type) => type === record.contentType))
    .map((record) => `${record.path} sent ${record.contentType ?? 'no Content-Type'}`);
}

/** A namespace with a unique name; returns its name. */
export async function createNamespace(admin: AdminClients, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await admin.core.createNamespace({ body: { metadata: { name, labels: { 'firebreak.dev/test': prefix } } } });
  return name;
}

export async function deleteNamespace(admin: AdminClients, name: string): Promise<void> {
  await admin.core.deleteNamespace({ name }).catch(() => undefined);
}

/** Registers a fake node that kwok plays the kubelet of, so tests can cordon and drain it alone. */
export async function createNode(admin: AdminClients, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await admin.core.createNode({
    body: {
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': name, type: 'kwok' },
      },
    },
  });
  return name;
}

export async function deleteNode(admin: AdminClients, name: string): Promise<void> {
  await admin.core.deleteNode({ name }).catch(() => undefined);
}

export function container(name = 'app', image = 'registry.example.net/shop/app:1.0'): V1Container {
  return { name, image };
}

/** Builds a pod template pinned to a node, because the lab has no scheduler. */
export function podTemplate(labels: Record<string, string>, node: string) {
  return { metadata: { labels }, spec: { nodeName: node, containers: [container()] } };
}

export async function createPod(
  admin: AdminClients,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  node: string,
): Promise<V1Pod> {
  const body = { metadata: { name, namespace, labels }, spec: { nodeName: node, containers: [container()] } };
  return admin.core.createNamespacedPod({ namespace, body });
}

export async function createDeployment(
  admin: AdminClients,
  namespace: string,
  name: string,
  replicas: number,
  node: string,
): Promise<void> {
  const labels = { app: name };
  await admin.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, namespace, labels },
      spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels, node) },
    },
  });
}

export async function createStatefulSet(
  admin: AdminClients,
  namespace: string,
  name: string,
  replicas: number,
  node: string,
): Promise<void> {
  const labels = { app: name };
  await admin.apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name, namespace, labels },
      spec: { replicas, serviceName: name, selector: { matchLabels: labels }, template: podTemplate(labels, node) },
    },
  });
}

/** Polls until `check` returns a value other than undefined, or fails after the timeout naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until `count` pods matching the selector are Running and returns them sorted by name. */
export async function runningPods(
  admin: AdminClients,
  namespace: string,
  labelSelector: string,
  count: number,
): Promise<V1Pod[]> {
  return waitFor(`${count} running pods ${labelSelector} in ${namespace}`, async () => {
    const list = await admin.core.listNamespacedPod({ namespace, labelSelector });
    const running = list.items.filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp);
    if (running.length !== count) return undefined;
    return running.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  });
}

/** Reads an API error's status code, or undefined for other errors. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}
