import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { createServer } from 'node:net';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import {
  callKube,
  createKubeClients,
  retryDelayMs,
  type KubeRequestRecord,
  type RetryPolicy,
} from '../../../activities/kubernetes/client';
import { TokenBucket } from '../../../activities/kubernetes/rate-limit';
import { scopeViolation } from '../../../activities/kubernetes/scope';
import { adminClients, createNamespace, deleteNamespace } from './kube-lab';

const fastRetry: RetryPolicy = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 };

function apiError(code: number, headers: Record<string, string> = {}, body: object = {}): ApiException<string> {
  return new ApiException(code, 'fabricated message', JSON.stringify({ kind: 'Status', code, ...body }), headers);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!(error instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

describe('callKube', () => {
  it('callKube waits for Retry-After on 429', async () => {
    let attempts = 0;
    const started = Date.now();

    const result = await callKube(
      'list pods',
      async () => {
        attempts += 1;
        if (attempts === 1) throw apiError(429, { 'retry-after': '1' }, { reason: 'TooManyRequests' });
        return 'ok';
      },
      fastRetry,
    );

    expect(result).toBe('ok');
    expect(attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('callKube gives up on 503 as retryable KubernetesUnavailable', async () => {
    let attempts = 0;
    const failure = await failureOf(
      callKube(
        'read pod',
        () => {
          attempts += 1;
          return Promise.reject(apiError(503, {}, { reason: 'ServiceUnavailable' }));
        },
        fastRetry,
      ),
    );

    expect(attempts).toBe(3);
    expect(failure.type).toBe('KubernetesUnavailable');
    expect(failure.nonRetryable).toBe(false);
  });

  it('callKube classifies by status, never by message', async () => {
    const cases: [number, string][] = [
      [401, 'KubernetesForbidden'],
      [403, 'KubernetesForbidden'],
      [404, 'KubernetesNotFound'],
      [409, 'KubernetesConflict'],
      [400, 'KubernetesInvalid'],
      [415, 'KubernetesInvalid'],
      [422, 'KubernetesInvalid'],
    ];
    for (const [code, type] of cases) {
      let attempts = 0;
      const failure = await failureOf(
        callKube('patch pod', () => {
          attempts += 1;
          return Promise.reject(apiError(code));
        }),
      );
      expect({ code, type: failure.type, nonRetryable: failure.nonRetryable, attempts }).toEqual({
        code,
        type,
        nonRetryable: true,
        attempts: 1,
      });
    }
  });

  it('retryDelayMs honours Retry-After above the backoff', () => {
    expect(retryDelayMs(undefined, 1, fastRetry)).toBe(10);
    expect(retryDelayMs(undefined, 10, fastRetry)).toBe(50);
    expect(retryDelayMs(3, 1, fastRetry)).toBe(3000);
    expect(retryDelayMs(3600, 1, fastRetry)).toBe(30_000);
  });
});

describe('TokenBucket', () => {
  it('TokenBucket spaces requests beyond the burst', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 2 });
    const started = Date.now();

    for (let i = 0; i < 6; i += 1) await bucket.take();

    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(350);
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('TokenBucket rejects a zero rate', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(RangeError);
  });
});

describe('scopeViolation', () => {
  const request = (overrides: Partial<KubeRequestRecord>): KubeRequestRecord => ({
    method: 'GET',
    path: '/api/v1/namespaces/shop/pods',
    query: {},
    contentType: undefined,
    body: undefined,
    ...overrides,
  });

  it('scopeViolation allows a namespaced pod list on a node', () => {
    expect(scopeViolation(request({ query: { fieldSelector: 'spec.nodeName=node-a' } }))).toBeUndefined();
  });

  it('scopeViolation rejects widened scopes', () => {
    const widened = [
      request({ path: '/api/v1/namespaces//pods/web' }),
      request({ path: '/api/v1/pods' }),
      request({ path: '/api/v1/pods', query: { fieldSelector: 'spec.nodeName=node-a' } }),
      request({ method: 'DELETE', path: '/api/v1/namespaces/shop/pods' }),
      request({ query: { labelSelector: '' } }),
      request({
        method: 'POST',
        path: '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies',
        body: JSON.stringify({ spec: { podSelector: {} } }),
      }),
    ];
    for (const record of widened) {
      expect({ path: record.path, type: scopeViolation(record)?.type }).toEqual({
        path: record.path,
        type: 'EmptyScope',
      });
    }
  });

  it('scopeViolation rejects widened scopes behind a server path', () => {
    const serverPath = '/k8s/clusters/c-1';
    const widened = [
      request({ path: '/api/v1/watch/pods' }),
      request({ path: `${serverPath}/api/v1/pods` }),
      request({ path: `${serverPath}/api/v1/watch/pods` }),
      request({ method: 'DELETE', path: `${serverPath}/api/v1/namespaces/shop/pods` }),
      request({ path: `${serverPath}/api/v1/namespaces//pods` }),
    ];
    for (const record of widened) {
      expect({ path: record.path, type: scopeViolation(record, serverPath)?.type }).toEqual({
        path: record.path,
        type: 'EmptyScope',
      });
    }
    const scoped = request({ path: `${serverPath}/api/v1/namespaces/shop/pods/web-0`, method: 'DELETE' });
    expect(scopeViolation(scoped, serverPath)).toBeUndefined();
  });
});

describe('createKubeClients against the lab API server', () => {
  const admin = adminClients();
  let namespace = '';

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-client');
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('createKubeClients blocks an empty namespace before sending', async () => {
    const records: KubeRequestRecord[] = [];
    const clients = createKubeClients(kubeConfigFor('admin'), { recorder: (record) => records.push(record) });

    const failure = await failureOf(callKube('list pods', () => clients.core.listNamespacedPod({ namespace: '' })));
    const clusterWide = await failureOf(callKube('list pods', () => clients.core.listPodForAllNamespaces()));

    expect(failure.type).toBe('EmptyScope');
    expect(failure.nonRetryable).toBe(true);
    expect(clusterWide.type).toBe('EmptyScope');
    expect(records.map((record) => record.path)).toEqual(['/api/v1/namespaces//pods', '/api/v1/pods']);
  });

  it('createKubeClients blocks a cluster-wide pod list behind a server path', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        { name: 'proxied', server: `${testEnv().kube.server}/k8s/clusters/c-1`, caFile: testEnv().kube.caCert },
      ],
      users: [{ name: 'admin', token: testEnv().kube.adminToken }],
      contexts: [{ name: 'proxied', cluster: 'proxied', user: 'admin' }],
      currentContext: 'proxied',
    });
    const records: KubeRequestRecord[] = [];
    const clients = createKubeClients(kubeConfig, { recorder: (record) => records.push(record), retry: fastRetry });

    const failure = await failureOf(callKube('list pods', () => clients.core.listPodForAllNamespaces(), fastRetry));
    const watch = await failureOf(
      callKube('watch pods', () => clients.core.listPodForAllNamespaces({ watch: true }), fastRetry),
    );

    expect(failure.type).toBe('EmptyScope');
    expect(watch.type).toBe('EmptyScope');
    expect(records.map((record) => record.path)).toEqual([
      '/k8s/clusters/c-1/api/v1/pods',
      '/k8s/clusters/c-1/api/v1/pods',
    ]);
  });

  it('createKubeClients maps real API errors to failure types', async () => {
    const clients = createKubeClients(kubeConfigFor('admin'), { retry: fastRetry });
    const restricted = createKubeClients(kubeConfigFor({ token: testEnv().kube.restrictedToken }), {
      retry: fastRetry,
    });
    const body = { metadata: { name: 'Not_A_Valid_Name' }, spec: { containers: [{ name: 'app', image: 'x' }] } };

    const notFound = await failureOf(
      callKube('read pod', () => clients.core.readNamespacedPod({ namespace, name: 'missing' })),
    );
    const forbidden = await failureOf(
      callKube('read pod', () => restricted.core.readNamespacedPod({ namespace, name: 'missing' })),
    );
    const invalid = await failureOf(
      callKube('create pod', () => clients.core.createNamespacedPod({ namespace, body })),
    );

    expect([notFound.type, forbidden.type, invalid.type]).toEqual([
      'KubernetesNotFound',
      'KubernetesForbidden',
      'KubernetesInvalid',
    ]);
    expect([notFound.nonRetryable, forbidden.nonRetryable, invalid.nonRetryable]).toEqual([true, true, true]);
  });

  it('createKubeClients surfaces a patch without its type as KubernetesInvalid', async () => {
    const clients = createKubeClients(kubeConfigFor('admin'));
    await clients.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' } } });

    const failure = await failureOf(
      callKube('label config map', () =>
        clients.core.patchNamespacedConfigMap({
          namespace,
          name: 'settings',
          body: { metadata: { labels: { a: 'b' } } },
        }),
      ),
    );

    expect(failure.type).toBe('KubernetesInvalid');
    expect(failure.nonRetryable).toBe(true);
  });

  it('createKubeClients reports a refused connection as KubernetesUnavailable', async () => {
    const port = await closedPort();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'closed', server: `https://127.0.0.1:${port}`, caFile: testEnv().kube.caCert }],
      users: [{ name: 'nobody', token: 'unused' }],
      contexts: [{ name: 'closed', cluster: 'closed', user: 'nobody' }],
      currentContext: 'closed',
    });
    const clients = createKubeClients(kubeConfig, { retry: fastRetry });

    const failure = await failureOf(
      callKube('read pod', () => clients.core.readNamespacedPod({ namespace, name: 'x' }), fastRetry),
    );

    expect(failure.type).toBe('KubernetesUnavailable');
    expect(failure.nonRetryable).toBe(false);
  });
});

/** Returns a loopback port that nothing listens on, found by binding port 0 and closing the server. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
