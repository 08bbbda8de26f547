import type { Severity } from './alert';
import { isValidDuration, parseDurationMs } from './duration';
import type { Playbook } from './playbook';

/** Settings that are valid but probably not what the author meant; validation reports them without failing. */

export interface PlaybookWarning {
  path: (string | number)[];
  message: string;
}

const severities: readonly Severity[] = ['P0', 'P1', 'P2', 'P3'];

/** Returns the warnings for a parsed playbook. */
export function playbookWarnings(playbook: Playbook): PlaybookWarning[] {
  const warnings: PlaybookWarning[] = [];

  for (const gate of ['isolate', 'escalate', 'restore'] as const) {
    for (const severity of severities) {
      const policy = playbook.gates[gate][severity];
      if (policy.mode === 'ask' && policy.approvers.length === 0 && policy.approverGroups.length === 0) {
        warnings.push({
          path: ['gates', gate, severity],
          message:
            `nobody may approve the ${gate} gate at ${severity} because approvers and approverGroups are empty, ` +
            `so it always ends with onTimeout (${policy.onTimeout}) after ${policy.deadline}`,
        });
      }
    }
  }

  const isolateCanRun = severities.some((severity) => playbook.gates.isolate[severity].mode !== 'skip');
  if (isolateCanRun && playbook.containment.length === 0) {
    warnings.push({
      path: ['containment'],
      message: 'the isolate gate can approve isolation, but containment lists no steps',
    });
  }

  const { watchPeriod } = playbook.restore;
  if (isValidDuration(watchPeriod) && parseDurationMs(watchPeriod) === 0) {
    warnings.push({
      path: ['restore', 'watchPeriod'],
      message:
        'watchPeriod 0s turns off the heightened watch after restore, so the incident closes as soon as the workload is restored',
    });
  }

  const url = playbook.escalation?.url;
  if (url !== undefined && url.startsWith('http:') && !isLoopbackUrl(url)) {
    warnings.push({
      path: ['escalation', 'url'],
      message: `escalation url ${url} uses plain http, so the routing key travels unencrypted; use https`,
    });
  }

  return warnings;
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
