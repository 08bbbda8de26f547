import { alertSchema, type Alert } from '../../domain/alert';
import { playbookSchema, type Playbook, type PlaybookInput } from '../../domain/playbook';

/** Small valid playbooks and alerts for the playbook tests. */

type GatePolicyInput = PlaybookInput['gates']['isolate']['P0'];

export function sameAtEverySeverity(policy: GatePolicyInput): PlaybookInput['gates']['isolate'] {
  return { P0: policy, P1: policy, P2: policy, P3: policy };
}

/** A valid playbook input: isolation asks U100 for 15 minutes, escalation and restore are skipped. */
export function playbookInput(name: string, match: PlaybookInput['match'] = {}): PlaybookInput {
  return {
    apiVersion: 'firebreak.dev/v1',
    kind: 'Playbook',
    metadata: { name, version: 1, description: `Test playbook ${name}.`, rationale: 'Test rationale.' },
    match,
    severity: { default: 'P2' },
    gates: {
      isolate: sameAtEverySeverity({ mode: 'ask', approvers: ['U100'], deadline: '15m', onTimeout: 'reject' }),
      escalate: sameAtEverySeverity({ mode: 'skip' }),
      restore: sameAtEverySeverity({ mode: 'skip' }),
    },
    containment: [{ action: 'quarantine' }],
    evidence: ['pod', 'alerts'],
  };
}

export function playbook(name: string, match: PlaybookInput['match'] = {}): Playbook {
  return playbookSchema.parse(playbookInput(name, match));
}

export interface AlertOptions {
  rule?: string;
  source?: Alert['source'];
  priority?: Alert['priority'];
  priorityRecognised?: boolean;
  severityHint?: Alert['severityHint'];
  namespace?: string;
  node?: string;
  tags?: string[];
  fields?: Alert['fields'];
}

export function alert(options: AlertOptions = {}): Alert {
  return alertSchema.parse({
    id: 'test-alert',
    source: options.source ?? 'falco',
    rule: options.rule ?? 'Terminal shell in container',
    priority: options.priority ?? 'Notice',
    priorityRecognised: options.priorityRecognised ?? true,
    severityHint: options.severityHint,
    eventTime: '2026-03-14T14:32:07.418239105Z',
    tags: options.tags ?? [],
    mitre: { techniques: [], tactics: [] },
    target: { namespace: options.namespace ?? 'shop-prod', pod: 'checkout-api-7c9d5f6b8-x2lqp', node: options.node },
    process: {},
    fields: options.fields ?? {},
    hostScoped: false,
  });
}
