import { z } from 'zod';
import { alertSchema, severitySchema, type Alert, type AlertTarget, type Priority } from '../alert';
import { sha256Hex } from '../sha256';
import {
  AlertBodyError,
  extractMitre,
  imageReference,
  nanosecondsText,
  normalisePriority,
  parseOrThrow,
  unrecognisedPriority,
  knownText,
  type FieldValue,
} from './common';
import { decodeDocument } from './json';

const labelsSchema = z.record(z.string(), z.string());

/** One alert of an Alertmanager webhook notification. Its own `status` counts, not the notification's. */
export const alertmanagerAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelsSchema,
  annotations: labelsSchema.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }).optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).optional(),
});
export type AlertmanagerAlert = z.infer<typeof alertmanagerAlertSchema>;

/** The Alertmanager webhook body, version 4. */
export const alertmanagerWebhookSchema = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelsSchema.default({}),
  commonLabels: labelsSchema.default({}),
  commonAnnotations: labelsSchema.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertmanagerAlertSchema).min(1),
});

/** Severity label values of Prometheus rules that are not Falco priority names. */
const severityLabelPriorities: Record<string, Priority> = {
  page: 'Critical',
  high: 'Error',
  medium: 'Warning',
  low: 'Notice',
};

/** Workload labels of kube-state-metrics and kube-prometheus rules, with the kind each names. */
const workloadLabels: [label: string, kind: string][] = [
  ['deployment', 'Deployment'],
  ['statefulset', 'StatefulSet'],
  ['daemonset', 'DaemonSet'],
  ['replicaset', 'ReplicaSet'],
  ['job_name', 'Job'],
  ['cronjob', 'CronJob'],
];

/**
 * Parses an Alertmanager webhook body into one alert per entry of `alerts`, each with its own status. Every
 * alert records the group and its `truncatedAlerts`, so a cut group is visible as incomplete.
 */
export function parseAlertmanagerBody(text: string): Alert[] {
  const webhook = parseOrThrow(alertmanagerWebhookSchema, decodeDocument(text), []);
  const group = { key: webhook.groupKey, truncatedAlerts: webhook.truncatedAlerts };
  return webhook.alerts.map((alert, index) => {
    const rule = alert.labels['alertname'] ?? alert.labels['rule'];
    if (rule === undefined || rule === '') {
      parseOrThrow(z.object({ alertname: z.string().min(1) }), alert.labels, ['alerts', index, 'labels']);
    }
    return normaliseAlertmanagerAlert(alert, rule ?? '', group, ['alerts', index]);
  });
}

function normaliseAlertmanagerAlert(
  alert: AlertmanagerAlert,
  rule: string,
  group: Alert['group'],
  path: (string | number)[],
): Alert {
  const read = (name: string): string | undefined => knownText(alert.labels[name]);
  const target = labelTarget(read);
  const hostScoped =
    target.containerId === 'host' ||
    (target.namespace === undefined && target.pod === undefined && target.node !== undefined);
  if (hostScoped && target.node === undefined) {
    const message =
      'missing on a host alert (container_id host): add a node label, or an instance label such as node-a:9100, ' +
      'so the incident is scoped to that node';
    throw new AlertBodyError([{ path: [...path, 'labels', 'node'], message }]);
  }
  const tags = (read('tags') ?? '').split(',').filter((tag) => tag.length > 0);
  const priority = labelPriority(read);
  const resolved = alert.status === 'resolved';

  return alertSchema.parse({
    id: alertId(alert),
    source: 'alertmanager',
    rule,
    priority: priority ?? unrecognisedPriority,
    priorityRecognised: priority !== undefined,
    severityHint: severitySchema.safeParse(read('firebreak_severity')?.toUpperCase()).data,
    eventTime: resolved && alert.endsAt !== undefined ? alert.endsAt : alert.startsAt,
    eventTimeNs: nanosecondsText(read('evt_time')) ?? nanosecondsText(read('evt_time_iso8601')),
    status: alert.status,
    output: alert.annotations['description'] ?? alert.annotations['summary'] ?? alert.annotations['message'],
    tags,
    mitre: extractMitre(tags),
    target: hostScoped ? { cluster: target.cluster, node: target.node, containerId: target.containerId } : target,
    process: {
      name: read('proc_name'),
      cmdline: read('proc_cmdline'),
      exePath: read('proc_exepath') ?? read('proc_exe'),
      parentName: read('proc_pname'),
    },
    user: read('user_name'),
    fields: alertFields(alert),
    hostScoped,
    rawEvent: JSON.stringify(alert),
    group,
    sender: read('job') ?? read('prometheus'),
  });
}

