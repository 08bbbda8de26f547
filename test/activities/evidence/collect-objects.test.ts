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

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespace({ body: { metadata: { name: victim } } });
    await core.createNamespacedConfigMap({
      namespace: victim,
      body: { metadata: { name: 'payroll' }, data: { note: 'read by a confused deputy' } },
    });
    evidenceRole = await evidenceRoleKubeConfig(admin, namespace);
  });
  afterAll(async () => {
    await deleteEvidenceRole(admin, namespace);
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

    // The shipped evidence role grants no replicationcontrollers, so this owner read is forbidden.
    const result = await createEvidenceActivities({ kubeConfig: evidenceRole, store }).collectEvidence({
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
