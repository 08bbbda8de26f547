import { ApplicationFailure } from '@temporalio/common';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { alertSchema } from '../domain/alert';
import type { Playbook } from '../domain/playbook';
import { classifySeverity, selectPlaybook } from '../domain/playbook-match';
import { builtinTriagePlaybook } from '../domain/playbook-triage';
import type { SelectPlaybookResult } from '../domain/response';
import { loadPlaybooks } from '../cli/playbooks/loader';
import { PlaybookCache, type PlaybookLoad } from './playbooks-cache';

const selectPlaybookInputSchema = z.object({ alert: alertSchema });

export interface PlaybookActivityDeps {
  /** Playbook directory; `FIREBREAK_PLAYBOOK_DIR` or `playbooks` when absent. */
  directory?: string;
  logger?: Logger;
  /** Reads and validates the directory; `loadPlaybooks` when absent. Tests wrap it to count the loads. */
  loadPlaybooks?: (directory: string) => Promise<Playbook[]>;
  /** Age after which an unchanged directory is loaded again; one minute when absent. */
  cacheMaxAgeMs?: number;
  nowMs?: () => number;
}

/** Returns the playbook directory: `FIREBREAK_PLAYBOOK_DIR`, else `playbooks`. */
export function playbookDirectory(env: Record<string, string | undefined> = process.env): string {
  return env['FIREBREAK_PLAYBOOK_DIR'] ?? 'playbooks';
}

/**
 * Builds `selectPlaybook`. Each call compares the directory's file signature (names, sizes, times) with the
 * one of the cached load and loads the playbooks again when it changed. A changed playbook therefore applies
 * to the next incident, and an incident already running keeps the copy it pinned. When the directory has an
 * invalid playbook, the alert goes to the built-in triage playbook, which waits for a person's decision
 * before any action, so a broken file never drops an incident.
 */
export function createPlaybookActivities(deps: PlaybookActivityDeps = {}) {
  const directory = deps.directory ?? playbookDirectory();
  const logger = deps.logger ?? pino({ name: 'firebreak-playbooks' });
  const load = deps.loadPlaybooks ?? loadPlaybooks;

  async function loadOrTriage(): Promise<PlaybookLoad> {
    try {
      return { playbooks: await load(directory) };
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      logger.error({ directory, error: problem }, 'playbook directory invalid, using the triage playbook');
      return { playbooks: [], problem };
    }
  }
  const cache = new PlaybookCache({
    directory,
    load: loadOrTriage,
    ...(deps.cacheMaxAgeMs === undefined ? {} : { maxAgeMs: deps.cacheMaxAgeMs }),
    ...(deps.nowMs === undefined ? {} : { nowMs: deps.nowMs }),
  });

  async function selectPlaybookActivity(raw: unknown): Promise<SelectPlaybookResult> {
    const parsed = selectPlaybookInputSchema.safeParse(raw);
    if (!parsed.success) {
      const message = `selectPlaybook received invalid input: ${z.prettifyError(parsed.error)}`;
      throw ApplicationFailure.create({ message, type: 'InvalidInput', nonRetryable: true });
    }
    const { alert } = parsed.data;
    const { playbooks, problem } = await cache.get();
    const selection = problem === undefined ? selectPlaybook(alert, playbooks) : undefined;
    const playbook = selection?.playbook ?? builtinTriagePlaybook;
    const severity = classifySeverity(alert, playbook);
    return {
      playbook,
      selectionReason: selection?.reason ?? `the playbooks in ${directory} are invalid, so triage applies: ${problem}`,
      usedDefault: selection?.usedDefault ?? true,
      severity: severity.severity,
      severityReason: severity.reason,
    };
  }

  return { selectPlaybook: selectPlaybookActivity };
}
