import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Alert, Severity } from '../../domain/alert';
import { parseAlertmanagerBody } from '../../domain/parsers/alertmanager';
import { parseFalcoBody } from '../../domain/parsers/falco';
import type { Playbook } from '../../domain/playbook';
import {
  builtinTriagePlaybook,
  classifySeverity,
  selectPlaybook,
  type MatchContext,
} from '../../domain/playbook-match';
import { readAlertText } from '../../cli/playbooks/alert-file';
import { formatDiagnostic, loadPlaybookDirectory, parsePlaybookText } from '../../cli/playbooks/loader';

const repoRoot = path.join(__dirname, '../..');
const playbookDir = path.join(repoRoot, 'playbooks');
const fixtureDir = path.join(repoRoot, 'deploy/examples/alerts');

let shipped: Playbook[];

beforeAll(async () => {
  const result = await loadPlaybookDirectory(playbookDir);
  expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
  shipped = result.playbooks.map((loaded) => loaded.playbook);
});

function respond(alert: Alert, context: MatchContext = {}): { name: string; severity: Severity } {
  const { playbook } = selectPlaybook(alert, shipped, context);
  return { name: playbook.metadata.name, severity: classifySeverity(alert, playbook, context).severity };
}

/** Builds a Falco event as Falcosidekick posts it and parses it with the intake's Falco parser. */
function falcoAlert(rule: string, priority: string, fields: Record<string, string | number> = {}): Alert {
  const body = {
    uuid: '0b4c7f52-2f4e-4d0c-9a3e-1c5d8e7f9a01',
    output: `15:02:11.000000000: ${priority} ${rule} | k8s_pod_name=catalog-svc-6f4b8d9c7-pq8rn k8s_ns_name=shop-prod`,
    priority,
    rule,
    time: '2026-03-14T15:02:11.000000000Z',
    source: 'syscall',
    hostname: 'ip-10-0-47-201.eu-west-1.compute.internal',
    tags: ['container'],
    output_fields: {
      'container.id': '5b61e0d7a3f2',
      'container.name': 'catalog-svc',
      'k8s.ns.name': 'shop-prod',
      'k8s.pod.name': 'catalog-svc-6f4b8d9c7-pq8rn',
      ...fields,
    },
  };
  const [alert] = parseFalcoBody(JSON.stringify(body), 'json');
  if (alert === undefined) throw new Error('the Falco parser returned no alert');
  return alert;
}

/** Builds a Kubernetes audit event as Falco's k8saudit plugin posts it, and parses it. */
function auditAlert(rule: string, priority: string, target: Record<string, string>): Alert {
  const body = {
    output: `15:10:02.000000000: ${priority} ${rule} (user=system:serviceaccount:shop-prod:catalog-svc)`,
    priority,
    rule,
    time: '2026-03-14T15:10:02.000000000Z',
    source: 'k8s_audit',
    hostname: 'ip-10-0-5-9.eu-west-1.compute.internal',
    tags: ['k8s'],
    output_fields: { 'ka.user.name': 'system:serviceaccount:shop-prod:catalog-svc', ...target },
  };
  const [alert] = parseFalcoBody(JSON.stringify(body), 'json');
  if (alert === undefined) throw new Error('the Falco parser returned no alert');
  return alert;
}

/** Builds an Alertmanager webhook with one firing alert and the given labels, and parses it. */
function alertmanagerAlert(labels: Record<string, string>): Alert {
  const body = {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    status: 'firing',
    receiver: 'firebreak',
    alerts: [
      {
        status: 'firing',
        labels: { namespace: 'monitoring', pod: 'node-exporter-7xk2p', node: 'ip-10-0-5-9', ...labels },
        annotations: { summary: 'Prometheus alert' },
        startsAt: '2026-03-14T15:20:00Z',
      },
    ],
  };
  const [alert] = parseAlertmanagerBody(JSON.stringify(body));
  if (alert === undefined) throw new Error('the Alertmanager parser returned no alert');
  return alert;
}

