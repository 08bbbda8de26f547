import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { callKubeUnlessNotFound, type KubeClients } from './client';
import { MIRROR_POD_ANNOTATION } from './labels';

/** Why a drain leaves a pod on its node: it belongs to the node itself or to a DaemonSet. */
export type SkipReason = 'daemonset' | 'mirror';

/**
 * Decides which pods a drain leaves alone, the way `kubectl drain` does, but without trusting what anyone
 * who can create a pod can write into it.
 *
 * - A DaemonSet pod is skipped only when its controller reference (`controller: true`) names a DaemonSet
 *   that exists in the pod's namespace with that uid. A plain owner reference, or a controller reference to a
 *   DaemonSet that is gone or has another uid, is not enough.
 * - A mirror pod is the API server's copy of a static pod, whose spec comes from a manifest on the node.
 *   Evicting it does not stop the kubelet from running the static pod, so a drain leaves it. It is skipped only when it carries the
 *   mirror annotation, runs on the drained node, and its controller reference is that Node object (name and
 *   uid), as kubelets set it on every mirror pod they create (NodeRestriction requires it). The annotation
 *   alone, or a pod without that controller reference, is not enough.
 *
 * Every other pod is evicted, so a pod that stays on the node is reported.
 */
export class DrainSkipper {
  private readonly daemonSetUids = new Map<string, string | undefined>();

  constructor(
    private readonly clients: KubeClients,
    private readonly node: V1Node,
  ) {}

  async skipReason(pod: V1Pod): Promise<SkipReason | undefined> {
    const controller = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
    if (controller === undefined) return undefined;
    if (controller.kind === 'DaemonSet') {
      const uid = await this.daemonSetUid(pod.metadata?.namespace ?? '', controller.name);
      return uid !== undefined && uid === controller.uid ? 'daemonset' : undefined;
    }
    const mirror = pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
    const nodeName = this.node.metadata?.name;
    const ownedByNode =
      controller.kind === 'Node' && controller.name === nodeName && controller.uid === this.node.metadata?.uid;
    return mirror && ownedByNode && pod.spec?.nodeName === nodeName ? 'mirror' : undefined;
  }

  private async daemonSetUid(namespace: string, name: string): Promise<string | undefined> {
    const key = `${namespace}/${name}`;
    if (!this.daemonSetUids.has(key)) {
      const daemonSet = await callKubeUnlessNotFound(`read DaemonSet ${key}`, () =>
        this.clients.apps.readNamespacedDaemonSet({ namespace, name }),
      );
      this.daemonSetUids.set(key, daemonSet?.metadata?.uid);
    }
    return this.daemonSetUids.get(key);
  }
}
