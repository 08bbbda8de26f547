import { CoreV1Api, type KubeConfig, type V1OwnerReference } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { parseManifest, type CustodyEntry } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { kubeConfigFor } from '../../support/kube';
import { deleteEvidenceRole, evidenceRoleKubeConfig } from './evidence-role';
import { deleteNamespace, targetOf, waitForRunningPod } from './lab-pod';

const objectArtefacts = ['objects/pod', 'objects/node', 'objects/events', 'objects/networkpolicies', 'objects/rbac'];

describe('collectEvidence owner chain', () => {
  const admin = kubeConfigFor('admin');
  const core = admin.makeApiClient(CoreV1Api);
  const namespace = `owners-${randomBytes(4).toString('hex')}`;
  const victim = `owners-victim-${randomBytes(4).toString('hex')}`;
  let root: string;
  let store: LocalEvidenceStore;
  let evidenceRole: KubeConfig;
  /** The shipped role without `replicationcontrollers`, bound to a service account in the other namespace. */
  let narrowRole: KubeConfig;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespace({ body: { metadata: { name: victim } } });
    await core.createNamespacedConfigMap({
      namespace: victim,
      body: { metadata: { name: 'payroll' }, data: { note: 'read by a confused deputy' } },
    });
    evidenceRole = await evidenceRoleKubeConfig(admin, namespace);
    narrowRole = await evidenceRoleKubeConfig(admin, victim, ['replicationcontrollers']);
  });
  afterAll(async () => {
    await deleteEvidenceRole(admin, namespace);
    await deleteEvidenceRole(admin, victim);
    await deleteNamespace(admin, namespace);
    await deleteNamespace(admin, victim);
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-owners-'));
    store = new LocalEvidenceStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /**
   * Creates a running pod owned by `owner`. The owner must exist with that uid, or be of a kind the API server
   * does not know, because the garbage collector removes references to missing owners.
   */
  async function podOwnedBy(name: string, owner: V1OwnerReference) {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { pod: name }, ownerReferences: [owner] },
        spec: { nodeName: 'kwok-node-0', containers: [{ name: 'app', image: 'registry.example/shop/miner:1' }] },
      },
    });
    return targetOf(await waitForRunningPod(core, namespace, `pod=${name}`));
  }

  const entriesOf = async (incidentId: string): Promise<CustodyEntry[]> =>
    parseManifest(await store.readManifest(incidentId)).flatMap((line) => ('entry' in line ? [line.entry] : []));
  const readEntry = (entry: CustodyEntry | undefined) =>
    entry ? readFileSync(store.objectPath(entry.sha256), 'utf8') : '';
  async function collectionErrors(incidentId: string): Promise<string> {
    return readEntry((await entriesOf(incidentId)).find((entry) => entry.name === 'collection-errors'));
  }

  test('stores object evidence when a ConfigMap claims to control the pod', async () => {
    const decoy = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'decoy' } } });
    const target = await podOwnedBy('miner', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'decoy',
      uid: decoy.metadata?.uid ?? '',
      controller: true,
    });
    const incidentId = 'incident-00000000000000e1';

    const result = await createEvidenceActivities({ kubeConfig: evidenceRole, store }).collectEvidence({
      incidentId,
      target,
      kinds: ['objects'],
      limits: {},
    });

    const names = result.artefacts.map((ref) => ref.name);
    expect(names).toEqual(expect.arrayContaining([...objectArtefacts, 'collection-errors']));
    expect(names.filter((name) => name.startsWith('objects/owner-'))).toEqual([]);
    expect(await collectionErrors(incidentId)).toContain('v1 ConfigMap/decoy\\" of Pod/miner is not followed');
  });

  test('stores the ReplicationController that owns a pod', async () => {
    const labels = { app: 'legacy-web' };
    const controller = await core.createNamespacedReplicationController({
      namespace,
      body: {
        metadata: { name: 'legacy-web' },
        spec: {
          replicas: 1,
          selector: labels,
          template: {
            metadata: { labels },
            spec: { nodeName: 'kwok-node-0', containers: [{ name: 'app', image: 'registry.example/legacy:3' }] },
          },
        },
      },
    });
    const target = targetOf(await waitForRunningPod(core, namespace, 'app=legacy-web'));
    const incidentId = 'incident-00000000000000e4';

    const result = await createEvidenceActivities({ kubeConfig: evidenceRole, store }).collectEvidence({
      incidentId,
      target,
      kinds: ['objects'],
      limits: {},
    });

    expect(target.owners).toEqual([expect.objectContaining({ kind: 'ReplicationController', name: 'legacy-web' })]);
    const names = result.artefacts.map((ref) => ref.name);
    expect(names).toEqual(expect.arrayContaining([...objectArtefacts, 'objects/owner-replicationcontroller']));
    expect(names).not.toContain('collection-errors');
    const entry = (await entriesOf(incidentId)).find((item) => item.name === 'objects/owner-replicationcontroller');
    expect(entry?.source).toEqual(
      expect.objectContaining({ kind: 'ReplicationController', name: 'legacy-web', uid: controller.metadata?.uid }),
    );
    expect(JSON.parse(readEntry(entry)).spec.replicas).toBe(1);
  });

  test('reads the resolved owner of a detached pod', async () => {
    const labels = { app: 'detached-none' };
    const controller = await core.createNamespacedReplicationController({
      namespace,
      body: {
        metadata: { name: 'detached-rc' },
        spec: {
          replicas: 0,
          selector: labels,
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
        },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'detached', labels: { pod: 'detached' } },
        spec: { nodeName: 'kwok-node-0', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
      },
    });
    const running = targetOf(await waitForRunningPod(core, namespace, 'pod=detached'));
    // Detaching removed the pod's owner references after the incident resolved its owner.
    const owner = { kind: 'ReplicationController', name: 'detached-rc', uid: controller.metadata?.uid ?? '' };
    const incidentId = 'incident-00000000000000e5';

    const result = await createEvidenceActivities({ kubeConfig: evidenceRole, store }).collectEvidence({
      incidentId,
      target: { ...running, owners: [owner] },
      kinds: ['objects'],
      limits: {},
    });

    const names = result.artefacts.map((ref) => ref.name);
    expect(names).toContain('objects/owner-replicationcontroller');
    expect(names).not.toContain('collection-errors');
    const entry = (await entriesOf(incidentId)).find((item) => item.name === 'objects/owner-replicationcontroller');
    expect(entry?.source.uid).toBe(owner.uid);
  });

  test('records an owner it may not read and goes on', async () => {
    const labels = { app: 'legacy-none' };
    const controller = await core.createNamespacedReplicationController({
      namespace,
      body: {
        metadata: { name: 'legacy-rc' },
        spec: {
          replicas: 0,
          selector: labels,
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
        },
      },
    });
    // Not the pod's controller, so the ReplicationController neither adopts nor releases it.
    const target = await podOwnedBy('legacy', {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      name: 'legacy-rc',
      uid: controller.metadata?.uid ?? '',
      controller: false,
    });
    const incidentId = 'incident-00000000000000e2';

    // This role grants no replicationcontrollers, so the owner read is forbidden.
    const result = await createEvidenceActivities({ kubeConfig: narrowRole, store }).collectEvidence({
      incidentId,
      target,
      kinds: ['objects'],
      limits: {},
    });

    expect(result.artefacts.map((ref) => ref.name)).toEqual(expect.arrayContaining(objectArtefacts));
    const errors = JSON.parse(await collectionErrors(incidentId));
    expect(errors.errors).toEqual([
      expect.objectContaining({ kind: 'objects', step: 'objects/owners', message: expect.stringMatching(/^HTTP 403/) }),
    ]);
  });

  test('does not follow an owner kind that holds a path', async () => {
    const target = await podOwnedBy('walker', {
      apiVersion: 'v1',
      kind: `x/../../${victim}/configmaps/payroll#`,
      name: 'n',
      uid: '1',
      controller: true,
    });
    const incidentId = 'incident-00000000000000e3';

    const result = await createEvidenceActivities({ kubeConfig: admin, store }).collectEvidence({
      incidentId,
      target,
      kinds: ['objects'],
      limits: {},
    });

    expect(result.artefacts.map((ref) => ref.name).filter((name) => name.startsWith('objects/owner-'))).toEqual([]);
    for (const entry of await entriesOf(incidentId)) expect(readEntry(entry)).not.toContain('confused deputy');
    expect(await collectionErrors(incidentId)).toContain('is not followed');
  });
});
