import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { kubeConfigFor } from '../support/kube';

const repoRoot = join(__dirname, '..', '..');
const manifestsDir = join(repoRoot, 'deploy', 'kubernetes');
const namespace = 'firebreak';
const fieldManager = 'firebreak-manifest-test';

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});
type ManifestObject = z.infer<typeof objectSchema>;

interface Manifest {
  file: string;
  object: ManifestObject;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        return yamlFiles(path);
      }
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

function isKustomizeFile(value: unknown): boolean {
  const parsed = z.looseObject({ apiVersion: z.string() }).safeParse(value);
  return parsed.success && parsed.data.apiVersion.startsWith('kustomize.config.k8s.io/');
}

/** Loads every Kubernetes object under deploy/kubernetes, the RBAC folder included, skipping kustomize files. */
function loadManifests(): Manifest[] {
  return yamlFiles(manifestsDir).flatMap((path) => {
    const file = relative(repoRoot, path);
    return parseAllDocuments(readFileSync(path, 'utf8'))
      .map((document) => {
        if (document.errors.length > 0) {
          throw new Error(`${file}: invalid YAML: ${document.errors.map((error) => error.message).join('; ')}`);
        }
        return document.toJS() as unknown;
      })
      .filter((value) => value !== null && value !== undefined && !isKustomizeFile(value))
      .map((value) => ({ file, object: objectSchema.parse(value) }));
  });
}

const manifests = loadManifests();
const namespaceManifests = manifests.filter(({ object }) => object.kind === 'Namespace');
const otherManifests = manifests.filter(({ object }) => object.kind !== 'Namespace');
const describeObject = ({ file, object }: Manifest): string => `${object.kind} ${object.metadata.name} (${file})`;

/**
 * Sends a create with `dryRun=All`: the API server runs validation, defaulting and admission but stores nothing.
 * An object that already exists (409, left by another test of the same run) is checked with a server-side apply
 * dry run instead, which runs the same validation and admission against the stored object.
 */
async function dryRunCreate(api: KubernetesObjectApi, object: ManifestObject): Promise<KubernetesObject> {
  const spec: KubernetesObject = object;
  try {
    return await api.create(spec, undefined, 'All', fieldManager);
  } catch (error) {
    if (error instanceof ApiException && error.code === 409) {
      return api.patch(spec, undefined, 'All', fieldManager, true, PatchStrategy.ServerSideApply);
    }
    throw error;
  }
}

