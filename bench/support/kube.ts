import { CoreV1Api, NetworkingV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { epochMs, inParallel } from './http';

/** Creates a namespace and waits for its default ServiceAccount, without which pods are rejected. */
export async function createNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const accounts = await core.listNamespacedServiceAccount({ namespace: name });
    if (accounts.items.some((account) => account.metadata?.name === 'default')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the default ServiceAccount of namespace ${name} did not appear within 30 s`);
}

/** Creates bare pods on a lab node (the lab has no scheduler, so each pod names its node). */
export async function createPods(kubeConfig: KubeConfig, namespace: string, names: string[], node: string) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await inParallel(names, 8, (name) =>
    core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { app: name, tier: 'bench' } },
        spec: {
          nodeName: node,
          containers: [
            { name: 'app', image: 'registry.example.internal/bench/app:1.0', ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    }),
  );
}

const watchedObjectSchema = z.object({ metadata: z.object({ name: z.string(), namespace: z.string() }) });
/** BOOKMARK events carry only the resourceVersion. */
const versionSchema = z.object({ metadata: z.object({ resourceVersion: z.string() }) });

/**
 * Watches NetworkPolicies in every namespace and stamps the time each one first appears, so every responder
 * (Firebreak, the floor script, Falco Talon) is timed at the same point: the API server has stored the policy.
 * The client ends a watch after 30 s without events, so the watch resumes from the last resourceVersion it saw
 * and misses no event.
 */
export class PolicyWatch {
  readonly seenAtMs = new Map<string, number>();
  private abort: AbortController | undefined;
  private failure: unknown;
  private stopped = false;
  private resourceVersion: string | undefined;

  private constructor(private readonly kubeConfig: KubeConfig) {}

  static async start(kubeConfig: KubeConfig): Promise<PolicyWatch> {
    const watch = new PolicyWatch(kubeConfig);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const list = await networking.listNetworkPolicyForAllNamespaces();
    watch.resourceVersion = list.metadata?.resourceVersion;
    await watch.open();
    return watch;
  }

  private async open(): Promise<void> {
    this.abort = await new Watch(this.kubeConfig).watch(
      '/apis/networking.k8s.io/v1/networkpolicies',
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (phase, object) => this.onEvent(phase, object),
      (error: unknown) => {
        if (this.stopped) return;
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        if (error !== null && error !== undefined && !timedOut) {
          this.failure = error;
          return;
        }
        this.open().catch((reopenError: unknown) => (this.failure = reopenError));
      },
    );
  }

  private onEvent(phase: string, object: unknown): void {
    const version = versionSchema.safeParse(object);
    if (version.success) this.resourceVersion = version.data.metadata.resourceVersion;
    const parsed = watchedObjectSchema.safeParse(object);
    if (!parsed.success) return;
    const key = `${parsed.data.metadata.namespace}/${parsed.data.metadata.name}`;
    if (phase === 'ADDED' && !this.seenAtMs.has(key)) this.seenAtMs.set(key, epochMs());
  }

  /** Resolves with the time the policy appeared, or undefined after `timeoutMs`. */
  async waitFor(namespace: string, name: string, timeoutMs: number): Promise<number | undefined> {
    const key = `${namespace}/${name}`;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.failure !== undefined) throw new Error(`the NetworkPolicy watch failed: ${String(this.failure)}`);
      const seen = this.seenAtMs.get(key);
      if (seen !== undefined) return seen;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return undefined;
  }

  /** Number of policies seen in a namespace. */
  countIn(namespace: string): number {
    return [...this.seenAtMs.keys()].filter((key) => key.startsWith(`${namespace}/`)).length;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}
