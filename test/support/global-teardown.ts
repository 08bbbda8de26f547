import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopLab } from '../../tools/lab/lab';

/** Stops the servers; keeps the run folder (with its logs) when a test failed. */
export default async function globalTeardown(): Promise<void> {
  const lab = globalThis.firebreakLab;
  if (!lab) {
    return;
  }
  await stopLab(lab);
  globalThis.firebreakLab = undefined;
  const runDir = join(lab.logDir, '..');
  if (!existsSync(join(runDir, 'failed')) && !process.env.FIREBREAK_KEEP_TEST_RUN) {
    rmSync(runDir, { recursive: true, force: true });
  }
}
