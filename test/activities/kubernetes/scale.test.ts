import { randomBytes } from 'node:crypto';
import { mergePatch } from '../../../activities/kubernetes/client';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createDeployment,
  createNamespace,
  deleteNamespace,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  recordedActivities,
  unscopedRequests,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

describe.each(identities)('scaleWorkload across incidents as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[1] ?? 'kwok-node-1';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-scale');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    for (const name of ['cart', 'shop', 'till']) await createDeployment(admin, namespace, name, 3, node);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  const read = (name: string) => admin.apps.readNamespacedDeployment({ namespace, name });
  const records = async (name: string) =>
    Object.keys((await read(name)).metadata?.annotations ?? {}).filter((key) =>
      key.startsWith('replicas.firebreak.dev/'),
    );
  const scale = (name: string, incidentId: string, replicas: number) =>
    run.activities.scaleWorkload({ incidentId, namespace, kind: 'Deployment', name, replicas, dryRun: false });

  it.each([
    ['the first incident first', [0, 1]],
    ['the second incident first', [1, 0]],
  ])('scaleWorkload undone with %s restores the count', async (_order, undoOrder) => {
    await admin.apps.patchNamespacedDeployment(
      { namespace, name: 'cart', body: { spec: { replicas: 3 } } },
      mergePatch(),
    );
    const incidents = [incident(), incident()];
    const downs: number[] = [];
    for (const incidentId of incidents) downs.push((await scale('cart', incidentId, 0)).previousReplicas);
    const [early, late] = undoOrder.map((index) => ({
      incidentId: incidents[index] ?? '',
      replicas: downs[index] ?? -1,
    }));

    const earlyUndo = await scale('cart', early?.incidentId ?? '', early?.replicas ?? -1);
    const replicasBetween = (await read('cart')).spec?.replicas;
    const lateUndo = await scale('cart', late?.incidentId ?? '', late?.replicas ?? -1);

    expect((await read('cart')).spec?.replicas).toBe(3);
    expect(replicasBetween).toBe(0);
    expect(await records('cart')).toEqual([]);
    expect(earlyUndo).toMatchObject({ restored: false, reason: 'otherIncidentActive', replicas: 0 });
    expect(lateUndo).toMatchObject({ restored: true, replicas: 3 });
    expect(downs).toEqual([3, 3]);
  });

  it('scaleWorkload leaves a count someone changed since', async () => {
    const incidentId = incident();
    const down = await scale('shop', incidentId, 0);
    await admin.apps.patchNamespacedDeployment(
      { namespace, name: 'shop', body: { spec: { replicas: 5 } } },
      mergePatch(),
    );

    const up = await scale('shop', incidentId, down.previousReplicas);

    expect((await read('shop')).spec?.replicas).toBe(5);
    expect(up).toEqual({
      previousReplicas: 3,
      replicas: 5,
      restored: false,
      reason: 'replicasChangedSince',
      dryRun: false,
    });
    expect(await records('shop')).toEqual([]);
  });

  it('scaleWorkload restore retried changes nothing', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, kind: 'Deployment' as const, name: 'till', dryRun: false };
    const down = await run.activities.scaleWorkload({ ...input, replicas: 0 });
    const undo = { ...input, replicas: down.previousReplicas, restore: true };

    const first = await run.activities.scaleWorkload(undo);
    const second = await run.activities.scaleWorkload(undo);

    expect(first).toMatchObject({ restored: true, replicas: 3 });
    expect(second).toMatchObject({ restored: true, replicas: 3 });
    expect(await records('till')).toEqual([]);
  });

  it('sent only scoped requests with named patch types', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
  });
});
