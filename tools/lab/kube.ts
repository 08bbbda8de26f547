import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedVersion, serverBinary } from './binaries';
import { kwokConfig } from './kwok-config';
import { randomToken, writeLabPki, type LabPki } from './pki';
import { freePort, startProcess, tcpOpen, waitFor, type ManagedProcess } from './process';

/** Names of the fake nodes that kwok plays the kubelet of. */
export const labNodes = ['kwok-node-0', 'kwok-node-1'];

export interface LabCluster {
  processes: ManagedProcess[];
  server: string;
  version: string;
  kwokVersion: string;
  caCert: string;
  adminToken: string;
  /** A user that no RBAC binding names: every request it makes is forbidden unless a test binds it. */
  restrictedToken: string;
  restrictedUser: string;
  kubeconfigPath: string;
  /** kwok serves these files as every container's current and previous logs. */
  logFiles: { current: string; previous: string };
  /** kwok runs exec commands in this folder on the host, as user 65534. */
  execDir: string;
}

export interface LabClusterOptions {
  dir: string;
  logDir: string;
  startTimeoutMs?: number;
}

/** Starts etcd, kube-apiserver, kube-controller-manager and kwok on 127.0.0.1, and registers the fake nodes. */
export async function startLabCluster(options: LabClusterOptions): Promise<LabCluster> {
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  mkdirSync(options.dir, { recursive: true });
  const pki = writeLabPki(options.dir);
  const processes: ManagedProcess[] = [];
  try {
    const etcdUrl = await startEtcd(options, processes, timeoutMs);
    const tokens = { admin: randomToken(), restricted: randomToken() };
    const apiPort = await freePort();
    const server = `https://127.0.0.1:${apiPort}`;
    await startApiServer(options, pki, etcdUrl, tokens, apiPort, processes, timeoutMs);

    const kubeconfigPath = join(options.dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig(server, pki.caCert, 'firebreak-admin', tokens.admin));
    await startControllerManager(options, pki, kubeconfigPath, processes, timeoutMs);
    const sandbox = await startKwok(options, pki, kubeconfigPath, processes, timeoutMs);
    await registerNodes(server, tokens.admin, pki.caCert);

    return {
      processes,
      server,
      version: pinnedVersion('kube-apiserver'),
      kwokVersion: pinnedVersion('kwok'),
      caCert: pki.caCert,
      adminToken: tokens.admin,
      restrictedToken: tokens.restricted,
      restrictedUser: 'firebreak-restricted',
      kubeconfigPath,
      logFiles: { current: join(sandbox, 'logs', 'current.log'), previous: join(sandbox, 'logs', 'previous.log') },
      execDir: join(sandbox, 'exec'),
    };
  } catch (error) {
    for (const proc of processes) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    throw error;
  }
}

/** Returns a kubeconfig that authenticates with a bearer token and trusts the lab CA. */
export function kubeconfig(server: string, caCert: string, user: string, token: string): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'firebreak-lab', cluster: { server, 'certificate-authority': caCert } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'firebreak-lab', context: { cluster: 'firebreak-lab', user, namespace: 'default' } }],
      'current-context': 'firebreak-lab',
    },
    null,
    2,
  );
}

