import { objectPath } from '../../../activities/evidence/kube-objects';

describe('objectPath', () => {
  test('builds fixed paths for core and group kinds', () => {
    expect(objectPath('Pod', 'web-0', 'shop')).toBe('/api/v1/namespaces/shop/pods/web-0');
    expect(objectPath('ReplicaSet', 'web-7d9f8', 'shop')).toBe('/apis/apps/v1/namespaces/shop/replicasets/web-7d9f8');
    expect(objectPath('CronJob', 'nightly', 'shop')).toBe('/apis/batch/v1/namespaces/shop/cronjobs/nightly');
    expect(objectPath('Node', 'kwok-node-0')).toBe('/api/v1/nodes/kwok-node-0');
    expect(objectPath('ClusterRole', 'view', 'ignored')).toBe('/apis/rbac.authorization.k8s.io/v1/clusterroles/view');
  });

  test.each(['..', '.', '', '../../api/v1/namespaces/payroll/configmaps/x', 'a%2Fb'])('rejects the name %j', (name) => {
    expect(() => objectPath('ReplicaSet', name, 'shop')).toThrow(/cannot be an API path segment/);
  });

  test('rejects a namespace that holds a path', () => {
    expect(() => objectPath('Pod', 'web-0', '../kube-system')).toThrow(/invalid namespace name/);
  });

  test('requires a namespace for namespaced kinds', () => {
    expect(() => objectPath('Job', 'nightly')).toThrow(/needs a namespace/);
  });
});
