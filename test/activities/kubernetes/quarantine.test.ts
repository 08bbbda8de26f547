import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createNamespace,
  createPod,
  deleteNamespace,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  recordedActivities,
  runningPods,
  unscopedRequests,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;
const policyNameOf = (incidentId: string) => `firebreak-quarantine-${incidentId.slice('incident-'.length)}`;
const quarantineKeyOf = (incidentId: string) => `quarantine.firebreak.dev/${incidentId.slice('incident-'.length)}`;

describe.each(identities)('quarantine as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-quarantine');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createPod(admin, namespace, 'suspect', { app: 'shop' }, node);
    await createPod(admin, namespace, 'bystander', { app: 'shop' }, node);
    await createPod(admin, namespace, 'allowed', { app: 'ledger' }, node);
    await runningPods(admin, namespace, 'app in (shop,ledger)', 3);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  const readLabels = async (pod: string) =>
    (await admin.core.readNamespacedPod({ namespace, name: pod })).metadata?.labels ?? {};
  const listPolicies = async () => (await admin.networking.listNamespacedNetworkPolicy({ namespace })).items;

  it('quarantinePod isolates only the named pod', async () => {
    const incidentId = incident();
    const result = await run.activities.quarantinePod({ incidentId, namespace, pod: 'suspect', dryRun: false });

    expect(result.isolation).toBe('complete');
    expect(result.allowingPolicies).toEqual([]);
    expect(result.policyName).toBe(policyNameOf(incidentId));
    expect(result.cniPolicies).toEqual([]);
    const policy = await admin.networking.readNamespacedNetworkPolicy({ namespace, name: result.policyName });
    expect(policy.spec?.podSelector?.matchLabels).toEqual({ [quarantineKeyOf(incidentId)]: incidentId });
    expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec?.ingress ?? []).toEqual([]);
    expect(policy.spec?.egress ?? []).toEqual([]);
    expect(policy.metadata?.labels?.['firebreak.dev/incident']).toBe(incidentId);
    expect(await readLabels('suspect')).toEqual({
      app: 'shop',
      [quarantineKeyOf(incidentId)]: incidentId,
      'firebreak.dev/incident': incidentId,
      'firebreak.dev/quarantine': 'true',
    });
    expect(await readLabels('bystander')).toEqual({ app: 'shop' });

    await run.activities.releasePodQuarantine({ incidentId, namespace, pod: 'suspect', dryRun: false });
  });

  it('quarantinePod retried after a worker crash creates one policy', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'suspect', dryRun: false };
    const first = await run.activities.quarantinePod(input);
    const second = await run.activities.quarantinePod(input);

    expect(second).toEqual(first);
    const ours = (await listPolicies()).filter(
      (policy) => policy.metadata?.labels?.['firebreak.dev/incident'] === incidentId,
    );
    expect(ours.map((policy) => policy.metadata?.name)).toEqual([policyNameOf(incidentId)]);

    await run.activities.releasePodQuarantine(input);
  });

  it('quarantinePod reports policies that still allow traffic', async () => {
    const allow: V1NetworkPolicy = {
      metadata: { name: 'allow-ledger', namespace },
      spec: { podSelector: { matchLabels: { app: 'ledger' } }, ingress: [{}] },
    };
    const denyOnly: V1NetworkPolicy = {
      metadata: { name: 'deny-ledger-egress', namespace },
      spec: { podSelector: { matchLabels: { app: 'ledger' } }, policyTypes: ['Egress'] },
    };
    const unrelated: V1NetworkPolicy = {
      metadata: { name: 'allow-web', namespace },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] },
    };
    for (const body of [allow, denyOnly, unrelated]) {
      await admin.networking.createNamespacedNetworkPolicy({ namespace, body });
    }
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'allowed', dryRun: false };

    const result = await run.activities.quarantinePod(input);

    expect(result.isolation).toBe('incomplete');
    expect(result.allowingPolicies).toEqual(['allow-ledger']);
    await run.activities.releasePodQuarantine(input);
    for (const body of [allow, denyOnly, unrelated]) {
      await admin.networking.deleteNamespacedNetworkPolicy({ namespace, name: body.metadata?.name ?? '' });
    }
  });

  it('quarantinePod leaves a foreign policy with its name alone', async () => {
    const incidentId = incident();
    const labelsBefore = await readLabels('suspect');
    const name = policyNameOf(incidentId);
    const foreign = await admin.networking.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'someone-else' } },
        spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] },
      },
    });

    await expect(
      run.activities.quarantinePod({ incidentId, namespace, pod: 'suspect', dryRun: false }),
    ).rejects.toMatchObject({ type: 'KubernetesConflict', nonRetryable: true });

    const after = await admin.networking.readNamespacedNetworkPolicy({ namespace, name });
    expect(after.metadata?.uid).toBe(foreign.metadata?.uid);
    expect(after.metadata?.resourceVersion).toBe(foreign.metadata?.resourceVersion);
    const release = await run.activities.releasePodQuarantine({ incidentId, namespace, pod: 'suspect', dryRun: false });
    expect(release.foreign).toEqual([`NetworkPolicy ${namespace}/${name}`]);
    expect(release.unlabelled).toBe(false);
    expect(await readLabels('suspect')).toEqual(labelsBefore);
    await admin.networking.deleteNamespacedNetworkPolicy({ namespace, name });
  });

  it('quarantinePod in dry run changes nothing', async () => {
    const incidentId = incident();
    const before = await readLabels('suspect');

    const result = await run.activities.quarantinePod({ incidentId, namespace, pod: 'suspect', dryRun: true });

    expect(result.dryRun).toBe(true);
    expect(await readLabels('suspect')).toEqual(before);
    const names = (await listPolicies()).map((policy) => policy.metadata?.name);
    expect(names).not.toContain(result.policyName);
    const dryRunMutations = run.records.filter((record) => record.method !== 'GET' && record.query.dryRun === 'All');
    expect(dryRunMutations.length).toBeGreaterThanOrEqual(2);
  });

  it('quarantinePod keeps the egress allow-list open', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'suspect', dryRun: false };
    const allowEgress = [
      { cidr: '10.96.0.10/32', ports: [53] },
      { namespaceSelector: { 'kubernetes.io/metadata.name': 'firebreak' } },
    ];

    const result = await run.activities.quarantinePod({ ...input, allowEgress });

    const policy = await admin.networking.readNamespacedNetworkPolicy({ namespace, name: result.policyName });
    expect(policy.spec?.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '10.96.0.10/32' } }],
        ports: [
          { protocol: 'TCP', port: 53 },
          { protocol: 'UDP', port: 53 },
        ],
      },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'firebreak' } } }] },
    ]);
    expect(policy.spec?.ingress ?? []).toEqual([]);
    await run.activities.releasePodQuarantine(input);
  });

  it('quarantinePod rejects an empty namespace', async () => {
    const sent = run.records.length;
    await expect(
      run.activities.quarantinePod({ incidentId: incident(), namespace: '', pod: 'suspect', dryRun: false }),
    ).rejects.toMatchObject({ type: 'EmptyScope', nonRetryable: true });
    await expect(
      run.activities.quarantinePod({ incidentId: incident(), namespace, pod: ' ', dryRun: false }),
    ).rejects.toMatchObject({ type: 'EmptyScope', nonRetryable: true });
    expect(run.records.length).toBe(sent);
  });

  it('quarantinePod rejects an empty namespace selector in the allow-list', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'bystander', dryRun: false };
    await expect(
      run.activities.quarantinePod({ ...input, allowEgress: [{ namespaceSelector: {} }] }),
    ).rejects.toMatchObject({ type: 'EmptyScope', nonRetryable: true });
    await run.activities.releasePodQuarantine(input);
    expect(await readLabels('bystander')).toEqual({ app: 'shop' });
  });

  it('releasePodQuarantine returns labels and policies to their state before', async () => {
    const before = await readLabels('suspect');
    const policiesBefore = (await listPolicies()).map((policy) => policy.metadata?.name).sort();
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'suspect', dryRun: false };
    await run.activities.quarantinePod(input);

    const released = await run.activities.releasePodQuarantine(input);
    const again = await run.activities.releasePodQuarantine(input);

    expect(released.deletedPolicies).toEqual([policyNameOf(incidentId)]);
    expect(released.unlabelled).toBe(true);
    expect(again.deletedPolicies).toEqual([]);
    expect(again.unlabelled).toBe(false);
    expect(await readLabels('suspect')).toEqual(before);
    expect((await listPolicies()).map((policy) => policy.metadata?.name).sort()).toEqual(policiesBefore);
  });

  it('releasePodQuarantine in dry run keeps the quarantine', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'suspect', dryRun: false };
    const quarantined = await run.activities.quarantinePod(input);
    const labels = await readLabels('suspect');

    const released = await run.activities.releasePodQuarantine({ ...input, dryRun: true });

    expect(released).toMatchObject({ deletedPolicies: [quarantined.policyName], unlabelled: true, dryRun: true });
    expect(await readLabels('suspect')).toEqual(labels);
    const names = (await listPolicies()).map((policy) => policy.metadata?.name);
    expect(names).toContain(quarantined.policyName);
    const deletes = run.records.filter((record) => record.method === 'DELETE' && record.query.dryRun === 'All');
    expect(deletes.every((record) => JSON.parse(record.body ?? '{}').dryRun?.[0] === 'All')).toBe(true);
    await run.activities.releasePodQuarantine(input);
  });

  it('sent only scoped requests with named patch types', () => {
    expect(run.records.length).toBeGreaterThan(0);
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
    expect(run.records.filter((record) => record.method === 'PATCH').length).toBeGreaterThan(0);
  });
});
