import { playbookSchema, type Playbook, type PlaybookInput } from './playbook';

/**
 * The built-in triage playbook, for alerts that no playbook claims. It collects evidence and asks a
 * person at every gate; a gate left unanswered rejects, so it never changes a workload on its own.
 * `playbooks/triage.yaml` carries the same content for people to read and adapt.
 */
const triageInput: PlaybookInput = {
  apiVersion: 'firebreak.dev/v1',
  kind: 'Playbook',
  metadata: {
    name: 'triage',
    version: 1,
    description: 'Default response for alerts that no other playbook claims.',
    rationale:
      'Nobody has decided how to respond to this class of alert, so Firebreak collects evidence and asks a person. ' +
      'It never isolates or restores on its own, and an unanswered gate rejects.',
  },
  match: {},
  severity: {
    default: 'P3',
    reason: 'An alert without a playbook counts as limited in scope until a person has looked at it.',
    rules: [
      {
        when: { priorityAtLeast: 'Critical' },
        severity: 'P2',
        reason: 'The sender rates the event Critical or worse, so it gets the clock of one affected application.',
      },
    ],
  },
  gates: {
    isolate: {
      P0: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '15m', onTimeout: 'reject' },
      P1: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '30m', onTimeout: 'reject' },
      P2: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '1h', onTimeout: 'reject' },
      P3: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '4h', onTimeout: 'reject' },
    },
    escalate: {
      P0: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '15m', onTimeout: 'approve' },
      P1: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '30m', onTimeout: 'approve' },
      P2: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '1h', onTimeout: 'reject' },
      P3: { mode: 'skip' },
    },
    restore: {
      P0: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '24h', onTimeout: 'reject' },
      P1: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '24h', onTimeout: 'reject' },
      P2: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '24h', onTimeout: 'reject' },
      P3: { mode: 'ask', approverGroups: ['S0SECURITY'], deadline: '24h', onTimeout: 'reject' },
    },
  },
  containment: [{ action: 'quarantine', allowEgress: [{ dns: true }] }],
  evidence: ['pod', 'owners', 'node', 'events', 'network-policies', 'logs', 'alerts'],
  escalation: {
    target: 'pagerduty',
    url: 'https://events.pagerduty.com/v2/enqueue',
    routingKeyEnv: 'FIREBREAK_PAGERDUTY_ROUTING_KEY',
  },
  restore: { quietPeriod: '30m', trustedDigestSource: 'person', watchPeriod: '24h' },
  notify: { slackChannel: '#sec-incidents' },
  dryRun: false,
};

/** The playbook that applies when no other playbook claims an alert. */
export const builtinTriagePlaybook: Playbook = playbookSchema.parse(triageInput);
