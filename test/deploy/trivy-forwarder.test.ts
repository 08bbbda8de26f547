import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadPlaybooks } from '../../cli/playbooks/loader';
import { parseGenericBody } from '../../domain/parsers/generic';
import { selectPlaybook } from '../../domain/playbook-match';

// The forwarder is a shell script that needs bash, jq and sha256sum. With --dry-run it prints the body it
// would post.
const script = join(__dirname, '..', '..', 'deploy', 'examples', 'trivy-forwarder.sh');
const imageDigest = 'registry.example.com/shop/checkout@sha256:' + '1'.repeat(64);

function vulnerability(id: string, severity: string, fixedVersion = '') {
  return {
    VulnerabilityID: id,
    PkgName: 'openssl',
    InstalledVersion: '3.0.11',
    FixedVersion: fixedVersion,
    Severity: severity,
  };
}

function trivyReport(vulnerabilities: object[]) {
  return {
    SchemaVersion: 2,
    CreatedAt: '2026-11-02T10:11:12.123456789Z',
    ArtifactName: 'registry.example.com/shop/checkout:1.4.2',
    ArtifactType: 'container_image',
    Metadata: { ImageID: 'sha256:' + 'a'.repeat(64), RepoDigests: [imageDigest] },
    Results: [
      { Target: 'checkout (debian 12.4)', Class: 'os-pkgs', Type: 'debian', Vulnerabilities: vulnerabilities },
      { Target: 'app/package-lock.json', Class: 'lang-pkgs', Type: 'npm' },
    ],
  };
}

function runForwarder(input: string, args: string[]) {
  const result = spawnSync('bash', [script, '--dry-run', ...args], { input, encoding: 'utf8', timeout: 20_000 });
  if (result.error) {
    throw new Error(`running ${script} failed: ${result.error.message}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('trivy-forwarder.sh', () => {
  const report = trivyReport([
    vulnerability('CVE-2024-0001', 'CRITICAL', '3.0.13'),
    vulnerability('CVE-2024-0002', 'HIGH'),
    vulnerability('CVE-2024-0003', 'LOW'),
  ]);

  it('builds a generic alert the intake parses', () => {
    const result = runForwarder(JSON.stringify(report), [
      '--namespace',
      'shop-prod',
      '--workload',
      'Deployment/checkout-api',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);

    const [alert] = parseGenericBody(result.stdout, 'json');
    expect(alert?.source).toBe('generic');
    expect(alert?.rule).toBe('Vulnerable image: critical findings');
    expect(alert?.priority).toBe('Critical');
    expect(alert?.eventTime).toBe('2026-11-02T10:11:12.123456789Z');
    expect(alert?.target).toEqual({ namespace: 'shop-prod', workload: 'Deployment/checkout-api', image: imageDigest });
    expect(alert?.fields).toMatchObject({
      detector: 'trivy',
      'trivy.critical': 1,
      'trivy.high': 1,
      'trivy.fixable': 1,
      'trivy.vulnerabilities': 'CVE-2024-0001,CVE-2024-0002',
    });
    expect(alert?.id).toMatch(/^trivy-[0-9a-f]{32}$/);
  });

  it('matches the shipped untrusted-image playbook', async () => {
    const [alert] = parseGenericBody(runForwarder(JSON.stringify(report), []).stdout, 'json');
    if (alert === undefined) {
      throw new Error('the forwarder printed no alert');
    }
    const playbooks = await loadPlaybooks(join(__dirname, '..', '..', 'playbooks'));
    expect(selectPlaybook(alert, playbooks).playbook.metadata.name).toBe('untrusted-image');
  });

  it('keeps the alert id for the same findings', () => {
    const first = parseGenericBody(runForwarder(JSON.stringify(report), []).stdout, 'json')[0];
    const again = parseGenericBody(runForwarder(JSON.stringify(report), []).stdout, 'json')[0];
    const changed = trivyReport([vulnerability('CVE-2024-0001', 'CRITICAL'), vulnerability('CVE-2024-0004', 'HIGH')]);
    const other = parseGenericBody(runForwarder(JSON.stringify(changed), []).stdout, 'json')[0];
    expect(again?.id).toBe(first?.id);
    expect(other?.id).not.toBe(first?.id);
  });

  it('maps high findings to priority Error', () => {
    const highOnly = trivyReport([vulnerability('CVE-2024-0002', 'HIGH')]);
    const [alert] = parseGenericBody(runForwarder(JSON.stringify(highOnly), []).stdout, 'json');
    expect(alert?.rule).toBe('Vulnerable image: high findings');
    expect(alert?.priority).toBe('Error');
  });

  it('sends nothing below the minimum severity', () => {
    const result = runForwarder(JSON.stringify(report), ['--min-severity', 'CRITICAL']);
    const [alert] = parseGenericBody(result.stdout, 'json');
    expect(alert?.fields['trivy.high']).toBe(0);

    const lowOnly = runForwarder(JSON.stringify(trivyReport([vulnerability('CVE-2024-0003', 'LOW')])), []);
    expect(lowOnly.status).toBe(0);
    expect(lowOnly.stdout).toBe('');
    expect(lowOnly.stderr).toContain('nothing sent');
  });

  it('rejects input that is not a Trivy report', () => {
    const result = runForwarder('{"hello": "world"}', []);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('not a Trivy JSON report');
  });

  it('carries attacker text as data', () => {
    const hostile = trivyReport([
      { ...vulnerability('CVE-2024-0001', 'CRITICAL'), Title: '<!channel> $(touch /tmp/x) `id`' },
    ]);
    const hostileArtifact = { ...hostile, ArtifactName: 'evil"; rm -rf / #:1' };
    const [alert] = parseGenericBody(runForwarder(JSON.stringify(hostileArtifact), []).stdout, 'json');
    expect(alert?.fields['trivy.artifact']).toBe('evil"; rm -rf / #:1');
    expect(alert?.output).toContain('evil"; rm -rf / #:1');
  });
});
