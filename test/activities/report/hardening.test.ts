import { findHardeningIssues } from '../../../activities/report/hardening';

const ids = (pod: unknown) =>
  (findHardeningIssues(pod) ?? []).map((finding) => `${finding.container ?? 'pod'}:${finding.id}`);

describe('findHardeningIssues', () => {
  test('flags every weakness of a permissive pod', () => {
    const pod = {
      spec: {
        hostPID: true,
        hostNetwork: true,
        volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }],
        containers: [
          {
            name: 'app',
            image: 'registry.example/shop/checkout:1.4.2',
            securityContext: { runAsUser: 0, privileged: true, capabilities: { add: ['SYS_ADMIN', 'NET_RAW'] } },
          },
        ],
      },
    };
    expect(ids(pod).sort()).toEqual(
      [
        'pod:hostPID',
        'pod:hostNetwork',
        'pod:hostPath',
        'app:runsAsRoot',
        'app:privileged',
        'app:writableRootFilesystem',
        'app:addedCapabilities',
        'app:imageWithoutDigest',
        'app:missingResourceLimits',
      ].sort(),
    );
  });

  test('finds nothing in a hardened pod', () => {
    const pod = {
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 10001 },
        containers: [
          {
            name: 'app',
            image: `registry.example/shop/checkout@sha256:${'b'.repeat(64)}`,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
            resources: { limits: { cpu: '500m', memory: '256Mi' } },
          },
        ],
      },
    };
    expect(ids(pod)).toEqual([]);
  });

  test('names the missing limit', () => {
    const pod = { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '1' } } }] } };
    const finding = findHardeningIssues(pod)?.find((candidate) => candidate.id === 'missingResourceLimits');
    expect(finding?.title).toBe('has no memory limit');
  });

  test('returns undefined without a pod spec', () => {
    expect(findHardeningIssues({ kind: 'Pod' })).toBeUndefined();
  });
});
