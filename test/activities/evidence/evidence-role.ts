import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { kubeConfigFor } from '../../support/kube';

const clusterRoleSchema = z.object({
  rules: z.array(
    z.object({
      apiGroups: z.array(z.string()).optional(),
      resources: z.array(z.string()).optional(),
      verbs: z.array(z.string()),
    }),
  ),
});

/**
 * Creates a service account in `namespace` bound to a copy of the shipped `firebreak-evidence` ClusterRole and
 * returns a KubeConfig with its token, so collectors run with the rights a deployment gives them. Resources
 * named in `withoutResources` are left out of the copy, to test a cluster that grants less.
 */
export async function evidenceRoleKubeConfig(
  admin: KubeConfig,
  namespace: string,
  withoutResources: string[] = [],
): Promise<KubeConfig> {
  const manifest = readFileSync(path.join(__dirname, '../../../deploy/kubernetes/rbac/evidence.yaml'), 'utf8');
  const shipped = clusterRoleSchema.parse(parseAllDocuments(manifest)[0]?.toJS());
  const rules = shipped.rules
    .map((rule) => ({ ...rule, resources: rule.resources?.filter((resource) => !withoutResources.includes(resource)) }))
    .filter((rule) => rule.resources === undefined || rule.resources.length > 0);
  const role = { rules };
  const name = `firebreak-evidence-test-${namespace}`;
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  await rbac.createClusterRole({ body: { metadata: { name }, rules: role.rules } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'collector' } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: 'collector', namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace,
    name: 'collector',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return kubeConfigFor({ token: token.status?.token ?? '' });
}

/** Deletes what `evidenceRoleKubeConfig` created outside the namespace. */
export async function deleteEvidenceRole(admin: KubeConfig, namespace: string): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const name = `firebreak-evidence-test-${namespace}`;
  await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
  await rbac.deleteClusterRole({ name }).catch(() => undefined);
}
