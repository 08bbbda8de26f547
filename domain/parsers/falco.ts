import { z } from 'zod';
import { alertSchema, type Alert, type AlertTarget } from '../alert';
import { sha256Hex } from '../sha256';
import {
  AlertBodyError,
  dropUnknownFields,
  extractMitre,
  flattenListFields,
  imageReference,
  knownText,
  listOrScalarFieldSchema,
  nanosecondsText,
  normalisePriority,
  parseOrThrow,
  unrecognisedPriority,
} from './common';
import { decodeEvents, type BodyFormat } from './json';

/**
 * One Falco event as Falco's `http_output` (with `json_output: true`) and the Falcosidekick webhook send it.
 * `output` is absent when Falco runs with `json_include_output_property: false`; Falcosidekick adds `uuid`
 * and merges its custom fields into `output_fields`. List fields arrive as JSON arrays and are kept as their
 * JSON text. Unknown extra keys are kept in `rawEvent`.
 */
export const falcoEventSchema = z.looseObject({
  uuid: z.string().min(1).optional(),
  output: z.string().optional(),
  priority: z.string().optional(),
  rule: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  source: z.string().optional(),
  hostname: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  output_fields: z.record(z.string(), listOrScalarFieldSchema).nullish(),
});
export type FalcoEvent = z.infer<typeof falcoEventSchema>;

/** Owner workload fields that the k8smeta plugin (and older Falco releases with a built-in Kubernetes client) add to syscall events. */
const ownerFields: [field: string, kind: string][] = [
  ['k8smeta.deployment.name', 'Deployment'],
  ['k8s.deployment.name', 'Deployment'],
  ['k8smeta.rs.name', 'ReplicaSet'],
  ['k8s.rs.name', 'ReplicaSet'],
  ['k8smeta.rc.name', 'ReplicationController'],
];

/** Workload kinds that a `k8s_audit` event can target, by API resource name. */
const auditWorkloadKinds: Record<string, string> = {
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
  replicasets: 'ReplicaSet',
  jobs: 'Job',
  cronjobs: 'CronJob',
};

type FieldReader = (name: string) => string | undefined;

/**
 * Parses a Falco or Falcosidekick body: one event object, a JSON array of events, or (format `ndjson`) one
 * event a line. Raises `AlertBodyError` with the path of every invalid field.
 */
export function parseFalcoBody(text: string, format: BodyFormat): Alert[] {
  return decodeEvents(text, format).map((event) => {
    const parsed = parseOrThrow(falcoEventSchema, event.value, event.path);
    return normaliseFalcoEvent(parsed, event.rawEvent, event.path);
  });
}

/**
 * Turns one validated Falco event into a normalised alert. Raises `AlertBodyError` at `path.hostname` for a host
 * event without a node, because such an event would otherwise join one incident with every node's events.
 */
export function normaliseFalcoEvent(event: FalcoEvent, rawEvent: string, path: (string | number)[] = []): Alert {
  const fields = flattenListFields(event.output_fields ?? {});
  const read: FieldReader = (name) => knownText(fields[name]);
  const isAudit = event.source === 'k8s_audit';
  const target = isAudit ? auditTarget(read) : syscallTarget(read, event.hostname ?? undefined);
  const hostScoped = !isAudit && isHostEvent(target);
  if (hostScoped && target.node === undefined) {
    const message =
      'missing or unknown on a host event (no Kubernetes namespace or pod, or container.id host): ' +
      'set hostname to the node name, so the incident is scoped to that node';
    throw new AlertBodyError([{ path: [...path, 'hostname'], message }]);
  }
  const tags = event.tags ?? [];
  const priority = normalisePriority(event.priority);

  return alertSchema.parse({
    id: event.uuid ?? contentId(event),
    source: isAudit ? 'k8s_audit' : 'falco',
    rule: event.rule,
    priority: priority ?? unrecognisedPriority,
    priorityRecognised: priority !== undefined,
    eventTime: event.time,
    eventTimeNs: nanosecondsText(fields['evt.time']) ?? nanosecondsText(fields['evt.time.iso8601']),
    status: 'firing',
    output: knownText(event.output),
    tags,
    mitre: extractMitre(tags),
    target: hostScoped ? { cluster: target.cluster, node: target.node, containerId: target.containerId } : target,
    process: {
      name: read('proc.name'),
      cmdline: read('proc.cmdline'),
      exePath: read('proc.exepath') ?? read('proc.exe'),
      parentName: read('proc.pname'),
    },
    user: isAudit ? read('ka.user.name') : read('user.name'),
    fields: dropUnknownFields(fields),
    hostScoped,
    rawEvent,
    sender: knownText(event.source),
  });
}

/**
 * Id of an event without a Falcosidekick `uuid` (Falco's own `http_output`): a hash of the event's content, so a
 * resent event gets the same id. Two events differ at least in `time`, which has nanosecond precision.
 */
function contentId(event: FalcoEvent): string {
  return `falco-${sha256Hex(JSON.stringify(event)).slice(0, 32)}`;
}

/** Falco running from its Helm chart sets `hostname` to the node name. */
function syscallTarget(read: FieldReader, hostname: string | undefined): AlertTarget {
  return {
    cluster: read('cluster') ?? read('k8s.cluster.name'),
    node: knownText(hostname),
    namespace: read('k8s.ns.name') ?? read('k8smeta.ns.name'),
    pod: read('k8s.pod.name') ?? read('k8smeta.pod.name'),
    container: read('container.name'),
    containerId: read('container.id'),
    image: read('container.image') ?? imageReference(read('container.image.repository'), read('container.image.tag')),
    workload: ownerWorkload(read),
  };
}

function ownerWorkload(read: FieldReader): string | undefined {
  for (const [field, kind] of ownerFields) {
    const name = read(field);
    if (name !== undefined) {
      return `${kind}/${name}`;
    }
  }
  return undefined;
}

/**
 * Reads the target of a `k8s_audit` event: the object of the API request. `hostname` there names the Falco
 * instance that received the audit webhook, not a node involved in the event, so it is not used as the node.
 */
function auditTarget(read: FieldReader): AlertTarget {
  const resource = read('ka.target.resource');
  const name = read('ka.target.name');
  const workloadKind = resource === undefined ? undefined : auditWorkloadKinds[resource];
  return {
    cluster: read('cluster') ?? read('k8s.cluster.name'),
    namespace: read('ka.target.namespace'),
    pod: resource === 'pods' ? name : undefined,
    workload: workloadKind !== undefined && name !== undefined ? `${workloadKind}/${name}` : undefined,
  };
}

/**
 * Decides whether a syscall event is a host event, which it is when it names no Kubernetes namespace or pod, or when Falco reports the
 * container id `host` (the process runs outside any container).
 */
function isHostEvent(target: AlertTarget): boolean {
  return target.containerId === 'host' || (target.namespace === undefined && target.pod === undefined);
}
