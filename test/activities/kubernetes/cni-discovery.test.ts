import { createKubeClients, type KubeRequestRecord } from '../../../activities/kubernetes/client';
import { servedCniPolicyKinds } from '../../../activities/kubernetes/cni';
import { kubeConfigFor } from '../../support/kube';

/** API clients for the lab admin that record every request, and the discovery requests among them. */
function recordingClients() {
  const records: KubeRequestRecord[] = [];
  const clients = createKubeClients(kubeConfigFor('admin'), { recorder: (record) => records.push(record) });
  const discoveryRequests = () => records.filter((record) => record.path.startsWith('/apis/')).length;
  return { clients, discoveryRequests };
}

test('servedCniPolicyKinds discovers once for concurrent and later calls', async () => {
  const { clients, discoveryRequests } = recordingClients();

  const concurrent = await Promise.all([1, 2, 3].map(() => servedCniPolicyKinds(clients)));
  const later = await servedCniPolicyKinds(clients);

  expect(discoveryRequests()).toBe(2);
  expect(concurrent).toEqual([[], [], []]);
  expect(later).toEqual([]);
});

test('servedCniPolicyKinds discovers again after the maximum age', async () => {
  const { clients, discoveryRequests } = recordingClients();
  const startMs = 1_000_000;

  await servedCniPolicyKinds(clients, { nowMs: startMs, maxAgeMs: 10_000 });
  await servedCniPolicyKinds(clients, { nowMs: startMs + 9_999, maxAgeMs: 10_000 });
  const withinAge = discoveryRequests();
  await servedCniPolicyKinds(clients, { nowMs: startMs + 10_000, maxAgeMs: 10_000 });

  expect(withinAge).toBe(2);
  expect(discoveryRequests()).toBe(4);
});

test('servedCniPolicyKinds keeps separate results per client', async () => {
  const first = recordingClients();
  const second = recordingClients();

  await servedCniPolicyKinds(first.clients);
  await servedCniPolicyKinds(second.clients);

  expect(first.discoveryRequests()).toBe(2);
  expect(second.discoveryRequests()).toBe(2);
});
