import {
  putText,
  recordProblem,
  recordText,
  type ArtefactRef,
  type CollectContext,
  type LineRedactorFactory,
  type PutText,
} from './artefacts';
import { runExec, type ExecOutcome } from './exec-runner';
import { heartbeat } from './identity';
import { sourceOf, type Pod } from './kube-objects';
import { environmentLineRedactor, textLineRedactor } from './line-redactor';
import { redactText } from './redact';
import { redactArguments } from './redact-command';

export const EXEC_COLLECTOR = { name: 'collect-exec', version: '1' };

/** One piece of live evidence and the commands that can produce it, best first. */
export interface ExecPlan {
  name: string;
  /** Each attempt is tried only when the one before it could not run (its binary is missing). */
  attempts: string[][];
  /** `environment` redacts `NAME=value` entries by name; `text` redacts tokens in free text. */
  redaction: 'text' | 'environment';
}

export interface ExecPlanOptions {
  /** Directory searched for recently changed files; `/` in a real container. */
  fileChangeRoot?: string;
  fileChangeWindowMin?: number;
}

const PROC_PROCESSES =
  'for d in /proc/[0-9]*; do printf "%s " "${d#/proc/}"; cat "$d/cmdline" 2>/dev/null | tr "\\000" " "; echo; done';
const PROC_SOCKETS =
  'for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do echo "== $f"; cat "$f"; done';

/** Process list, open connections, recent file changes and PID 1's environment, with /proc fallbacks. */
export function defaultExecPlans(options: ExecPlanOptions = {}): ExecPlan[] {
  const root = options.fileChangeRoot ?? '/';
  const minutes = `-${options.fileChangeWindowMin ?? 60}`;
  return [
    {
      name: 'processes',
      attempts: [
        ['ps', '-ef'],
        ['sh', '-c', PROC_PROCESSES],
      ],
      redaction: 'text',
    },
    {
      name: 'connections',
      attempts: [
        ['ss', '-tunap'],
        ['netstat', '-tunap'],
        ['sh', '-c', PROC_SOCKETS],
        ['cat', '/proc/net/tcp', '/proc/net/tcp6'],
      ],
      redaction: 'text',
    },
    {
      name: 'file-changes',
      attempts: [
        ['find', root, '-xdev', '-type', 'f', '-mmin', minutes, '-not', '-path', '/proc/*', '-not', '-path', '/sys/*'],
        ['ls', '-laRt', root],
      ],
      redaction: 'text',
    },
    { name: 'environment', attempts: [['cat', '/proc/1/environ']], redaction: 'environment' },
  ];
}

/** True when the command could not start because its binary is missing or not executable. */
export function binaryMissing(outcome: ExecOutcome): boolean {
  if (outcome.exitCode === 126 || outcome.exitCode === 127) return true;
  const text = `${outcome.message ?? ''} ${outcome.stderr}`;
  return outcome.status === 'Failure' && outcome.exitCode === null && /not found|no such file|executable/i.test(text);
}

/** Interval of the heartbeats sent while exec commands run, well below any sensible heartbeat timeout. */
const EXEC_HEARTBEAT_INTERVAL_MS = 5_000;

/** Time left in the run's exec budget, shared by every command of one `collectExec` call. */
interface ExecBudget {
  deadlineAtMs: number;
  totalMs: number;
}

const remainingMs = (budget: ExecBudget) => budget.deadlineAtMs - Date.now();

/**
 * Runs every plan in every container of the pod and stores each output as one artefact. All commands share
 * `limits.execBudgetMs`: each runs with the smaller of its own deadline and the time left, and the plans not
 * started when the budget is spent are recorded as skipped in `collection-errors`. The activity heartbeats
 * every EXEC_HEARTBEAT_INTERVAL_MS while commands run.
 */
