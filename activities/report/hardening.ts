import { z } from 'zod';

/** One weakness of the pod spec that widened what an attacker could do. */
export interface HardeningFinding {
  id: string;
  severity: 'high' | 'medium' | 'low';
  /** Container name, absent for pod-level findings. */
  container?: string;
  title: string;
  fix: string;
}

const securityContextSchema = z
  .object({
    runAsUser: z.number().optional(),
    runAsNonRoot: z.boolean().optional(),
    privileged: z.boolean().optional(),
    allowPrivilegeEscalation: z.boolean().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    capabilities: z
      .object({ add: z.array(z.string()).optional() })
      .loose()
      .optional(),
  })
  .loose();

const containerSchema = z
  .object({
    name: z.string(),
    image: z.string().optional(),
    securityContext: securityContextSchema.optional(),
    resources: z
      .object({ limits: z.record(z.string(), z.unknown()).optional() })
      .loose()
      .optional(),
  })
  .loose();

const podSpecSchema = z
  .object({
    containers: z.array(containerSchema),
    initContainers: z.array(containerSchema).optional(),
    hostPID: z.boolean().optional(),
    hostNetwork: z.boolean().optional(),
    hostIPC: z.boolean().optional(),
    securityContext: z
      .object({ runAsUser: z.number().optional(), runAsNonRoot: z.boolean().optional() })
      .loose()
      .optional(),
    volumes: z
      .array(z.object({ name: z.string(), hostPath: z.object({ path: z.string() }).loose().optional() }).loose())
      .optional(),
  })
  .loose();

const podSchema = z.object({ spec: podSpecSchema }).loose();
type PodSpec = z.infer<typeof podSpecSchema>;
type Container = z.infer<typeof containerSchema>;
type SecurityContext = z.infer<typeof securityContextSchema>;

/** Lists the hardening findings of a pod object; returns undefined when `pod` has no readable spec. */
export function findHardeningIssues(pod: unknown): HardeningFinding[] | undefined {
  const parsed = podSchema.safeParse(pod);
  if (!parsed.success) return undefined;
  const spec = parsed.data.spec;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  return [...podFindings(spec), ...containers.flatMap((container) => containerFindings(container, spec))];
}

function podFindings(spec: PodSpec): HardeningFinding[] {
  const findings: HardeningFinding[] = [];
  const hostNamespaces = (['hostPID', 'hostNetwork', 'hostIPC'] as const).filter((field) => spec[field] === true);
  for (const field of hostNamespaces) {
    findings.push({
      id: field,
      severity: 'high',
      title: `${field} is true: the pod shares the node's namespace`,
      fix: `remove ${field}`,
    });
  }
  for (const volume of spec.volumes ?? []) {
    if (!volume.hostPath) continue;
    findings.push({
      id: 'hostPath',
      severity: 'high',
      title: `volume ${volume.name} mounts host path ${volume.hostPath.path}`,
      fix: 'replace the hostPath volume with a PersistentVolumeClaim, ConfigMap or emptyDir',
    });
  }
  return findings;
}

type Finding = Omit<HardeningFinding, 'container'>;

function containerFindings(container: Container, spec: PodSpec): HardeningFinding[] {
  const context = container.securityContext ?? {};
  const findings = [...identityFindings(context, spec), ...filesystemFindings(context), ...supplyFindings(container)];
  return findings.map((finding) => ({ ...finding, container: container.name }));
}

/** Root user, privileged mode, privilege escalation and added capabilities. */
function identityFindings(context: SecurityContext, spec: PodSpec): Finding[] {
  const findings: Finding[] = [];
  const runAsUser = context.runAsUser ?? spec.securityContext?.runAsUser;
  const runAsNonRoot = context.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
  if (runAsUser === 0) {
    findings.push({ id: 'runsAsRoot', severity: 'high', title: 'runs as root (runAsUser 0)', fix: ROOT_FIX });
  } else if (runAsUser === undefined && runAsNonRoot !== true) {
    const title = 'may run as root: neither runAsNonRoot nor a non-zero runAsUser is set';
    findings.push({ id: 'runsAsRoot', severity: 'high', title, fix: ROOT_FIX });
  }

  if (context.privileged === true) {
    findings.push({ id: 'privileged', severity: 'high', title: 'runs privileged', fix: 'remove privileged: true' });
  } else if (context.allowPrivilegeEscalation !== false) {
    const title = 'allows privilege escalation (allowPrivilegeEscalation is not false)';
    findings.push({ id: 'privilegeEscalation', severity: 'medium', title, fix: 'set allowPrivilegeEscalation: false' });
  }

  const added = context.capabilities?.add ?? [];
  if (added.length > 0) {
    const fix = 'drop ALL capabilities and add back only what the process needs';
    findings.push({ id: 'addedCapabilities', severity: 'high', title: `adds capabilities ${added.join(', ')}`, fix });
  }
  return findings;
}

const ROOT_FIX = 'set runAsNonRoot: true and a non-zero runAsUser';

function filesystemFindings(context: SecurityContext): Finding[] {
  if (context.readOnlyRootFilesystem === true) return [];
  const fix = 'set readOnlyRootFilesystem: true and mount emptyDir where writes are needed';
  return [{ id: 'writableRootFilesystem', severity: 'medium', title: 'has a writable root filesystem', fix }];
}

/** Image pinning and resource limits. */
function supplyFindings(container: Container): Finding[] {
  const findings: Finding[] = [];
  if (container.image !== undefined && !/@sha256:[0-9a-f]{64}$/.test(container.image)) {
    const title = `image ${container.image} is not pinned by digest`;
    findings.push({
      id: 'imageWithoutDigest',
      severity: 'medium',
      title,
      fix: 'reference the image as repository@sha256:…',
    });
  }

  const limits = container.resources?.limits ?? {};
  const missing = ['cpu', 'memory'].filter((resource) => limits[resource] === undefined);
  if (missing.length > 0) {
    const fix = `set resources.limits.${missing.join(' and ')}`;
    findings.push({ id: 'missingResourceLimits', severity: 'low', title: `has no ${missing.join(' or ')} limit`, fix });
  }
  return findings;
}
