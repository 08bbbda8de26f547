import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { quarantinePolicy } from '../../../activities/kubernetes/network-policy';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createNamespace,
  createPod,
  deleteNamespace,
  identities,
  kubeConfigOf,
  recordedActivities,
  runningPods,
  statusOf,
  unscopedRequests,
  waitFor,
} from './kube-lab';

/** The incident id format of the workflow: `incident-` and a 16-hex-digit fingerprint. */
const incident = () => `incident-${randomBytes(8).toString('hex')}`;
const policyNameOf = (incidentId: string) => `firebreak-quarantine-${incidentId.slice('incident-'.length)}`;
const quarantineKeyOf = (incidentId: string) => `quarantine.firebreak.dev/${incidentId.slice('incident-'.length)}`;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe.each(identities)('quarantine across incidents as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-incidents');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    for (const name of ['target', 'shared', 'other', 'twin-a', 'twin-b']) {
      await createPod(admin, namespace, name, { app: name }, node);
    }
    await runningPods(admin, namespace, 'app in (target,shared,other,twin-a,twin-b)', 5);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  const readLabels = async (pod: string) =>
    (await admin.core.readNamespacedPod({ namespace, name: pod })).metadata?.labels ?? {};
  const readPolicy = (name: string) => admin.networking.readNamespacedNetworkPolicy({ namespace, name });
  const selects = (policy: V1NetworkPolicy, labels: Record<string, string>) =>
    Object.entries(policy.spec?.podSelector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);

  it('quarantinePod rejects a look-alike policy with an open spec', async () => {
    const incidentId = incident();
    const name = policyNameOf(incidentId);
    const ours = quarantinePolicy(incidentId, namespace, [], undefined);
    const lookalike = await admin.networking.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name, labels: ours.metadata?.labels, annotations: ours.metadata?.annotations },
        spec: { podSelector: ours.spec.podSelector, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] },
      },
    });
    const before = await readLabels('target');

    await expect(
      run.activities.quarantinePod({ incidentId, namespace, pod: 'target', dryRun: false }),
    ).rejects.toMatchObject({ type: 'KubernetesConflict', nonRetryable: true });

    expect(await readLabels('target')).toEqual(before);
    const after = await readPolicy(name);
    expect(after.metadata?.resourceVersion).toBe(lookalike.metadata?.resourceVersion);
    const release = await run.activities.releasePodQuarantine({ incidentId, namespace, pod: 'target', dryRun: false });
    expect(release.foreign).toEqual([`NetworkPolicy ${namespace}/${name}`]);
    expect(release.deletedPolicies).toEqual([]);
    expect((await readPolicy(name)).metadata?.uid).toBe(lookalike.metadata?.uid);
    await admin.networking.deleteNamespacedNetworkPolicy({ namespace, name });
  });

  it('quarantinePod rejects its own policy changed to allow traffic', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'target', dryRun: false };
    const first = await run.activities.quarantinePod(input);
    await admin.networking.patchNamespacedNetworkPolicy(
      { namespace, name: first.policyName, body: [{ op: 'add', path: '/spec/ingress', value: [{}] }] },
      undefined,
    );

    await expect(run.activities.quarantinePod(input)).rejects.toMatchObject({
      type: 'KubernetesConflict',
      nonRetryable: true,
    });

    const release = await run.activities.releasePodQuarantine(input);
    expect(release.foreign).toEqual([`NetworkPolicy ${namespace}/${first.policyName}`]);
    expect(release.unlabelled).toBe(true);
    await admin.networking.deleteNamespacedNetworkPolicy({ namespace, name: first.policyName });
  });

  it('releasePodQuarantine keeps an earlier incident on the pod', async () => {
    const before = await readLabels('shared');
    const first = incident();
    const second = incident();
    await run.activities.quarantinePod({ incidentId: first, namespace, pod: 'shared', dryRun: false });
    await run.activities.quarantinePod({ incidentId: second, namespace, pod: 'shared', dryRun: false });

    const released = await run.activities.releasePodQuarantine({
      incidentId: second,
      namespace,
      pod: 'shared',
      dryRun: false,
    });

    expect(released).toMatchObject({ deletedPolicies: [policyNameOf(second)], unlabelled: true });
    const labels = await readLabels('shared');
    expect(labels).toEqual({
      ...before,
      [quarantineKeyOf(first)]: first,
      'firebreak.dev/incident': first,
      'firebreak.dev/quarantine': 'true',
    });
    expect(selects(await readPolicy(policyNameOf(first)), labels)).toBe(true);
    await run.activities.releasePodQuarantine({ incidentId: first, namespace, pod: 'shared', dryRun: false });
    expect(await readLabels('shared')).toEqual(before);
  });

  it('releasePodQuarantine keeps a later incident on the pod', async () => {
    const before = await readLabels('shared');
    const first = incident();
    const second = incident();
    await run.activities.quarantinePod({ incidentId: first, namespace, pod: 'shared', dryRun: false });
    await run.activities.quarantinePod({ incidentId: second, namespace, pod: 'shared', dryRun: false });

    await run.activities.releasePodQuarantine({ incidentId: first, namespace, pod: 'shared', dryRun: false });

    const labels = await readLabels('shared');
    expect(labels).toEqual({
      ...before,
      [quarantineKeyOf(second)]: second,
      'firebreak.dev/incident': second,
      'firebreak.dev/quarantine': 'true',
    });
    expect(selects(await readPolicy(policyNameOf(second)), labels)).toBe(true);
    expect(await readPolicy(policyNameOf(first)).catch(statusOf)).toBe(404);
    await run.activities.releasePodQuarantine({ incidentId: second, namespace, pod: 'shared', dryRun: false });
    expect(await readLabels('shared')).toEqual(before);
  });

  it('quarantinePod rejects a pod replaced since it was resolved', async () => {
    const incidentId = incident();
    const original = await createPod(admin, namespace, 'moved', { app: 'moved' }, node);
    const podUid = original.metadata?.uid ?? '';
    await admin.core.deleteNamespacedPod({ namespace, name: 'moved', gracePeriodSeconds: 0 });
    await waitFor('the original pod to be gone', async () =>
      (await admin.core.readNamespacedPod({ namespace, name: 'moved' }).catch(statusOf)) === 404 ? true : undefined,
    );
    const replacement = await createPod(admin, namespace, 'moved', { app: 'innocent' }, node);
    const input = { incidentId, namespace, pod: 'moved', podUid, dryRun: false };

    await expect(run.activities.quarantinePod(input)).rejects.toMatchObject({
      type: 'TargetReplaced',
      nonRetryable: true,
    });
    await expect(run.activities.detachPod(input)).rejects.toMatchObject({ type: 'TargetReplaced', nonRetryable: true });

    expect(await readLabels('moved')).toEqual({ app: 'innocent' });
    expect(await readPolicy(policyNameOf(incidentId)).catch(statusOf)).toBe(404);
    const current = { ...input, podUid: replacement.metadata?.uid ?? '' };
    expect(await run.activities.quarantinePod(current)).toMatchObject({ isolation: 'complete' });
    await run.activities.releasePodQuarantine(current);
    expect(await readLabels('moved')).toEqual({ app: 'innocent' });
  });

  it('quarantinePod names the policy after the workflow incident id', async () => {
    const incidentId = `incident-${randomBytes(8).toString('hex')}`;
    const input = { incidentId, namespace, pod: 'other', dryRun: false };

    const result = await run.activities.quarantinePod(input);

    expect(result.policyName).toBe(policyNameOf(incidentId));
    expect(result.policyName).toHaveLength('firebreak-quarantine-'.length + 16);
    expect((await readLabels('other'))[quarantineKeyOf(incidentId)]).toBe(incidentId);
    await run.activities.releasePodQuarantine(input);
  });

  it('quarantinePod labels a pod without labels', async () => {
    await createPod(admin, namespace, 'bare', {}, node);
    const input = { incidentId: incident(), namespace, pod: 'bare', dryRun: false };

    const result = await run.activities.quarantinePod(input);

    expect(result.isolation).toBe('complete');
    expect(await readLabels('bare')).toEqual({
      [quarantineKeyOf(input.incidentId)]: input.incidentId,
      'firebreak.dev/incident': input.incidentId,
      'firebreak.dev/quarantine': 'true',
    });
    await run.activities.releasePodQuarantine(input);
    expect(await readLabels('bare')).toEqual({});
  });

  it('quarantinePod derives valid policy names from unusual incident ids', async () => {
    const before = await readLabels('other');
    const ids = ['Incident_ABC', 'incident_abc', `incident-${'a'.repeat(41)}.b`, 'x'.repeat(63)];
    const names: string[] = [];
    for (const incidentId of ids) {
      const input = { incidentId, namespace, pod: 'other', dryRun: false };
      const result = await run.activities.quarantinePod(input);
      names.push(result.policyName);
      expect({ incidentId, isolation: result.isolation }).toEqual({ incidentId, isolation: 'complete' });
      const policy = await readPolicy(result.policyName);
      expect(selects(policy, await readLabels('other'))).toBe(true);
    }
    for (const name of names) {
      expect({ name, dnsLabel: dnsLabel.test(name) }).toEqual({ name, dnsLabel: true });
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(names).size).toBe(ids.length);
    for (const incidentId of ids) {
      await run.activities.releasePodQuarantine({ incidentId, namespace, pod: 'other', dryRun: false });
    }
    expect(await readLabels('other')).toEqual(before);
  });

  it('quarantinePod keeps incident ids with a shared prefix apart', async () => {
    const prefix = `incident-${randomBytes(21).toString('hex')}`;
    const first = { incidentId: `${prefix}a`, namespace, pod: 'twin-a', dryRun: false };
    const second = { incidentId: `${prefix}b`, namespace, pod: 'twin-b', dryRun: false };

    const firstResult = await run.activities.quarantinePod(first);
    const secondResult = await run.activities.quarantinePod(second);

    expect(firstResult.policyName).not.toBe(secondResult.policyName);
    expect(secondResult.isolation).toBe('complete');
    expect(selects(await readPolicy(secondResult.policyName), await readLabels('twin-b'))).toBe(true);
    expect(selects(await readPolicy(secondResult.policyName), await readLabels('twin-a'))).toBe(false);
    await run.activities.releasePodQuarantine(first);
    await run.activities.releasePodQuarantine(second);
    expect(await readLabels('twin-b')).toEqual({ app: 'twin-b' });
  });

  it('quarantinePod and its release run concurrently without failing', async () => {
    const before = await readLabels('target');
    const input = { incidentId: incident(), namespace, pod: 'target', dryRun: false };

    const quarantines = await Promise.allSettled([1, 2, 3, 4].map(() => run.activities.quarantinePod(input)));
    const policies = (await admin.networking.listNamespacedNetworkPolicy({ namespace })).items;
    const releases = await Promise.allSettled([1, 2, 3].map(() => run.activities.releasePodQuarantine(input)));

    expect(quarantines.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(policies.filter((policy) => policy.metadata?.name === policyNameOf(input.incidentId))).toHaveLength(1);
    expect(releases.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await readLabels('target')).toEqual(before);
    expect(await readPolicy(policyNameOf(input.incidentId)).catch(statusOf)).toBe(404);
  });

  it('sent only scoped requests', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
  });
});