export async function collectExec(ctx: CollectContext, pod: Pod, plans: ExecPlan[]): Promise<ArtefactRef[]> {
  const budget: ExecBudget = { deadlineAtMs: Date.now() + ctx.limits.execBudgetMs, totalMs: ctx.limits.execBudgetMs };
  const refs: ArtefactRef[] = [];
  const skipped: string[] = [];
  const timer = setInterval(() => heartbeat('collecting exec'), EXEC_HEARTBEAT_INTERVAL_MS);
  try {
    for (const container of pod.spec.containers) {
      for (const plan of plans) {
        if (remainingMs(budget) <= 0) {
          skipped.push(`exec/${container.name}/${plan.name}`);
          continue;
        }
        heartbeat(`exec/${container.name}/${plan.name}`);
        refs.push(...(await collectPlan(ctx, pod, container.name, plan, budget)));
      }
    }
  } finally {
    clearInterval(timer);
  }
  if (skipped.length > 0) recordSkipped(ctx, skipped, budget);
  return refs;
}

/** Most skipped artefact names listed in the problem message, so `collection-errors` stays small. */
const MAX_SKIPPED_NAMES = 10;

function recordSkipped(ctx: CollectContext, skipped: string[], budget: ExecBudget): void {
  const listed = skipped.slice(0, MAX_SKIPPED_NAMES).join(', ');
  const more = skipped.length > MAX_SKIPPED_NAMES ? ` and ${skipped.length - MAX_SKIPPED_NAMES} more` : '';
  recordProblem(ctx, {
    kind: 'exec',
    step: 'exec time budget',
    type: 'ExecBudgetSpent',
    message:
      `skipped ${skipped.length} exec artefact(s) for lack of time, because the exec budget of ${budget.totalMs} ms ` +
      `was spent: ${listed}${more}; raise limits.execBudgetMs to collect them`,
  });
}

async function collectPlan(
  ctx: CollectContext,
  pod: Pod,
  container: string,
  plan: ExecPlan,
  budget: ExecBudget,
): Promise<ArtefactRef[]> {
  const redactor: LineRedactorFactory =
    plan.redaction === 'environment'
      ? () => environmentLineRedactor(ctx.secretEnv)
      : () => textLineRedactor(ctx.secretEnv);
  const attempts: ExecOutcome[] = [];
  let last: { put: PutText; outcome: ExecOutcome } | undefined;
  for (const command of plan.attempts) {
    const deadlineMs = Math.min(ctx.limits.execDeadlineMs, remainingMs(budget));
    if (deadlineMs <= 0) break;
    last = await runAndStore(ctx, pod, container, command, redactor, deadlineMs);
    attempts.push(last.outcome);
    if (!binaryMissing(last.outcome)) break;
  }
  if (!last) return [];

  return recordText(ctx, last.put, {
    name: `exec/${container}/${plan.name}`,
    contentType: 'text/plain; charset=utf-8',
    source: { ...sourceOf('Pod', pod), container },
    collector: EXEC_COLLECTOR,
    incomplete: !last.outcome.complete,
    details: { attempts: attempts.map((attempt) => describeAttempt(attempt, ctx)) },
  });
}

async function runAndStore(
  ctx: CollectContext,
  pod: Pod,
  container: string,
  command: string[],
  redactor: LineRedactorFactory,
  deadlineMs: number,
): Promise<{ put: PutText; outcome: ExecOutcome }> {
  const maxBytes = ctx.limits.maxArtefactBytes;
  const exec = runExec(ctx.kubeConfig, {
    namespace: pod.metadata.namespace ?? ctx.target.namespace,
    pod: pod.metadata.name,
    container,
    command,
    deadlineMs,
    maxStdoutBytes: maxBytes,
  });
  const [put, outcome] = await Promise.all([putText(ctx, exec.stdout, maxBytes, redactor), exec.outcome]);
  return { put, outcome };
}

/**
 * Describes one attempt for the custody record. The command line gets the redaction that the artefact copies
 * get, argument by argument and then as free text. Standard error is redacted and cut to keep the entry small.
 */
function describeAttempt(outcome: ExecOutcome, ctx: CollectContext): Record<string, unknown> {
  return {
    command: redactArguments(outcome.command).argv.map((argument) => redactText(argument, ctx.secretEnv)),
    status: outcome.status,
    exitCode: outcome.exitCode,
    complete: outcome.complete,
    durationMs: outcome.durationMs,
    ...(outcome.message ? { message: redactText(outcome.message, ctx.secretEnv).slice(0, 300) } : {}),
    ...(outcome.stderr ? { stderr: redactText(outcome.stderr, ctx.secretEnv).slice(0, 500) } : {}),
  };
}