async function startEtcd(options: LabClusterOptions, processes: ManagedProcess[], timeoutMs: number) {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const proc = startProcess(
    `etcd-${clientPort}`,
    serverBinary('etcd'),
    [
      '--name',
      'lab',
      '--data-dir',
      join(options.dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `lab=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ],
    options.logDir,
  );
  processes.push(proc);
  const url = `http://127.0.0.1:${clientPort}`;
  await waitFor(proc, 'etcd healthy', async () => (await fetch(`${url}/health`)).ok, timeoutMs);
  return url;
}

async function startApiServer(
  options: LabClusterOptions,
  pki: LabPki,
  etcdUrl: string,
  tokens: { admin: string; restricted: string },
  port: number,
  processes: ManagedProcess[],
  timeoutMs: number,
) {
  const tokenFile = join(options.dir, 'tokens.csv');
  writeFileSync(
    tokenFile,
    `${tokens.admin},firebreak-admin,firebreak-admin,"system:masters"\n` +
      `${tokens.restricted},firebreak-restricted,firebreak-restricted\n`,
    { mode: 0o600 },
  );
  const proc = startProcess(
    `kube-apiserver-${port}`,
    serverBinary('kube-apiserver'),
    [
      '--etcd-servers',
      etcdUrl,
      '--bind-address',
      '127.0.0.1',
      '--advertise-address',
      '127.0.0.1',
      '--secure-port',
      String(port),
      '--tls-cert-file',
      pki.servingCert,
      '--tls-private-key-file',
      pki.servingKey,
      '--token-auth-file',
      tokenFile,
      '--authorization-mode',
      'RBAC',
      '--anonymous-auth=false',
      '--service-account-issuer',
      'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file',
      pki.serviceAccountPub,
      '--service-account-signing-key-file',
      pki.serviceAccountKey,
      '--service-cluster-ip-range',
      '10.96.0.0/16',
      '--kubelet-certificate-authority',
      pki.caCert,
      '--kubelet-preferred-address-types',
      'InternalIP',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=0',
    ],
    options.logDir,
  );
  processes.push(proc);
  const ca = pki.caCert;
  await waitFor(proc, 'readyz ok', () => apiReady(`https://127.0.0.1:${port}`, tokens.admin, ca), timeoutMs);
}

async function startControllerManager(
  options: LabClusterOptions,
  pki: LabPki,
  kubeconfigPath: string,
  processes: ManagedProcess[],
  timeoutMs: number,
) {
  const port = await freePort();
  const proc = startProcess(
    `kube-controller-manager-${port}`,
    serverBinary('kube-apiserver', 'kube-controller-manager'),
    [
      '--kubeconfig',
      kubeconfigPath,
      '--authentication-kubeconfig',
      kubeconfigPath,
      '--authorization-kubeconfig',
      kubeconfigPath,
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      String(port),
      '--leader-elect=false',
      '--service-account-private-key-file',
      pki.serviceAccountKey,
      '--root-ca-file',
      pki.caCert,
      '--use-service-account-credentials=false',
      '--controllers',
      '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller',
      '--v=0',
    ],
    options.logDir,
  );
  processes.push(proc);
  await waitFor(proc, 'its port open', () => tcpOpen(port), timeoutMs);
}

async function startKwok(
  options: LabClusterOptions,
  pki: LabPki,
  kubeconfigPath: string,
  processes: ManagedProcess[],
  timeoutMs: number,
): Promise<string> {
  const sandbox = join(options.dir, 'kwok');
  mkdirSync(join(sandbox, 'logs'), { recursive: true });
  mkdirSync(join(sandbox, 'exec'), { recursive: true, mode: 0o777 });
  writeFileSync(join(sandbox, 'logs', 'current.log'), '');
  writeFileSync(join(sandbox, 'logs', 'previous.log'), '');
  const configFile = join(options.dir, 'kwok.yaml');
  writeFileSync(configFile, kwokConfig(sandbox));

  const port = await freePort();
  const proc = startProcess(
    `kwok-${port}`,
    serverBinary('kwok'),
    [
      '--config',
      configFile,
      '--kubeconfig',
      kubeconfigPath,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector',
      'kwok.x-k8s.io/node=fake',
      '--server-address',
      `127.0.0.1:${port}`,
      '--node-ip',
      '127.0.0.1',
      '--node-port',
      String(port),
      '--tls-cert-file',
      pki.servingCert,
      '--tls-private-key-file',
      pki.servingKey,
    ],
    options.logDir,
  );
  processes.push(proc);
  await waitFor(proc, 'its port open', () => tcpOpen(port), timeoutMs);
  return sandbox;
}

async function registerNodes(server: string, token: string, caCert: string): Promise<void> {
  for (const name of labNodes) {
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
      },
    };
    const response = await apiRequest(server, token, caCert, 'POST', '/api/v1/nodes', body);
    if (response.status !== 201 && response.status !== 409) {
      throw new Error(`registering node ${name} failed: HTTP ${response.status} ${response.body}`);
    }
  }
}

async function apiReady(server: string, token: string, caCert: string): Promise<boolean> {
  const response = await apiRequest(server, token, caCert, 'GET', '/readyz');
  return response.status === 200;
}

/** Sends one request to the lab API server over TLS trusting only the lab CA. */
export async function apiRequest(
  server: string,
  token: string,
  caCert: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const ca = readFileSync(caCert);
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${server}${path}`,
      {
        method,
        ca,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        timeout: 5000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
