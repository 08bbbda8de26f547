import type { IncidentRecord } from '../../domain/response';

/** One recovery step: a containment step undone, or a restore step of the recover phase. */
export interface RecoveryStep {
  /** Inverse activity (`releasePodQuarantine`, `reattachPod`, …), or `restore` for a step of the recover phase. */
  action: string;
  summary: string;
  /** Absent for an inverse that has not run yet. */
  at?: string;
  status: 'done' | 'failed' | 'pending' | 'kept';
  error?: string;
}

/**
 * Lists the recovery steps of an incident: the inverse of every containment step that has one, then the
 * steps and errors that the timeline shows between entering the recover phase and closing, such as a
 * rollout on the trusted image. Timeline entries that an inverse wrote (they start with its activity name)
 * are left out, because the inverse rows already show them.
 */
export function recoverySteps(record: IncidentRecord): RecoveryStep[] {
  const undone: RecoveryStep[] = record.containment.flatMap((step) => {
    const { inverse } = step;
    if (inverse.status === 'not_needed') return [];
    return [
      {
        action: inverse.activity ?? `undo ${step.step}`,
        summary: `undoes ${step.step}: ${step.summary}`,
        ...(inverse.at === undefined ? {} : { at: inverse.at }),
        status: inverse.status,
        ...(inverse.error === undefined ? {} : { error: inverse.error }),
      },
    ];
  });

  const recoverAt = record.phaseTimes.recover;
  if (recoverAt === undefined) return undone;
  const closedMs = Date.parse(record.phaseTimes.closed ?? record.closedAt ?? '');
  const activities = undone.map((step) => `${step.action} `);
  const restore: RecoveryStep[] = record.timeline
    .filter((entry) => entry.kind === 'step' || entry.kind === 'error')
    .filter((entry) => Date.parse(entry.at) > Date.parse(recoverAt))
    .filter((entry) => Number.isNaN(closedMs) || Date.parse(entry.at) < closedMs)
    .filter((entry) => !activities.some((prefix) => entry.summary.startsWith(prefix)))
    .map((entry) => ({
      action: 'restore',
      summary: entry.summary,
      at: entry.at,
      status: entry.kind === 'error' ? 'failed' : 'done',
    }));
  return [...undone, ...restore];
}
