import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mergePatch, strategicMergePatch } from '../../../activities/kubernetes/client';
import { kubeConfigFor } from '../../support/kube';
import {
  adminClients,
  applyRbac,
  createDeployment,
  createNamespace,
  createNode,
  createPod,
  deleteNamespace,
  deleteNode,
  recordedActivities,
  runningPods,
  serviceAccountToken,
  statusOf,
  waitFor,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;
const dryRun = 'All';

/** Resolves to 200 when a request succeeded, else to the API error's status. */
function statusOfRequest(request: () => Promise<unknown>): Promise<number | undefined> {
  return request().then(() => 200, statusOf);
}

describe('admission policy in deploy/kubernetes/rbac', () => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let containment: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(async () => {
    await applyRbac(admin);
    containment = kubeConfigFor({ token: await serviceAccountToken(admin, 'firebreak-containment') });
    core = containment.makeApiClient(CoreV1Api);
    apps = containment.makeApiClient(AppsV1Api);
    node = await createNode(admin, 'fb-admission');
    namespace = await createNamespace(admin, 'fb-admission');
    await createPod(admin, namespace, 'web', { app: 'web' }, node);
    await createDeployment(admin, namespace, 'api', 2, node);
    await runningPods(admin, namespace, 'app in (web,api)', 3);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  const imagePatch = { spec: { containers: [{ name: 'app', image: 'attacker.example.net/x:1' }] } };
  const patchImage = () =>
    core.patchNamespacedPod({ namespace, name: 'web', body: imagePatch, dryRun }, strategicMergePatch());

  it('admission policy denies a pod image change by containment', async () => {
    const status = await waitFor('the admission policy to take effect', async () => {
      const code = await statusOfRequest(patchImage);
      return code === 200 ? undefined : code;
    });

    expect(status).toBe(403);
    const adminPatch = () =>
      admin.core.patchNamespacedPod({ namespace, name: 'web', body: imagePatch, dryRun }, strategicMergePatch());
    expect(await statusOfRequest(adminPatch)).toBe(200);
  });

  it('admission policy denies template, taint and spec changes', async () => {
    await waitFor('the admission policy to take effect', async () =>
      (await statusOfRequest(patchImage)) === 403 ? true : undefined,
    );
    const volume = {
      spec: {
        template: {
          spec: {
            volumes: [{ name: 'secret', secret: { secretName: 'db-password' } }],
            containers: [{ name: 'app', volumeMounts: [{ name: 'secret', mountPath: '/secret' }] }],
          },
        },
      },
    };
    const denied = {
      'mount a Secret into a Deployment': () =>
        apps.patchNamespacedDeployment({ namespace, name: 'api', body: volume, dryRun }, strategicMergePatch()),
      'change a Deployment selector label in the template': () =>
        apps.patchNamespacedDeployment(
          { namespace, name: 'api', body: { spec: { template: { metadata: { labels: { extra: 'x' } } } } }, dryRun },
          strategicMergePatch(),
        ),
      'clear node taints': () =>
        core.patchNode(
          { name: node, body: { spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } }, dryRun },
          mergePatch(),
        ),
      'label a node': () =>
        core.patchNode({ name: node, body: { metadata: { labels: { role: 'x' } } }, dryRun }, mergePatch()),
      'set a pod deadline': () =>
        core.patchNamespacedPod(
          { namespace, name: 'web', body: { spec: { activeDeadlineSeconds: 1 } }, dryRun },
          mergePatch(),
        ),
    };
    for (const [change, request] of Object.entries(denied)) {
      expect({ change, status: await statusOfRequest(request) }).toEqual({ change, status: 403 });
    }
  });

  it('activities pass as containment under the admission policy', async () => {
    await waitFor('the admission policy to take effect', async () =>
      (await statusOfRequest(patchImage)) === 403 ? true : undefined,
    );
    const { activities } = recordedActivities(containment);
    const incidentId = incident();
    const [pod] = await runningPods(admin, namespace, 'app=api', 2);
    const target = { incidentId, namespace, pod: pod?.metadata?.name ?? '', podUid: pod?.metadata?.uid, dryRun: false };
    const workload = { incidentId, namespace, name: 'api', dryRun: false };
    const digest = `registry.example.net/shop/app@sha256:${'cd'.repeat(32)}`;

    expect(await activities.quarantinePod(target)).toMatchObject({ isolation: 'complete' });
    const detached = await activities.detachPod(target);
    expect(detached.removedLabels).toMatchObject({ app: 'api' });
    expect(await activities.reattachPod({ ...target, labels: detached.removedLabels })).toMatchObject({
      reattached: true,
    });
    expect(await activities.releasePodQuarantine(target)).toMatchObject({ unlabelled: true });
    expect(await activities.cordonNode({ incidentId, node, dryRun: false })).toEqual({ wasUnschedulable: false });
    expect(await activities.uncordonNode({ incidentId, node, dryRun: false })).toMatchObject({ uncordoned: true });
    const down = await activities.scaleWorkload({ ...workload, kind: 'Deployment', replicas: 0 });
    const up = await activities.scaleWorkload({ ...workload, kind: 'Deployment', replicas: down.previousReplicas });
    expect(up).toMatchObject({ restored: true, replicas: 2 });
    expect(await activities.pauseRollout(workload)).toMatchObject({ wasPaused: false });
    expect(await activities.resumeRollout(workload)).toMatchObject({ resumed: true });
    const restore = { ...workload, kind: 'Deployment', container: 'app', imageDigest: digest };
    expect(await activities.restoreWorkload(restore)).toMatchObject({ rolledOut: true });
    expect((await admin.apps.readNamespacedDeployment({ namespace, name: 'api' })).spec?.replicas).toBe(2);
  });
});