describe('shipped playbooks', () => {
  test('the set holds every shipped response', () => {
    expect(shipped.map((playbook) => playbook.metadata.name).sort()).toEqual([
      'container-drift',
      'container-escape',
      'crypto-miner',
      'data-exfiltration',
      'k8s-api-abuse',
      'sensitive-file-read',
      'terminal-shell',
      'triage',
      'untrusted-image',
    ]);
  });

  test('triage.yaml equals the built-in triage playbook', () => {
    const file = path.join(playbookDir, 'triage.yaml');
    const { loaded } = parsePlaybookText(readFileSync(file, 'utf8'), file);

    expect(loaded?.playbook).toEqual(builtinTriagePlaybook);
  });

  test('every playbook states a rationale and an evidence list', () => {
    for (const playbook of shipped) {
      expect(playbook.metadata.rationale.length).toBeGreaterThan(80);
      expect(playbook.evidence).toContain('alerts');
    }
  });
});

describe('docs/playbooks.md', () => {
  test('complete example validates without findings', () => {
    const docs = readFileSync(path.join(repoRoot, 'docs/playbooks.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? '';
    const result = parsePlaybookText(example, 'docs/terminal-shell.yaml');

    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.loaded?.playbook.metadata.name).toBe('terminal-shell');
  });
});

describe('fixture alerts', () => {
  const expectations: Record<string, { name: string; severity: Severity }[]> = {
    'falcosidekick-terminal-shell.json': [{ name: 'terminal-shell', severity: 'P2' }],
    'falcosidekick-drop-and-exec-critical.json': [{ name: 'container-drift', severity: 'P1' }],
    'falco-http-output-k8saudit-attach-exec.json': [{ name: 'k8s-api-abuse', severity: 'P2' }],
    'alertmanager-falco-via-sidekick.json': [
      { name: 'container-drift', severity: 'P1' },
      { name: 'container-drift', severity: 'P1' },
    ],
    'alertmanager-prometheus-resolved.json': [{ name: 'triage', severity: 'P2' }],
    'demo-drop-and-exec.json': [{ name: 'container-drift', severity: 'P1' }],
    'falcosidekick-stratum-connection.json': [{ name: 'crypto-miner', severity: 'P2' }],
  };

  test('every fixture has an expectation', () => {
    const files = readdirSync(fixtureDir).filter((file) => file.endsWith('.json'));

    expect(files.sort()).toEqual(Object.keys(expectations).sort());
  });

  test.each(Object.entries(expectations))('%s matches its playbook', (file, expected) => {
    const { alerts } = readAlertText(readFileSync(path.join(fixtureDir, file), 'utf8'));

    expect(alerts.map((alert) => respond(alert))).toEqual(expected);
  });

  test('Alertmanager group on two nodes counts as several nodes', () => {
    const text = readFileSync(path.join(fixtureDir, 'alertmanager-falco-via-sidekick.json'), 'utf8');
    const { alerts } = readAlertText(text);
    const nodes = new Set(alerts.map((alert) => alert.target.node));

    expect(nodes.size).toBe(2);
    const [first] = alerts;
    if (first === undefined) throw new Error('the fixture holds no alert');
    const { playbook } = selectPlaybook(first, shipped);
    expect(classifySeverity(first, playbook, { affectedNodes: nodes.size }).reason).toContain('several nodes');
  });
});

describe('realistic alerts per playbook', () => {
  test.each([
    ['Detect crypto miners using the Stratum protocol', 'Critical', {}, 'crypto-miner', 'P2'],
    ['Custom crypto miner process', 'Warning', {}, 'crypto-miner', 'P2'],
    ['Launch Privileged Container', 'Notice', {}, 'container-escape', 'P1'],
    ['Detect nsenter into host namespaces', 'Critical', { 'proc.name': 'nsenter' }, 'container-escape', 'P1'],
    ['Read sensitive file untrusted', 'Warning', { 'fd.name': '/etc/shadow' }, 'sensitive-file-read', 'P2'],
    ['Read Kubernetes service account token', 'Warning', {}, 'sensitive-file-read', 'P2'],
    ['Unexpected outbound connection destination', 'Notice', { 'fd.sip': '203.0.113.50' }, 'data-exfiltration', 'P2'],
    ['Outbound Connection to C2 Servers', 'Warning', { 'fd.sip': '198.51.100.7' }, 'data-exfiltration', 'P1'],
    ['Contact K8S API Server From Container', 'Notice', {}, 'k8s-api-abuse', 'P2'],
    ['Execution from /dev/shm', 'Warning', {}, 'container-drift', 'P2'],
    ['Terminal shell in container', 'Notice', {}, 'terminal-shell', 'P2'],
  ] as const)('%s (%s) goes to %s', (rule, priority, fields, name, severity) => {
    expect(respond(falcoAlert(rule, priority, fields))).toEqual({ name, severity });
  });

  test('shells on two nodes raise terminal-shell to P1', () => {
    expect(respond(falcoAlert('Terminal shell in container', 'Notice'), { affectedNodes: 2 })).toEqual({
      name: 'terminal-shell',
      severity: 'P1',
    });
  });

  test('escape on two nodes is cluster-wide', () => {
    expect(respond(falcoAlert('Launch Privileged Container', 'Notice'), { affectedNodes: 2 }).severity).toBe('P0');
  });

  test('shell in kube-system is excluded and goes to triage', () => {
    const alert = falcoAlert('Terminal shell in container', 'Notice', { 'k8s.ns.name': 'kube-system' });

    expect(respond(alert).name).toBe('triage');
  });

  test.each([
    ['Attach to cluster-admin Role', 'Warning', 'P0'],
    ['K8s Secret Get Successfully', 'Error', 'P1'],
    ['Attach/Exec Pod', 'Notice', 'P2'],
  ])('audit rule %s goes to k8s-api-abuse at %s', (rule, priority, severity) => {
    const alert = auditAlert(rule, priority, {
      'ka.target.namespace': 'shop-prod',
      'ka.target.name': 'db-credentials',
    });

    expect(respond(alert)).toEqual({ name: 'k8s-api-abuse', severity });
  });

  test('privileged pod created through the API is an escape risk at P2', () => {
    const alert = auditAlert('Create Privileged Pod', 'Warning', { 'ka.target.namespace': 'shop-prod' });

    expect(respond(alert)).toEqual({ name: 'container-escape', severity: 'P2' });
  });

  test('Trivy finding goes to untrusted-image', () => {
    const text = readFileSync(path.join(__dirname, 'fixtures/trivy-vulnerable-image.json'), 'utf8');
    const { format, alerts } = readAlertText(text);

    expect(format).toBe('generic');
    expect(alerts.map((alert) => respond(alert))).toEqual([{ name: 'untrusted-image', severity: 'P2' }]);
  });

  test('unknown rule goes to triage', () => {
    expect(respond(falcoAlert('Clear Log Activities', 'Warning')).name).toBe('triage');
  });
});

describe('Alertmanager alerts', () => {
  test.each(['KubeletSetnsErrorsHigh', 'CryptoMiningDetectorDown', 'ServiceAccountTokenExpiringSoon'])(
    'Prometheus alert %s goes to triage',
    (alertname) => {
      const alert = alertmanagerAlert({ alertname, severity: 'warning' });

      expect(respond(alert).name).toBe('triage');
    },
  );

  test.each(['Crypto miner detector down', 'Setns calls high', 'Service account token expiring'])(
    'alert %s, which a custom-rule pattern fits, counts only from Falco',
    (name) => {
      expect(respond(alertmanagerAlert({ alertname: name, severity: 'warning' })).name).toBe('triage');
      expect(respond(falcoAlert(name, 'Warning')).name).not.toBe('triage');
    },
  );

  test('every exact rule name forwarded by Falcosidekick reaches its playbook', () => {
    const forwarded = shipped.filter((playbook) => playbook.match.sources?.includes('alertmanager') === true);
    expect(forwarded.length).toBeGreaterThan(0);

    for (const playbook of forwarded) {
      for (const rule of playbook.match.rules ?? []) {
        if (typeof rule !== 'string') continue;
        const alert = alertmanagerAlert({ alertname: rule, rule, source: 'falco', priority: 'Warning' });
        expect({ rule, playbook: respond(alert).name }).toEqual({ rule, playbook: playbook.metadata.name });
      }
    }
  });
});
