import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { repoRoot } from '../../tools/lab/binaries';
import { labOperator, writeLabPlaybooks } from '../../tools/lab/playbooks';
import { playbookSchema, type Playbook } from '../../domain/playbook';

/** The identity that benchmark decisions use; the lab playbooks list it as an approver of every asked gate. */
export const benchOperator = labOperator;

/**
 * Writes the playbooks of the automatic-isolation benchmarks. They are the lab copy of the shipped playbooks
 * (isolation automatic, `lab-operator` approves the other gates) with `terminal-shell` raised to P0 for every
 * alert. So a terminal shell takes the P0 path: isolate without asking, then wait at the escalate gate.
 */
export function writeP0Playbooks(dir: string): string {
  writeLabPlaybooks(join(repoRoot, 'playbooks'), dir);
  const file = join(dir, 'terminal-shell.yaml');
  const document = parseDocument(readFileSync(file, 'utf8'));
  document.setIn(['severity', 'default'], 'P0');
  document.setIn(['severity', 'reason'], 'Benchmark copy: every terminal shell is treated as P0.');
  document.setIn(['severity', 'rules'], document.createNode([]));
  writeFileSync(file, document.toString());
  return dir;
}

/** Writes the lab playbooks unchanged (terminal shell at P2, isolation automatic). */
export function writeLabCopy(dir: string): string {
  return writeLabPlaybooks(join(repoRoot, 'playbooks'), dir);
}

/**
 * A playbook given in the workflow input, for incidents that a benchmark starts without the intake: the
 * isolate gate waits up to one day for `benchOperator` (or the given approvers), and no Slack channel is set unless given.
 */
export function askingPlaybook(options: { slackChannel?: string; approvers?: string[]; evidence?: boolean }): Playbook {
  const ask = {
    mode: 'ask' as const,
    approvers: options.approvers ?? [benchOperator],
    deadline: '24h',
    onTimeout: 'reject' as const,
  };
  const every = <T>(policy: T) => ({ P0: policy, P1: policy, P2: policy, P3: policy });
  return playbookSchema.parse({
    apiVersion: 'firebreak.dev/v1',
    kind: 'Playbook',
    metadata: {
      name: 'bench-asking',
      version: 1,
      description: 'Asks a person before isolating.',
      rationale: 'Benchmark incidents that wait at the isolate gate.',
    },
    match: { rules: ['Terminal shell in container'] },
    severity: { default: 'P2', reason: 'one application' },
    gates: { isolate: every(ask), escalate: every({ mode: 'skip' }), restore: every(ask) },
    containment: [{ action: 'quarantine', allowEgress: [{ dns: true }] }],
    evidence: options.evidence === true ? ['pod', 'alerts'] : [],
    restore: { quietPeriod: '1h', watchPeriod: '1h' },
    notify: options.slackChannel === undefined ? {} : { slackChannel: options.slackChannel },
    dryRun: false,
  });
}
