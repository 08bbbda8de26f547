import type { AdminClients } from './kube-lab';

/**
 * Creates a pod that the DaemonSet `agent` controls. The lab has no scheduler, so the DaemonSet controller
 * cannot place pods itself. It accepts this pod as its daemon pod because the pod carries its controller
 * reference, matches its selector and runs on the only node its nodeSelector picks. The nodeSelector uses the
 * hostname label that the node had from its creation: with a label added just before, the controller could
 * still see the node without it and delete the pod as misplaced.
 */
export async function createDaemonSetPod(admin: AdminClients, namespace: string, node: string): Promise<void> {
  const labels = { app: 'agent' };
  const daemonSet = await admin.apps.createNamespacedDaemonSet({
    namespace,
    body: {
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: 'OnDelete' },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': node },
            containers: [{ name: 'agent', image: 'registry.example.net/agent:1' }],
          },
        },
      },
    },
  });
  const owner = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    name: 'agent',
    uid: daemonSet.metadata?.uid ?? '',
    controller: true,
  };
  await admin.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'agent-0', labels, ownerReferences: [owner] },
      spec: { nodeName: node, containers: [{ name: 'agent', image: 'registry.example.net/agent:1' }] },
    },
  });
}

/** Creates a mirror pod as the kubelet posts one for a static pod, with the mirror annotation and the node as owner. */
export async function createMirrorPod(admin: AdminClients, namespace: string, node: string): Promise<void> {
  const nodeObject = await admin.core.readNode({ name: node });
  await admin.core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name: `static-${node}`,
        labels: { app: 'static' },
        annotations: { 'kubernetes.io/config.mirror': 'mirror-hash', 'kubernetes.io/config.source': 'file' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Node', name: node, uid: nodeObject.metadata?.uid ?? '', controller: true },
        ],
      },
      spec: { nodeName: node, containers: [{ name: 'static', image: 'registry.example.net/static:1' }] },
    },
  });
}