function apiErrorText(error: unknown): string {
  if (error instanceof ApiException) {
    return `HTTP ${error.code}: ${typeof error.body === 'string' ? error.body : JSON.stringify(error.body)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

async function waitForNamespaceGone(core: CoreV1Api, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await core.readNamespace({ name: namespace });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) {
        return;
      }
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`namespace ${namespace} was still terminating after ${timeoutMs} ms`);
}

/**
 * Creates the namespace for real from its manifest. Returns false when it already existed (another test of
 * this run applied it), after waiting out a namespace that was still being deleted.
 */
async function ensureNamespace(api: KubernetesObjectApi, core: CoreV1Api, object: ManifestObject): Promise<boolean> {
  try {
    await api.create(object);
    return true;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) {
      throw error;
    }
  }
  const existing = await core.readNamespace({ name: namespace });
  if (existing.status?.phase !== 'Terminating') {
    // Another test file of this run made the namespace without the manifest's labels; apply them.
    await api.patch(object, undefined, undefined, 'firebreak-manifest-test', true, PatchStrategy.ServerSideApply);
    return false;
  }
  await waitForNamespaceGone(core, 60_000);
  await api.create(object);
  return true;
}

describe('Kubernetes manifests', () => {
  const kubeConfig = kubeConfigFor('admin');
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let createdNamespace = false;

  // Waits for the deletion to finish, so a later test file of this run can create the namespace again.
  afterAll(async () => {
    if (createdNamespace) {
      await core.deleteNamespace({ name: namespace });
      await waitForNamespaceGone(core, 60_000);
    }
  }, 90_000);

  it('has the namespace, deployments, service, policy and budgets', () => {
    const kinds = manifests.map(({ object }) => `${object.kind}/${object.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/firebreak',
        'Deployment/firebreak-worker',
        'Deployment/firebreak-intake',
        'Deployment/firebreak-slack',
        'Service/firebreak-intake',
        'NetworkPolicy/firebreak',
        'PodDisruptionBudget/firebreak-worker',
      ]),
    );
  });

  it.each(namespaceManifests.map((manifest) => [describeObject(manifest), manifest] as const))(
    '%s passes server-side dry run',
    async (_name, manifest) => {
      const result = await dryRunCreate(api, manifest.object).catch((error: unknown) => {
        throw new Error(`${describeObject(manifest)}: ${apiErrorText(error)}`);
      });
      expect(result.metadata?.name).toBe(manifest.object.metadata.name);
    },
  );

  it('namespace exists for namespaced dry runs', async () => {
    const manifest = namespaceManifests.find(({ object }) => object.metadata.name === namespace);
    if (manifest === undefined) {
      throw new Error(`deploy/kubernetes has no Namespace ${namespace}`);
    }
    createdNamespace = await ensureNamespace(api, core, manifest.object);
    const stored = await core.readNamespace({ name: namespace });
    expect(stored.status?.phase).toBe('Active');
    expect(stored.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it.each(otherManifests.map((manifest) => [describeObject(manifest), manifest] as const))(
    '%s passes server-side dry run',
    async (_name, manifest) => {
      const result = await dryRunCreate(api, manifest.object).catch((error: unknown) => {
        throw new Error(`${describeObject(manifest)}: ${apiErrorText(error)}`);
      });
      expect(result.kind).toBe(manifest.object.kind);
      expect(result.metadata?.name).toBe(manifest.object.metadata.name);
    },
  );

  it('dry runs store nothing', async () => {
    const services = await core.listNamespacedService({ namespace });
    expect(services.items.map((service) => service.metadata?.name)).toEqual([]);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
    expect(claims.items.map((claim) => claim.metadata?.name)).toEqual([]);
  });
});

const envVarSchema = z.looseObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .looseObject({ secretKeyRef: z.looseObject({ name: z.string(), key: z.string() }).optional() })
    .optional(),
});
const probeSchema = z.looseObject({
  httpGet: z.looseObject({ path: z.string(), port: z.union([z.string(), z.number()]) }).optional(),
});
const quantitiesSchema = z.looseObject({ cpu: z.string().optional(), memory: z.string().optional() });
const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).optional(),
  env: z.array(envVarSchema).default([]),
  resources: z.looseObject({ requests: quantitiesSchema.optional(), limits: quantitiesSchema.optional() }).optional(),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number().int() })).default([]),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).default([]),
  securityContext: z
    .looseObject({
      allowPrivilegeEscalation: z.boolean().optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
      privileged: z.boolean().optional(),
      capabilities: z
        .looseObject({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() })
        .optional(),
    })
    .optional(),
});
const deploymentSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    replicas: z.number().int(),
    template: z.looseObject({
      spec: z.looseObject({
        serviceAccountName: z.string().optional(),
        automountServiceAccountToken: z.boolean().optional(),
        securityContext: z
          .looseObject({
            runAsNonRoot: z.boolean().optional(),
            runAsUser: z.number().int().optional(),
            seccompProfile: z.looseObject({ type: z.string() }).optional(),
          })
          .optional(),
        containers: z.array(containerSchema),
        volumes: z.array(z.looseObject({ name: z.string(), emptyDir: z.looseObject({}).optional() })).default([]),
      }),
    }),
  }),
});

const networkPolicySchema = z.looseObject({
  spec: z.looseObject({
    podSelector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).default({}) }),
    ingress: z
      .array(
        z.looseObject({
          from: z.array(z.unknown()).optional(),
          ports: z.array(z.looseObject({ port: z.union([z.number(), z.string()]) })).optional(),
        }),
      )
      .default([]),
  }),
});
type NetworkPolicySpec = z.infer<typeof networkPolicySchema>;

