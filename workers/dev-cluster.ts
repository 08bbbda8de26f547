import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** Variable that names a kubeconfig for `npm start` to use in place of its own lab cluster. */
export const devKubeconfigEnv = 'FIREBREAK_DEV_KUBECONFIG';

/** Cluster that `npm start` responds on: its own lab cluster, or the one a kubeconfig names explicitly. */
export type DevCluster =
  { kind: 'lab' } | { kind: 'explicit'; kubeconfigPath: string; context: string; server: string };

/**
 * Chooses the cluster of `npm start`. KUBECONFIG and ~/.kube/config are ignored on purpose: the lab
 * playbooks isolate automatically, so they must never run against a cluster the user merely has open.
 * Only FIREBREAK_DEV_KUBECONFIG selects another cluster, and its current context must name a server.
 */
export function chooseDevCluster(env: NodeJS.ProcessEnv = process.env): DevCluster {
  const kubeconfigPath = env[devKubeconfigEnv];
  if (kubeconfigPath === undefined || kubeconfigPath === '') return { kind: 'lab' };
  if (!existsSync(kubeconfigPath)) {
    throw new Error(
      `${devKubeconfigEnv} names ${kubeconfigPath}, which does not exist: unset it to use the lab cluster`,
    );
  }
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const context = config.getCurrentContext();
  const server = config.getCurrentCluster()?.server;
  if (!context || server === undefined || server === '') {
    throw new Error(
      `${devKubeconfigEnv} names ${kubeconfigPath}, which has no current context with a cluster server: set one with kubectl config use-context`,
    );
  }
  return { kind: 'explicit', kubeconfigPath, context, server };
}
