import { randomBytes, randomUUID } from 'node:crypto';
import { alertSchema, type Alert } from '../../../domain/alert';
import type { AlertBatch } from '../../../domain/incident';
import { playbookSchema, type Playbook, type PlaybookInput } from '../../../domain/playbook';

/** Playbooks and alerts for the incident workflow tests: short deadlines, known approvers. */

export const approvers = ['U0APPROVER1', 'U0APPROVER2', 'alice'];
export const outsider = 'U0OUTSIDER';
export const trustedDigest = `sha256:${'c'.repeat(64)}`;

type GatesInput = PlaybookInput['gates'];
type GatePolicyInput = GatesInput['isolate']['P0'];

export function everySeverity(policy: GatePolicyInput): GatesInput['isolate'] {
  return { P0: policy, P1: policy, P2: policy, P3: policy };
}

/** A gate that asks the test approvers and waits `deadline`. */
export function ask(deadline: string, onTimeout: 'approve' | 'reject', extra: Partial<GatePolicyInput> = {}) {
  return { mode: 'ask' as const, approvers, deadline, onTimeout, forbidTriggerer: false, ...extra };
}

/**
 * A playbook where every gate asks the test approvers with `deadline`; quarantine isolates, scaling to
 * zero eradicates, and restore rolls nothing out. Overrides replace whole sections.
 */
export function testPlaybook(overrides: Partial<PlaybookInput> = {}, deadline = '1h'): Playbook {
  const input: PlaybookInput = {
    apiVersion: 'firebreak.dev/v1',
    kind: 'Playbook',
    metadata: { name: 'workflow-test', version: 3, description: 'Workflow test playbook.', rationale: 'Tests.' },
    match: { rules: ['Terminal shell in container'] },
    severity: {
      default: 'P2',
      reason: 'one application',
      rules: [{ when: { priorityAtLeast: 'Critical' }, severity: 'P0', reason: 'critical alert' }],
    },
    gates: {
      isolate: everySeverity(ask(deadline, 'approve')),
      escalate: everySeverity(ask(deadline, 'reject')),
      restore: everySeverity(ask(deadline, 'approve')),
    },
    containment: [{ action: 'quarantine' }, { action: 'scale-to-zero' }],
    evidence: ['pod', 'logs', 'alerts'],
    escalation: {
      target: 'pagerduty',
      url: 'http://127.0.0.1:9/v2/enqueue',
      routingKeyEnv: 'FIREBREAK_TEST_ROUTING_KEY',
    },
    restore: {
      quietPeriod: '1s',
      watchPeriod: '1ms',
      trustedDigestSource: 'playbook',
      trustedImages: { 'registry.example/shop/checkout': trustedDigest },
    },
    ...overrides,
  };
  return playbookSchema.parse(input);
}

export interface AlertOptions {
  rule?: string;
  priority?: Alert['priority'];
  status?: Alert['status'];
  namespace?: string;
  pod?: string;
  user?: string;
  id?: string;
  source?: Alert['source'];
  output?: string;
  rawEvent?: string;
}

export function testAlert(options: AlertOptions = {}): Alert {
  return alertSchema.parse({
    id: options.id ?? randomUUID(),
    source: options.source ?? 'falco',
    rule: options.rule ?? 'Terminal shell in container',
    priority: options.priority ?? 'Notice',
    eventTime: new Date().toISOString(),
    status: options.status ?? 'firing',
    output: options.output ?? 'A shell was spawned in a container with an attached terminal',
    rawEvent: options.rawEvent,
    tags: ['container', 'mitre_execution', 'shell', 'T1059'],
    mitre: { techniques: ['T1059'], tactics: ['execution'] },
    target: {
      namespace: options.namespace ?? 'shop-prod',
      pod: options.pod ?? 'checkout-7d9f8b6c5-x2k4q',
      node: 'kwok-node-0',
    },
    process: { name: 'bash', cmdline: 'bash -i' },
    user: options.user,
    fields: {},
    hostScoped: false,
  });
}

export function batchOf(alerts: Alert[], extra: Partial<AlertBatch> = {}): AlertBatch {
  return { alerts, count: alerts.length, redeliveries: 0, receivedAt: new Date().toISOString(), ...extra };
}

/** Returns a fresh 16-hex-digit fingerprint, so every test has its own incident. */
export function newFingerprint(): string {
  return randomBytes(8).toString('hex');
}
