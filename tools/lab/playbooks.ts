import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

/** The identity that `firebreak decide` uses in the lab, added to every gate's approvers there. */
export const labOperator = 'lab-operator';

/** Quiet period of the lab playbooks, short so a demo reaches the restore gate in seconds. */
export const labQuietPeriod = '20s';
/** Heightened watch after restore in the lab playbooks. */
export const labWatchPeriod = '30s';

export interface LabPlaybookOptions {
  /** Escalation webhook URL that replaces every playbook's, such as a local PagerDuty stand-in. */
  escalationUrl?: string;
  quietPeriod?: string;
  watchPeriod?: string;
}

/**
 * Writes the lab's copy of the shipped playbooks: isolation is automatic (except in triage), `lab-operator` may
 * decide every other gate, the quiet period is 20 s and the watch 30 s, and escalation goes to
 * `escalationUrl` when given. A sample alert is then contained at once and the CLI can walk the rest of the
 * incident in about a minute. The shipped files are not changed.
 */
export function writeLabPlaybooks(sourceDir: string, targetDir: string, options: LabPlaybookOptions = {}): string {
  mkdirSync(targetDir, { recursive: true });
  for (const file of readdirSync(sourceDir).filter((name) => name.endsWith('.yaml'))) {
    const document = parseDocument(readFileSync(join(sourceDir, file), 'utf8'));
    // The triage playbook matches every alert, and such a playbook may never isolate on its own.
    const autoIsolate = document.getIn(['metadata', 'name']) !== 'triage';
    for (const gate of ['isolate', 'escalate', 'restore']) {
      for (const severity of ['P0', 'P1', 'P2', 'P3']) {
        adjustGate(document, gate, severity, autoIsolate);
      }
    }
    if (document.hasIn(['restore'])) {
      document.setIn(['restore', 'quietPeriod'], options.quietPeriod ?? labQuietPeriod);
      document.setIn(['restore', 'watchPeriod'], options.watchPeriod ?? labWatchPeriod);
    }
    if (options.escalationUrl !== undefined && document.hasIn(['escalation'])) {
      document.setIn(['escalation', 'url'], options.escalationUrl);
    }
    writeFileSync(join(targetDir, file), document.toString());
  }
  return targetDir;
}

function adjustGate(
  document: ReturnType<typeof parseDocument>,
  gate: string,
  severity: string,
  autoIsolate: boolean,
): void {
  const path = ['gates', gate, severity];
  const mode = document.getIn([...path, 'mode']);
  if (mode === undefined || mode === 'skip') {
    return;
  }
  if (gate === 'isolate' && autoIsolate) {
    document.setIn(path, document.createNode({ mode: 'auto' }));
    return;
  }
  if (mode === 'ask') {
    const approvers = document.getIn([...path, 'approvers']);
    const list =
      approvers && typeof approvers === 'object' && 'toJSON' in approvers ? (approvers.toJSON() as unknown[]) : [];
    document.setIn([...path, 'approvers'], document.createNode([...list, labOperator]));
  }
}