/**
 * The `from` lists of the ingress rules that open `port` on pods of a Firebreak component. A rule without
 * `from` admits any source and shows as `undefined`. A rule without `ports` opens every port.
 */
function sourcesOfPort(policies: NetworkPolicySpec[], component: string, port: number): unknown[] {
  return policies
    .filter((policy) => {
      const labels = policy.spec.podSelector.matchLabels;
      return labels['app.kubernetes.io/component'] === undefined || labels['app.kubernetes.io/component'] === component;
    })
    .flatMap((policy) => policy.spec.ingress)
    .filter((rule) => rule.ports === undefined || rule.ports.some((candidate) => candidate.port === port))
    .map((rule) => rule.from);
}

const deployments = manifests
  .filter(({ object }) => object.kind === 'Deployment')
  .map(({ file, object }) => ({ file, deployment: deploymentSchema.parse(object) }));
const packageVersion = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))).version;

describe('Firebreak pod specs', () => {
  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s runs non-root with a runtime-default seccomp profile',
    (_name, deployment) => {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    },
  );

  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s containers are read-only with no capabilities',
    (_name, deployment) => {
      for (const container of deployment.spec.template.spec.containers) {
        const context = container.securityContext;
        expect({ container: container.name, readOnlyRootFilesystem: context?.readOnlyRootFilesystem }).toEqual({
          container: container.name,
          readOnlyRootFilesystem: true,
        });
        expect({ container: container.name, escalation: context?.allowPrivilegeEscalation }).toEqual({
          container: container.name,
          escalation: false,
        });
        expect({ container: container.name, drop: context?.capabilities?.drop }).toEqual({
          container: container.name,
          drop: ['ALL'],
        });
        expect({ container: container.name, add: context?.capabilities?.add }).toEqual({
          container: container.name,
          add: undefined,
        });
      }
    },
  );

  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s sets resource requests and limits',
    (_name, deployment) => {
      for (const container of deployment.spec.template.spec.containers) {
        const resources = container.resources;
        expect({ container: container.name, resources }).toEqual({
          container: container.name,
          resources: expect.objectContaining({
            requests: expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
            limits: expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
          }),
        });
      }
    },
  );

  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s mounts a writable /tmp from an emptyDir',
    (_name, deployment) => {
      const pod = deployment.spec.template.spec;
      for (const container of pod.containers) {
        const mount = container.volumeMounts.find((volumeMount) => volumeMount.mountPath === '/tmp');
        const volume = pod.volumes.find((candidate) => candidate.name === mount?.name);
        expect({ container: container.name, tmpFromEmptyDir: volume?.emptyDir !== undefined }).toEqual({
          container: container.name,
          tmpFromEmptyDir: true,
        });
      }
    },
  );

  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s takes secrets only from secretKeyRef',
    (_name, deployment) => {
      for (const container of deployment.spec.template.spec.containers) {
        const literal = container.env
          .filter((variable) => /PASSWORD|SECRET|TOKEN|KEY/.test(variable.name) && !variable.name.endsWith('_FILE'))
          .filter((variable) => variable.value !== undefined || variable.valueFrom?.secretKeyRef === undefined)
          .map((variable) => variable.name);
        expect({ container: container.name, literal }).toEqual({ container: container.name, literal: [] });
      }
    },
  );

  it.each(deployments.map(({ deployment }) => [deployment.metadata.name, deployment] as const))(
    '%s runs a built entry point of this image version',
    (_name, deployment) => {
      for (const container of deployment.spec.template.spec.containers) {
        expect(container.image).toBe(`firebreak:${packageVersion}`);
        const entry = container.args?.[0] ?? '';
        expect(entry).toMatch(/^dist\/.+\.js$/);
        const source = join(repoRoot, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
        expect({ entry, sourceExists: existsSync(source) }).toEqual({ entry, sourceExists: true });
      }
    },
  );

  it('worker and intake run several replicas', () => {
    const replicas = Object.fromEntries(
      deployments.map(({ deployment }) => [deployment.metadata.name, deployment.spec.replicas]),
    );
    expect(replicas['firebreak-worker']).toBeGreaterThanOrEqual(2);
    expect(replicas['firebreak-intake']).toBeGreaterThanOrEqual(2);
  });

  it('intake probes /healthz and /readyz', () => {
    const intake = deployments.find(({ deployment }) => deployment.metadata.name === 'firebreak-intake');
    const container = intake?.deployment.spec.template.spec.containers[0];
    expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
  });

  it.each(['firebreak-worker', 'firebreak-evidence-worker', 'firebreak-slack'])(
    '%s probes /healthz and /readyz on its health port',
    (name) => {
      const found = deployments.find(({ deployment }) => deployment.metadata.name === name);
      const container = found?.deployment.spec.template.spec.containers[0];
      expect(container?.livenessProbe?.httpGet).toEqual(expect.objectContaining({ path: '/healthz', port: 'health' }));
      expect(container?.readinessProbe?.httpGet).toEqual(expect.objectContaining({ path: '/readyz', port: 'health' }));
      expect(container?.ports.map((port) => port.name)).toContain('health');
    },
  );

  it('health and metrics ports admit only the namespaces of the intake port', () => {
    const policies = manifests
      .filter(({ object }) => object.kind === 'NetworkPolicy')
      .map(({ object }) => networkPolicySchema.parse(object));
    const intakeSources = sourcesOfPort(policies, 'intake', 8787);
    expect(intakeSources).toEqual([[{ namespaceSelector: { matchLabels: { 'firebreak.dev/alert-sender': 'true' } } }]]);
    const metricsPorts = [
      ['worker', 'health'],
      ['worker', 'sdk-metrics'],
      ['evidence-worker', 'health'],
      ['evidence-worker', 'sdk-metrics'],
      ['slack', 'health'],
    ] as const;
    for (const [component, portName] of metricsPorts) {
      const found = deployments.find(({ deployment }) => deployment.metadata.name === `firebreak-${component}`);
      const ports = found?.deployment.spec.template.spec.containers[0]?.ports ?? [];
      const port = ports.find((candidate) => candidate.name === portName)?.containerPort ?? -1;
      expect({ component, portName, sources: sourcesOfPort(policies, component, port) }).toEqual({
        component,
        portName,
        sources: intakeSources,
      });
    }
  });

  it('only the two workers mount a ServiceAccount token', () => {
    const serviceAccounts = manifests
      .filter(({ object }) => object.kind === 'ServiceAccount')
      .map(({ object }) => object.metadata.name);
    for (const { deployment } of deployments) {
      const pod = deployment.spec.template.spec;
      const mountsToken = pod.automountServiceAccountToken !== false;
      const name = deployment.metadata.name;
      const isWorker = name === 'firebreak-worker' || name === 'firebreak-evidence-worker';
      expect({ name, mountsToken }).toEqual({ name, mountsToken: isWorker });
      if (mountsToken) {
        expect(serviceAccounts).toContain(pod.serviceAccountName);
      }
    }
  });
});

describe('deploy/kubernetes/kustomization.yaml', () => {
  const kustomization = z
    .looseObject({ resources: z.array(z.string()) })
    .parse(parse(readFileSync(join(manifestsDir, 'kustomization.yaml'), 'utf8')));

  it('lists every manifest file', () => {
    const files = yamlFiles(manifestsDir)
      .map((path) => relative(manifestsDir, path))
      .filter((file) => file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('pins every base image to a version', () => {
    const bases = stages.map((stage) => stage.split(/\s/)[0] ?? '');
    expect(bases.length).toBeGreaterThanOrEqual(3);
    for (const base of bases) {
      expect(base).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim$/);
    }
  });

  it('runtime stage sets a non-root USER', () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1] ?? '');
    const user = users.at(-1);
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it('runtime stage installs no development dependencies', () => {
    expect(runtime).toMatch(/COPY --from=production-dependencies \/app\/node_modules/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/npm ci(?! --omit=dev)/);
  });
});
