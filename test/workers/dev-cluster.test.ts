import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseDevCluster } from '../../workers/dev-cluster';

const productionServer = 'https://prod.example.internal:6443';

function writeKubeconfig(dir: string, currentContext: string): string {
  const file = path.join(dir, `kubeconfig-${currentContext || 'none'}`);
  const config = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: "${currentContext}"`,
    'clusters:',
    '- name: prod',
    `  cluster: { server: "${productionServer}" }`,
    'users:',
    '- name: admin',
    '  user: { token: not-a-real-token }',
    'contexts:',
    '- name: prod-admin',
    '  context: { cluster: prod, user: admin }',
  ].join('\n');
  writeFileSync(file, `${config}\n`);
  return file;
}

describe('chooseDevCluster', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'firebreak-dev-cluster-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('ignores the current KUBECONFIG context', () => {
    const kubeconfig = writeKubeconfig(dir, 'prod-admin');
    expect(chooseDevCluster({ KUBECONFIG: kubeconfig, HOME: dir })).toEqual({ kind: 'lab' });
  });

  test('uses FIREBREAK_DEV_KUBECONFIG and names its server', () => {
    const kubeconfig = writeKubeconfig(dir, 'prod-admin');
    expect(chooseDevCluster({ FIREBREAK_DEV_KUBECONFIG: kubeconfig })).toEqual({
      kind: 'explicit',
      kubeconfigPath: kubeconfig,
      context: 'prod-admin',
      server: productionServer,
    });
  });

  test('rejects a missing kubeconfig file', () => {
    const missing = path.join(dir, 'missing');
    expect(() => chooseDevCluster({ FIREBREAK_DEV_KUBECONFIG: missing })).toThrow(
      `names ${missing}, which does not exist`,
    );
  });

  test('rejects a kubeconfig without a current context', () => {
    const kubeconfig = writeKubeconfig(dir, '');
    expect(() => chooseDevCluster({ FIREBREAK_DEV_KUBECONFIG: kubeconfig })).toThrow('has no current context');
  });
});
