import { AppsV1Api, AuthenticationV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import {
  adminClients,
  applyRbac,
  createDeployment,
  createNamespace,
  createPod,
  deleteNamespace,
  runningPods,
  serviceAccountToken,
  statusOf,
} from './kube-lab';

/** Resolves to the HTTP status of a request: 200 when it succeeded, else the API error's status. */
async function statusOfRequest(request: Promise<unknown> | (() => Promise<unknown>)): Promise<number | undefined> {
  try {
    await (typeof request === 'function' ? request() : request);
    return 200;
  } catch (error) {
    return statusOf(error);
  }
}

describe('RBAC in deploy/kubernetes/rbac', () => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let containment: KubeConfig;
  let evidence: KubeConfig;

  beforeAll(async () => {
    await applyRbac(admin);
    containment = kubeConfigFor({ token: await serviceAccountToken(admin, 'firebreak-containment') });
    evidence = kubeConfigFor({ token: await serviceAccountToken(admin, 'firebreak-evidence') });
    namespace = await createNamespace(admin, 'fb-rbac');
    await admin.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'db-password' }, stringData: { password: 'example-not-a-secret' } },
    });
    await createPod(admin, namespace, 'web', { app: 'web' }, node);
    await createDeployment(admin, namespace, 'api', 1, node);
    await runningPods(admin, namespace, 'app in (web,api)', 2);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('containment token authenticates as its ServiceAccount', async () => {
    const review = await containment.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });

    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:firebreak:firebreak-containment');
  });

  it('containment identity is denied reading Secrets', async () => {
    const core = containment.makeApiClient(CoreV1Api);

    expect(await statusOfRequest(core.readNamespacedSecret({ namespace, name: 'db-password' }))).toBe(403);
    expect(await statusOfRequest(core.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await statusOfRequest(core.readNamespacedConfigMap({ namespace, name: 'kube-root-ca.crt' }))).toBe(403);
  });

  it('evidence identity is denied reading Secrets', async () => {
    const core = evidence.makeApiClient(CoreV1Api);

    expect(await statusOfRequest(core.readNamespacedSecret({ namespace, name: 'db-password' }))).toBe(403);
  });

  it('evidence identity reads but cannot change objects', async () => {
    const core = evidence.makeApiClient(CoreV1Api);
    const apps = evidence.makeApiClient(AppsV1Api);
    const networking = evidence.makeApiClient(NetworkingV1Api);
    const dryRun = 'All';
    const policy = { metadata: { name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'web' } } } };
    const eviction = { metadata: { name: 'web', namespace } };

    expect(await statusOfRequest(core.readNamespacedPod({ namespace, name: 'web' }))).toBe(200);
    expect(await statusOfRequest(networking.listNamespacedNetworkPolicy({ namespace }))).toBe(200);
    const writes = {
      'patch pod': () => core.patchNamespacedPod({ namespace, name: 'web', body: [], dryRun }),
      'delete pod': () => core.deleteNamespacedPod({ namespace, name: 'web', dryRun }),
      'evict pod': () => core.createNamespacedPodEviction({ namespace, name: 'web', body: eviction, dryRun }),
      'create NetworkPolicy': () => networking.createNamespacedNetworkPolicy({ namespace, body: policy, dryRun }),
      'patch Deployment': () => apps.patchNamespacedDeployment({ namespace, name: 'api', body: [], dryRun }),
      'patch node': () => core.patchNode({ name: node, body: [], dryRun }),
    };
    for (const [write, request] of Object.entries(writes)) {
      expect({ write, status: await statusOfRequest(request) }).toEqual({ write, status: 403 });
    }
  });

  it('containment identity may make the writes containment needs', async () => {
    const core = containment.makeApiClient(CoreV1Api);
    const apps = containment.makeApiClient(AppsV1Api);
    const dryRun = 'All';

    const writes = {
      'patch pod': () => core.patchNamespacedPod({ namespace, name: 'web', body: [], dryRun }),
      'patch Deployment': () => apps.patchNamespacedDeployment({ namespace, name: 'api', body: [], dryRun }),
      'patch node': () => core.patchNode({ name: node, body: [], dryRun }),
    };
    for (const [write, request] of Object.entries(writes)) {
      expect({ write, status: await statusOfRequest(request) }).toEqual({ write, status: 200 });
    }
    expect(await statusOfRequest(core.createNamespace({ body: { metadata: { name: 'not-allowed' } }, dryRun }))).toBe(
      403,
    );
  });
});
