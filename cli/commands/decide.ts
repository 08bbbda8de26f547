import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { Argument, Command, Option } from 'commander';
import { z } from 'zod';
import { decideGateInputSchema, gateDecisionSchema, gateNameSchema, maxReasonLength } from '../../domain/incident';
import { connectClient, temporalSettingsFromEnv } from '../../workers/temporal';
import { decideGateUpdate } from '../../workflows/messages';
import { printable } from '../playbooks/terminal-text';

/** Output and Temporal access of the incident commands; tests replace both. */
export interface IncidentCommandDeps {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Returns a connected client; the command closes its connection when done. */
  connect: () => Promise<Client>;
  env: Record<string, string | undefined>;
}

export const defaultIncidentCommandDeps: IncidentCommandDeps = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  connect: () => connectClient(temporalSettingsFromEnv()),
  env: process.env,
};

const configFileSchema = z.object({ operator: z.string().min(1).optional() });

/**
 * Returns the operator's identity for decisions and stand-downs: `FIREBREAK_OPERATOR`, else `operator` in
 * `$XDG_CONFIG_HOME/firebreak/config.json` (default `~/.config/firebreak/config.json`).
 */
export function operatorIdentity(env: Record<string, string | undefined>): string {
  const fromEnv = env['FIREBREAK_OPERATOR'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;

  const file = join(env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'firebreak', 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no operator identity: set FIREBREAK_OPERATOR or "operator" in ${file}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid JSON in ${file}: ${message}`, { cause: error });
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success || parsed.data.operator === undefined) {
    throw new Error(`no operator identity in ${file}: expected {"operator": "NAME"}`);
  }
  return parsed.data.operator;
}

/** Incident id from the argument: `incident-<fingerprint>`, or the fingerprint alone. */
export function incidentIdArgument(text: string): string {
  return text.startsWith('incident-') ? text : `incident-${text}`;
}

/** Plain reason of a failed `decideGate` or `standDown` Update, or of a missing incident. */
export function decisionFailure(error: unknown, incidentId: string): string | undefined {
  if (error instanceof WorkflowUpdateFailedError) {
    return error.cause?.message ?? error.message;
  }
  if (error instanceof WorkflowNotFoundError) {
    return `incident ${incidentId} is not running: it does not exist or it is closed`;
  }
  return undefined;
}

/** Command-line source of each input field, for error messages. */
const inputSources: Record<string, string> = {
  reason: '--reason',
  imageDigest: '--image-digest',
  decider: 'the operator identity (FIREBREAK_OPERATOR)',
  by: 'the operator identity (FIREBREAK_OPERATOR)',
};

/** Describes each invalid field in plain words, naming the option that set it, instead of zod's JSON. */
export function invalidInputMessage(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = String(issue.path[0] ?? 'input');
      return `${inputSources[field] ?? field} ${issue.message}`;
    })
    .join('; ');
}

interface DecideOptions {
  reason: string;
  imageDigest?: string;
}

async function decide(
  deps: IncidentCommandDeps,
  args: [string, string, string],
  options: DecideOptions,
): Promise<number> {
  const incidentId = incidentIdArgument(args[0]);
  const parsed = decideGateInputSchema.safeParse({
    gate: args[1],
    decision: args[2],
    decider: operatorIdentity(deps.env),
    channel: 'cli',
    reason: options.reason,
    ...(options.imageDigest === undefined ? {} : { imageDigest: options.imageDigest }),
  });
  if (!parsed.success) {
    deps.err(printable(`firebreak: invalid decision: ${invalidInputMessage(parsed.error)}`));
    return 1;
  }
  const client = await deps.connect();
  try {
    const handle = client.workflow.getHandle(incidentId);
    const result = await handle.executeUpdate(decideGateUpdate, { args: [parsed.data] });
    const waiting = result.status === 'open' ? ' (the gate waits for a second approver)' : '';
    deps.out(
      printable(
        `gate ${result.gate} of ${incidentId}: ${result.status} by ${result.decider} via cli at ${result.at}${waiting}`,
      ),
    );
    return 0;
  } catch (error) {
    const reason = decisionFailure(error, incidentId);
    if (reason === undefined) throw error;
    deps.err(printable(`firebreak: decision rejected: ${reason}`));
    return 1;
  } finally {
    await client.connection.close();
  }
}

/**
 * Registers `firebreak decide INCIDENT GATE approve|reject --reason TEXT [--image-digest REPO@sha256:…]`; it
 * sets `process.exitCode`. The decider is the operator identity from the environment or the configuration
 * file, which nothing verifies: Temporal's access control decides who may send the Update.
 */
export function registerDecideCommands(program: Command, deps: IncidentCommandDeps = defaultIncidentCommandDeps): void {
  program
    .command('decide')
    .description('Decide an open gate of an incident, as the operator named by FIREBREAK_OPERATOR')
    .argument('<incident>', 'incident id (incident-<fingerprint>) or fingerprint')
    .addArgument(new Argument('<gate>', 'gate to decide').choices(gateNameSchema.options))
    .addArgument(new Argument('<decision>', 'the decision').choices(gateDecisionSchema.options))
    .addOption(
      new Option(
        '--reason <text>',
        `why, at most ${maxReasonLength} characters; recorded on the incident timeline`,
      ).makeOptionMandatory(),
    )
    .option(
      '--image-digest <repository@sha256:digest>',
      'trusted image to restore from, with approve on the restore gate when the playbook takes the digest from a person',
    )
    .action(async (incident: string, gate: string, decision: string, options: DecideOptions) => {
      process.exitCode = await decide(deps, [incident, gate, decision], options);
    });
}
