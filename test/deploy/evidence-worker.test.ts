import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/**
 * Identities and volumes of the two worker Deployments in `deploy/kubernetes/`: evidence capture and the
 * report run as `firebreak-evidence`, everything else as `firebreak-containment`, and only the evidence
 * worker mounts the evidence store. `manifests.test.ts` dry-runs every file against the API server.
 */

const manifestsDir = join(__dirname, '..', '..', 'deploy', 'kubernetes');

function documentsOf(file: string): unknown[] {
  return parseAllDocuments(readFileSync(join(manifestsDir, file), 'utf8')).map((document) => document.toJS());
}

const envSchema = z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).default([]);
const deploymentSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    template: z.looseObject({
      metadata: z.looseObject({ labels: z.record(z.string(), z.string()) }),
      spec: z.looseObject({
        serviceAccountName: z.string().optional(),
        containers: z.array(
          z.looseObject({
            env: envSchema,
            envFrom: z.array(z.looseObject({ configMapRef: z.looseObject({ name: z.string() }) })).default([]),
            volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).default([]),
          }),
        ),
        volumes: z
          .array(
            z.looseObject({
              name: z.string(),
              persistentVolumeClaim: z.looseObject({ claimName: z.string() }).optional(),
            }),
          )
          .default([]),
      }),
    }),
  }),
});
type Deployment = z.infer<typeof deploymentSchema>;

function deployment(file: string): Deployment {
  return deploymentSchema.parse(documentsOf(file)[0]);
}

const configMap = z
  .looseObject({ metadata: z.looseObject({ name: z.string() }), data: z.record(z.string(), z.string()) })
  .parse(documentsOf('configmap.yaml')[0]);

/** Environment of the first container: the ConfigMap it loads, then its own `env` entries on top. */
function environmentOf(found: Deployment): Record<string, string | undefined> {
  const container = found.spec.template.spec.containers[0];
  const fromConfigMap = container?.envFrom.some((source) => source.configMapRef.name === configMap.metadata.name);
  const own = Object.fromEntries((container?.env ?? []).map((variable) => [variable.name, variable.value]));
  return { ...(fromConfigMap ? configMap.data : {}), ...own };
}

/** Claim names of the PersistentVolumeClaims that the first container mounts. */
function mountedClaims(found: Deployment): string[] {
  const pod = found.spec.template.spec;
  const mounted = new Set((pod.containers[0]?.volumeMounts ?? []).map((mount) => mount.name));
  return pod.volumes
    .filter((volume) => mounted.has(volume.name))
    .flatMap((volume) => (volume.persistentVolumeClaim ? [volume.persistentVolumeClaim.claimName] : []));
}

const worker = deployment('worker-deployment.yaml');
const evidenceWorker = deployment('evidence-worker-deployment.yaml');
const intake = deployment('intake-deployment.yaml');

describe('worker identities', () => {
  test('evidence worker runs as firebreak-evidence', () => {
    expect(evidenceWorker.metadata.name).toBe('firebreak-evidence-worker');
    expect(evidenceWorker.spec.template.spec.serviceAccountName).toBe('firebreak-evidence');
    expect(environmentOf(evidenceWorker)['FIREBREAK_WORKER_ROLE']).toBe('evidence');
  });

  test('worker runs as firebreak-containment in the containment role', () => {
    expect(worker.spec.template.spec.serviceAccountName).toBe('firebreak-containment');
    expect(environmentOf(worker)['FIREBREAK_WORKER_ROLE']).toBe('containment');
  });

  test('worker does not mount the evidence volume', () => {
    expect(mountedClaims(worker)).toEqual([]);
    const paths = (worker.spec.template.spec.containers[0]?.volumeMounts ?? []).map((mount) => mount.mountPath);
    expect(paths.filter((path) => path.startsWith('/var/lib/firebreak'))).toEqual([]);
  });

  test('evidence worker mounts the evidence store and reports', () => {
    expect(mountedClaims(evidenceWorker)).toEqual(['firebreak-evidence']);
    const paths = (evidenceWorker.spec.template.spec.containers[0]?.volumeMounts ?? []).map((mount) => mount.mountPath);
    expect(paths).toEqual(expect.arrayContaining(['/var/lib/firebreak/evidence', '/var/lib/firebreak/reports']));
  });

  test('intake and both workers share one evidence queue', () => {
    const queue = environmentOf(intake)['FIREBREAK_EVIDENCE_TASK_QUEUE'];
    expect(queue).toMatch(/^\S+$/);
    expect(environmentOf(worker)['FIREBREAK_EVIDENCE_TASK_QUEUE']).toBe(queue);
    expect(environmentOf(evidenceWorker)['FIREBREAK_EVIDENCE_TASK_QUEUE']).toBe(queue);
    expect(queue).not.toBe(environmentOf(worker)['FIREBREAK_TASK_QUEUE']);
  });
});

describe('evidence worker disruption and network', () => {
  const labels = evidenceWorker.spec.template.metadata.labels;
  const selectorSchema = z.looseObject({
    kind: z.string(),
    spec: z.looseObject({
      selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()) }).optional(),
      podSelector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
      ingress: z
        .array(
          z.looseObject({ ports: z.array(z.looseObject({ port: z.union([z.number(), z.string()]) })).default([]) }),
        )
        .default([]),
    }),
  });
  const selects = (matchLabels: Record<string, string> | undefined) =>
    matchLabels !== undefined &&
    Object.keys(matchLabels).length > 0 &&
    Object.entries(matchLabels).every(([key, value]) => labels[key] === value);

  test('a PodDisruptionBudget selects the evidence worker', () => {
    const budgets = documentsOf('pdb.yaml').map((document) => selectorSchema.parse(document));
    expect(budgets.filter((budget) => selects(budget.spec.selector?.matchLabels))).toHaveLength(1);
  });

  test('a NetworkPolicy opens the evidence worker health ports', () => {
    const policies = documentsOf('networkpolicy.yaml').map((document) => selectorSchema.parse(document));
    const own = policies.filter(
      (policy) =>
        selects(policy.spec.podSelector?.matchLabels) &&
        policy.spec.podSelector?.matchLabels['app.kubernetes.io/component'] === 'evidence-worker',
    );
    const ports = own.flatMap((policy) => policy.spec.ingress.flatMap((rule) => rule.ports.map((port) => port.port)));
    expect(ports.sort()).toEqual([9464, 9465]);
  });
});