/**
 * Alert id: Alertmanager's fingerprint (a hash of the labels) plus `startsAt`, so HA peers and repeat
 * notifications of one firing share an id while a new firing after resolution gets a new one. The resolved
 * notification has its own id, so it is not mistaken for a redelivery of the firing one.
 */
function alertId(alert: AlertmanagerAlert): string {
  const labelsHash = alert.fingerprint ?? sha256Hex(JSON.stringify(Object.entries(alert.labels).sort())).slice(0, 16);
  const suffix = alert.status === 'resolved' ? '-resolved' : '';
  return `am-${labelsHash}-${alert.startsAt}${suffix}`;
}

/** Falcosidekick sends `priority`; Prometheus rules send `severity`. */
function labelPriority(read: (name: string) => string | undefined): Priority | undefined {
  const falcoPriority = normalisePriority(read('priority'));
  if (falcoPriority !== undefined) {
    return falcoPriority;
  }
  const severity = read('severity')?.toLowerCase();
  return normalisePriority(severity) ?? (severity === undefined ? undefined : severityLabelPriorities[severity]);
}

/**
 * Target from labels: Falcosidekick's (`k8s_ns_name`, `k8s_pod_name`, `hostname`, dots turned into underscores)
 * and Prometheus's (`namespace`, `pod`, `node`). Without a node label, an alert that names no namespace or pod
 * takes its node from `instance` (node-exporter's `node-a:9100` becomes `node-a`). With a namespace or pod,
 * `instance` is the scraped pod's address, not a node, so it is not used.
 */
function labelTarget(read: (name: string) => string | undefined): AlertTarget {
  const namespace = read('k8s_ns_name') ?? read('namespace');
  const pod = read('k8s_pod_name') ?? read('pod');
  const nodeLabel = read('node') ?? read('kubernetes_node') ?? read('hostname');
  const podless = namespace === undefined && pod === undefined;
  return {
    cluster: read('cluster') ?? read('k8s_cluster_name'),
    node: nodeLabel ?? (podless ? instanceHost(read('instance')) : undefined),
    namespace,
    pod,
    container: read('container_name') ?? read('container'),
    containerId: read('container_id'),
    image: read('image') ?? imageReference(read('container_image_repository'), read('container_image_tag')),
    workload: labelWorkload(read),
  };
}

const bracketedHost = /^\[([^\]]+)\](?::\d+)?$/;
const hostWithPort = /^([^:]+):\d+$/;

/** Host part of a Prometheus `instance` label: `node-a:9100` gives `node-a`, `[fd00::1]:9100` gives `fd00::1`. */
export function instanceHost(instance: string | undefined): string | undefined {
  if (instance === undefined) {
    return undefined;
  }
  const host = bracketedHost.exec(instance)?.[1] ?? hostWithPort.exec(instance)?.[1] ?? instance;
  return host.length > 0 ? host : undefined;
}

function labelWorkload(read: (name: string) => string | undefined): string | undefined {
  for (const [label, kind] of workloadLabels) {
    const name = read(label);
    if (name !== undefined) {
      return `${kind}/${name}`;
    }
  }
  const kind = workloadLabels.find(([label]) => label === read('workload_type'))?.[1];
  const name = read('workload');
  return kind !== undefined && name !== undefined ? `${kind}/${name}` : undefined;
}

/** Labels as they are, annotations under `annotations.<name>` (labels cannot contain dots), and the timing. */
function alertFields(alert: AlertmanagerAlert): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(alert.labels)) {
    if (knownText(value) !== undefined) {
      fields[name] = value;
    }
  }
  for (const [name, value] of Object.entries(alert.annotations)) {
    fields[`annotations.${name}`] = value;
  }
  fields['startsAt'] = alert.startsAt;
  if (alert.endsAt !== undefined) {
    fields['endsAt'] = alert.endsAt;
  }
  if (alert.generatorURL) {
    fields['generatorURL'] = alert.generatorURL;
  }
  return fields;
}
