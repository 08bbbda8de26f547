import { Command } from 'commander';
import { defaultEvidenceDir, LocalEvidenceStore } from '../../activities/evidence/store';
import { verifyIncidentEvidence } from '../../activities/evidence/verify';

export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

interface VerifyOptions {
  dir?: string;
  head?: string;
  json?: boolean;
}

/**
 * Registers `firebreak evidence verify INCIDENT`: exit code 0 when every artefact and the custody chain
 * check out, 1 when anything does not (each problem is printed with its artefact name), 2 for usage errors.
 */
export function registerEvidenceCommands(program: Command, output: CommandOutput = processOutput): void {
  const evidence = program.command('evidence').description('Check the evidence captured for incidents');
  evidence
    .command('verify')
    .description('Re-read every artefact of an incident and its chain of custody, and report any mismatch')
    .argument('<incident>', 'incident id, for example incident-3f2a9c0d1b7e4a55')
    .option('--dir <dir>', 'evidence store directory (default: FIREBREAK_EVIDENCE_DIR or .data/evidence)')
    .option('--head <sha256>', 'custody chain head recorded by the workflow; a different head fails')
    .option('--json', 'print the result as JSON')
    .action(async (incidentId: string, options: VerifyOptions) => {
      process.exitCode = await verifyCommand(incidentId, options, output);
    });
}

export async function verifyCommand(
  incidentId: string,
  options: VerifyOptions,
  output: CommandOutput,
): Promise<number> {
  const store = new LocalEvidenceStore(options.dir ?? defaultEvidenceDir());
  let result;
  try {
    result = await verifyIncidentEvidence(store, incidentId, { expectedHeadSha256: options.head });
  } catch (error) {
    output.err(`firebreak evidence verify: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  if (options.json) {
    output.out(JSON.stringify(result, null, 2));
  } else if (result.ok) {
    output.out(
      `${incidentId}: verified ${result.entries} custody entries in ${result.manifestPath}; every artefact matches its hash`,
    );
  } else {
    for (const problem of result.problems) {
      const line = problem.lineNumber === undefined ? '' : ` (manifest line ${problem.lineNumber})`;
      output.out(`MISMATCH ${problem.artefact}${line}: ${problem.problem}`);
    }
    output.err(
      `${incidentId}: verification failed with ${result.problems.length} problem(s) in ${result.manifestPath}`,
    );
  }
  return result.ok ? 0 : 1;
}
