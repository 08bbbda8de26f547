import { Command } from 'commander';
import { registerAlertCommands } from './commands/alert';
import { registerDecideCommands } from './commands/decide';
import { registerDemoCommands } from './commands/demo';
import { registerEvidenceCommands } from './commands/evidence';
import { registerIncidentCommands } from './commands/incidents';
import { registerPlaybookCommands } from './commands/playbooks';
import { registerReportCommands } from './commands/report';

/** Builds the `firebreak` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('firebreak')
    .description('Incident response for containers and Kubernetes, on Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerAlertCommands(program);
  registerIncidentCommands(program);
  registerDecideCommands(program);
  registerEvidenceCommands(program);
  registerPlaybookCommands(program);
  registerReportCommands(program);
  registerDemoCommands(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (typeof code === 'number') {
      process.exitCode = code;
      return;
    }
    process.stderr.write(`firebreak: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main();
}
