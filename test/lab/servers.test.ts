import { CoreV1Api } from '@kubernetes/client-node';
import { Connection } from '@temporalio/client';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';

describe('lab servers', () => {
  it('Temporal dev server has the Firebreak search attributes', async () => {
    const connection = await Connection.connect({ address: testEnv().temporal.address });
    try {
      const response = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      const custom = response.customAttributes ?? {};
      expect(Object.keys(custom)).toEqual(
        expect.arrayContaining(['FirebreakPhase', 'FirebreakGate', 'FirebreakAlertCount']),
      );
    } finally {
      await connection.close();
    }
  });

  it('kwok nodes are Ready', async () => {
    const core = kubeConfigFor('admin').makeApiClient(CoreV1Api);
    const deadline = Date.now() + 30_000;
    let ready: string[] = [];
    while (Date.now() < deadline) {
      const nodes = await core.listNode();
      ready = nodes.items
        .filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((node) => node.metadata?.name ?? '');
      if (ready.length === testEnv().kube.nodes.length) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ready.sort()).toEqual([...testEnv().kube.nodes].sort());
  });

  it('restricted identity is forbidden to list pods', async () => {
    const core = kubeConfigFor({ token: testEnv().kube.restrictedToken }).makeApiClient(CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
  });
});
