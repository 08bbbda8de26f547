import { ApplicationFailure } from '@temporalio/common';
import type { FirebreakActivities, TargetRef } from '../../../domain/response';

/**
 * Recording doubles of Firebreak's own activities, for tests of the workflow's paths. Each records its
 * name and input and returns a result shaped like the real activity's. The real Kubernetes, evidence and
 * Slack activities are tested against the real servers by their own tests; the worker crash test runs
 * the workflow with the real Kubernetes activities.
 */

export interface RecordedCall {
  activity: string;
  input: Record<string, unknown>;
}

export interface RecordingOptions {
  /** `unresolved` makes resolveTarget report an unresolvable target. */
  target?: 'resolved' | 'unresolved';
  /** Activities that fail with a non-retryable error. */
  failing?: string[];
  /** Fails a call with a non-retryable `KubernetesForbidden` when this returns true. */
  failWhen?: (call: RecordedCall) => boolean;
  /** Makes resolveTarget report an unresolvable target for the incidents it returns true for. */
  unresolvedWhen?: (incidentId: string) => boolean;
  /** Milliseconds that an activity takes before it returns. */
  delaysMs?: Record<string, number>;
}

export const recordedTarget: TargetRef = {
  namespace: 'shop-prod',
  pod: 'checkout-7d9f8b6c5-x2k4q',
  uid: '0b6d3c1e-8f2a-4c55-9d1e-3a7b2c9e4f10',
  resourceVersion: '4711',
  node: 'kwok-node-0',
  serviceAccount: 'checkout',
  owners: [{ kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5', uid: 'a1b2c3d4-0000-4000-8000-000000000001' }],
  workload: { kind: 'Deployment', name: 'checkout' },
  images: [{ container: 'app', image: 'registry.example/shop/checkout:1.4.2' }],
  labels: { app: 'checkout' },
};

export function recordingActivities(options: RecordingOptions = {}) {
  const calls: RecordedCall[] = [];
  const failing = new Set(options.failing ?? []);
  const recorded = <T>(activity: string, result: (input: Record<string, unknown>) => T) => {
    return async (input: unknown): Promise<T> => {
      const fields = typeof input === 'object' && input !== null ? { ...input } : { value: input };
      const call = { activity, input: fields };
      calls.push(call);
      const delayMs = options.delaysMs?.[activity];
      if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (failing.has(activity) || options.failWhen?.(call) === true) {
        throw ApplicationFailure.create({
          message: `${activity} failed in the test`,
          type: 'KubernetesForbidden',
          nonRetryable: true,
        });
      }
      return result(fields);
    };
  };
  const ref = { channel: 'C0000SOC1', ts: '1710000000.000100' };

  const activities: FirebreakActivities = {
    resolveTarget: recorded('resolveTarget', (input) => {
      const namespace = typeof input['namespace'] === 'string' ? input['namespace'] : recordedTarget.namespace;
      const pod = typeof input['pod'] === 'string' ? input['pod'] : recordedTarget.pod;
      const unresolved = options.target === 'unresolved' || options.unresolvedWhen?.(String(input['incidentId']));
      return unresolved
        ? { status: 'unresolved' as const, reason: `pod ${pod} not found in namespace ${namespace}` }
        : { status: 'resolved' as const, target: { ...recordedTarget, namespace, pod } };
    }),
    quarantinePod: recorded('quarantinePod', (input) => ({
      policyName: `firebreak-quarantine-${String(input['incidentId']).replace(/^incident-/, '')}`,
      isolation: 'complete' as const,
      allowingPolicies: [],
      dryRun: input['dryRun'] === true,
    })),
    releasePodQuarantine: recorded('releasePodQuarantine', () => ({ released: true })),
    detachPod: recorded('detachPod', () => ({ removedLabels: { app: 'checkout' } })),
    reattachPod: recorded('reattachPod', () => ({ reattached: true })),
    cordonNode: recorded('cordonNode', () => ({ wasUnschedulable: false })),
    uncordonNode: recorded('uncordonNode', () => ({ uncordoned: true })),
    drainNode: recorded('drainNode', () => ({ evicted: [], skipped: [], blocked: [], complete: true })),
    deletePod: recorded('deletePod', () => ({ deleted: true, standalone: false })),
    scaleWorkload: recorded('scaleWorkload', () => ({ previousReplicas: 3 })),
    pauseRollout: recorded('pauseRollout', () => ({})),
    resumeRollout: recorded('resumeRollout', () => ({})),
    restoreWorkload: recorded('restoreWorkload', () => ({})),
    collectEvidence: recorded('collectEvidence', (input) => ({
      manifestPath: `/var/lib/firebreak/evidence/${String(input['incidentId'])}/manifest.jsonl`,
      artefacts: [{ name: 'pod.json', sha256: 'a'.repeat(64), bytes: 2048 }],
    })),
    storeAlertBodies: recorded('storeAlertBodies', (input) => ({
      manifestPath: `/var/lib/firebreak/evidence/${String(input['incidentId'])}/manifest.jsonl`,
      artefacts: [{ name: 'alerts/0123456789abcdef', sha256: 'b'.repeat(64), bytes: 900 }],
    })),
    writeIncidentReport: recorded('writeIncidentReport', (input) => ({
      markdownPath: `/var/lib/firebreak/reports/${String(input['incidentId'])}.md`,
      jsonPath: `/var/lib/firebreak/reports/${String(input['incidentId'])}.json`,
    })),
    selectPlaybook: recorded('selectPlaybook', () => {
      throw ApplicationFailure.create({ message: 'tests pin the playbook in the input', nonRetryable: true });
    }),
    resolveApproverGroups: recorded('resolveApproverGroups', () => ({ approvers: ['U0GROUPMEMBER'], groups: [] })),
    postGateMessage: recorded('postGateMessage', () => ref),
    updateGateMessage: recorded('updateGateMessage', () => ({})),
    postGateReminder: recorded('postGateReminder', () => ref),
    postGateEscalation: recorded('postGateEscalation', () => ref),
    escalateIncident: recorded('escalateIncident', (input) => ({
      status: 'success',
      dedupKey: String(input['dedupKey']),
    })),
  };

  const callsOf = (activity: string) => calls.filter((call) => call.activity === activity);
  return { activities, calls, callsOf };
}
