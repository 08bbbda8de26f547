import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { repoRoot } from '../../../tools/lab/binaries';
import { writeLabPlaybooks } from '../../../tools/lab/playbooks';

export interface TestPlaybookOptions {
  /** Enqueue URL of the escalation webhook stand-in. */
  escalationUrl: string;
  quietPeriod: string;
  watchPeriod: string;
}

/**
 * Writes the lab's copy of the shipped playbooks (isolation automatic, `lab-operator` approves the other gates)
 * into `dir/lab`, then a copy of that into `dir/playbooks` with the given quiet and watch periods and the escalation
 * sent to the stand-in. Everything else stays as in the lab, so the restore approver names the trusted image digest.
 * Returns the second folder.
 */
export function writeTestPlaybooks(dir: string, options: TestPlaybookOptions): string {
  const labDir = writeLabPlaybooks(join(repoRoot, 'playbooks'), join(dir, 'lab'));
  const targetDir = join(dir, 'playbooks');
  mkdirSync(targetDir, { recursive: true });
  for (const file of readdirSync(labDir).filter((name) => name.endsWith('.yaml'))) {
    const document = parseDocument(readFileSync(join(labDir, file), 'utf8'));
    document.setIn(['restore', 'quietPeriod'], options.quietPeriod);
    document.setIn(['restore', 'watchPeriod'], options.watchPeriod);
    if (document.hasIn(['escalation'])) {
      document.setIn(['escalation', 'url'], options.escalationUrl);
    }
    writeFileSync(join(targetDir, file), document.toString());
  }
  return targetDir;
}
