import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../tools/lab/binaries';
import { labNodes } from '../../tools/lab/kube';
import { startLab, type Lab } from '../../tools/lab/lab';
import { testEnvVariable, type TestEnv } from './env';

declare global {
  var firebreakLab: Lab | undefined;
}

/** Starts the real Temporal and Kubernetes servers once for the whole test run. */
export default async function globalSetup(): Promise<void> {
  const runDir = join(
    repoRoot,
    '.cache',
    'test-runs',
    `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`,
  );
  mkdirSync(runDir, { recursive: true });
  const started = Date.now();
  const lab = await startLab({ dir: runDir, kube: true });
  globalThis.firebreakLab = lab;
  const kube = lab.kube;
  if (!kube) {
    throw new Error('the lab cluster did not start');
  }

  const env: TestEnv = {
    runDir,
    logDir: lab.logDir,
    temporal: { ...lab.temporal, binary: lab.temporal.binary },
    kube: { ...kube, nodes: labNodes },
  };
  const envFile = join(runDir, 'env.json');
  writeFileSync(envFile, JSON.stringify(env, null, 2), { mode: 0o600 });
  process.env[testEnvVariable] = envFile;

  process.stdout.write(
    `\nTest servers (started in ${Date.now() - started} ms, logs in ${lab.logDir}):\n` +
      `  Temporal dev server: temporal CLI ${lab.temporal.version} at ${lab.temporal.address}, Web UI ${lab.temporal.uiUrl}\n` +
      `  kube-apiserver ${kube.version} at ${kube.server}, with etcd, kube-controller-manager and kwok ${kube.kwokVersion}\n\n`,
  );
}
