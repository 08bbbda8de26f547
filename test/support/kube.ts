import { KubeConfig } from '@kubernetes/client-node';
import { testEnv } from './env';

/** Returns a KubeConfig for the lab API server: the admin identity, or a given bearer token. */
export function kubeConfigFor(identity: 'admin' | { token: string; user?: string }): KubeConfig {
  const env = testEnv();
  const config = new KubeConfig();
  if (identity === 'admin') {
    config.loadFromFile(env.kube.kubeconfigPath);
    return config;
  }
  const user = identity.user ?? 'firebreak-test-identity';
  config.loadFromOptions({
    clusters: [{ name: 'firebreak-lab', server: env.kube.server, caFile: env.kube.caCert, skipTLSVerify: false }],
    users: [{ name: user, token: identity.token }],
    contexts: [{ name: 'firebreak-lab', cluster: 'firebreak-lab', user }],
    currentContext: 'firebreak-lab',
  });
  return config;
}
