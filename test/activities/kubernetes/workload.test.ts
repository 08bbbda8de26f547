import { randomBytes } from 'node:crypto';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createDeployment,
  createNamespace,
  createPod,
  createStatefulSet,
  deleteNamespace,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  recordedActivities,
  runningPods,
  statusOf,
  unscopedRequests,
  waitFor,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;
const recordKeyOf = (incidentId: string) => `replicas.firebreak.dev/${incidentId.slice('incident-'.length)}`;
const trustedDigest = `registry.example.net/shop/app@sha256:${'ab'.repeat(32)}`;

describe.each(identities)('workload actions as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[1] ?? 'kwok-node-1';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-workload');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createPod(admin, namespace, 'debug-tools', { run: 'debug-tools' }, node);
    await createStatefulSet(admin, namespace, 'db', 2, node);
    await createDeployment(admin, namespace, 'api', 1, node);
    await runningPods(admin, namespace, 'app in (db,api)', 3);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  const readStatefulSet = () => admin.apps.readNamespacedStatefulSet({ namespace, name: 'db' });
  const readDeployment = () => admin.apps.readNamespacedDeployment({ namespace, name: 'api' });

  it('deletePod deletes a standalone pod once', async () => {
    const input = { incidentId: incident(), namespace, pod: 'debug-tools', gracePeriodSec: 0, dryRun: false };

    const result = await run.activities.deletePod(input);
    const retried = await run.activities.deletePod(input);

    expect(result).toEqual({ deleted: true, standalone: true, alreadyGone: false, dryRun: false });
    expect(retried).toMatchObject({ deleted: true, alreadyGone: true });
    await waitFor('debug-tools to be gone', async () =>
      (await admin.core.readNamespacedPod({ namespace, name: 'debug-tools' }).catch(statusOf)) === 404
        ? true
        : undefined,
    );
  });

  it('deletePod retried never deletes the StatefulSet replacement', async () => {
    const [first] = await runningPods(admin, namespace, 'app=db', 2);
    const uid = first?.metadata?.uid ?? '';
    const input = { incidentId: incident(), namespace, pod: 'db-0', uid, gracePeriodSec: 0, dryRun: false };

    const result = await run.activities.deletePod(input);

    expect(result).toMatchObject({ deleted: true, standalone: false, controller: { kind: 'StatefulSet', name: 'db' } });
    const replacement = await waitFor('db-0 to come back with a new uid', async () => {
      const pod = await admin.core.readNamespacedPod({ namespace, name: 'db-0' }).catch(() => undefined);
      return pod && pod.metadata?.uid !== uid ? pod : undefined;
    });
    const retried = await run.activities.deletePod(input);
    expect(retried).toMatchObject({ deleted: true, alreadyGone: true });
    const after = await admin.core.readNamespacedPod({ namespace, name: 'db-0' });
    expect(after.metadata?.uid).toBe(replacement.metadata?.uid);
    expect(after.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('scaleWorkload takes a StatefulSet to zero and back', async () => {
    await runningPods(admin, namespace, 'app=db', 2);
    const incidentId = incident();
    const input = { incidentId, namespace, kind: 'StatefulSet' as const, name: 'db', dryRun: false };

    const down = await run.activities.scaleWorkload({ ...input, replicas: 0 });
    const downAgain = await run.activities.scaleWorkload({ ...input, replicas: 0 });

    expect(down).toEqual({ previousReplicas: 2, replicas: 0, dryRun: false });
    expect(downAgain).toEqual({ previousReplicas: 2, replicas: 0, dryRun: false });
    const scaled = await readStatefulSet();
    expect(scaled.spec?.replicas).toBe(0);
    expect(JSON.parse(scaled.metadata?.annotations?.[recordKeyOf(incidentId)] ?? '{}')).toEqual({
      incidentId,
      previousReplicas: 2,
      setReplicas: 0,
    });
    await waitFor('db pods to stop', async () =>
      (await admin.core.listNamespacedPod({ namespace, labelSelector: 'app=db' })).items.length === 0
        ? true
        : undefined,
    );

    const up = await run.activities.scaleWorkload({ ...input, replicas: down.previousReplicas });

    expect(up).toEqual({ previousReplicas: 2, replicas: 2, restored: true, dryRun: false });
    const restored = await readStatefulSet();
    expect(restored.spec?.replicas).toBe(2);
    expect(restored.metadata?.annotations?.[recordKeyOf(incidentId)]).toBeUndefined();
    await runningPods(admin, namespace, 'app=db', 2);
  });

  it('scaleWorkload in dry run keeps the replica count', async () => {
    const input = { incidentId: incident(), namespace, kind: 'Deployment' as const, name: 'api', replicas: 0 };

    const result = await run.activities.scaleWorkload({ ...input, dryRun: true });

    expect(result).toEqual({ previousReplicas: 1, replicas: 0, dryRun: true });
    const deployment = await readDeployment();
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.metadata?.annotations?.[recordKeyOf(input.incidentId)]).toBeUndefined();
  });

  it('pauseRollout and resumeRollout undo only their own pause', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, name: 'api', dryRun: false };

    expect(await run.activities.pauseRollout(input)).toEqual({ wasPaused: false, dryRun: false });
    expect(await run.activities.pauseRollout(input)).toEqual({ wasPaused: false, dryRun: false });
    expect((await readDeployment()).spec?.paused).toBe(true);
    const other = await run.activities.resumeRollout({ ...input, incidentId: incident() });
    expect(other).toEqual({ resumed: false, paused: true, dryRun: false });
    expect(await run.activities.resumeRollout(input)).toEqual({ resumed: true, paused: false, dryRun: false });

    const after = await readDeployment();
    expect(after.spec?.paused).toBeUndefined();
    expect(after.metadata?.annotations?.['firebreak.dev/paused-by']).toBeUndefined();
  });

  it('restoreWorkload rolls the Deployment out on the trusted digest', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, kind: 'Deployment', name: 'api', container: 'app', dryRun: false };

    const result = await run.activities.restoreWorkload({ ...input, imageDigest: trustedDigest });
    const retried = await run.activities.restoreWorkload({ ...input, imageDigest: trustedDigest });

    expect(result).toEqual({
      previousImage: 'registry.example.net/shop/app:1.0',
      image: trustedDigest,
      rolledOut: true,
      paused: false,
      dryRun: false,
    });
    expect(retried.rolledOut).toBe(false);
    const template = (await readDeployment()).spec?.template;
    expect(template?.spec?.containers[0]?.image).toBe(trustedDigest);
    expect(template?.metadata?.annotations?.['firebreak.dev/restored-for']).toBe(incidentId);
    await waitFor('a running pod on the trusted digest', async () => {
      const pods = await runningPods(admin, namespace, 'app=api', 1).catch(() => []);
      return pods[0]?.spec?.containers[0]?.image === trustedDigest ? true : undefined;
    });
  });

  it('restoreWorkload rejects an unknown container and a tag', async () => {
    const input = { incidentId: incident(), namespace, kind: 'Deployment', name: 'api', dryRun: false };

    await expect(
      run.activities.restoreWorkload({ ...input, container: 'sidecar', imageDigest: trustedDigest }),
    ).rejects.toMatchObject({ type: 'KubernetesInvalid', nonRetryable: true });
    await expect(
      run.activities.restoreWorkload({
        ...input,
        container: 'app',
        imageDigest: 'registry.example.net/shop/app:latest',
      }),
    ).rejects.toMatchObject({ type: 'KubernetesInvalid', nonRetryable: true });
  });

  it('scaleWorkload of a missing workload is not retried', async () => {
    const input = { incidentId: incident(), namespace, kind: 'Deployment' as const, name: 'gone', replicas: 0 };

    await expect(run.activities.scaleWorkload({ ...input, dryRun: false })).rejects.toMatchObject({
      type: 'KubernetesNotFound',
      nonRetryable: true,
    });
  });

  it('sent only scoped requests with named patch types', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
    const deletes = run.records.filter((record) => record.method === 'DELETE');
    expect(deletes.every((record) => /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/.test(record.path))).toBe(true);
  });
});
