import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { falcoEventSchema } from '../../domain/parsers/falco';
import { repoRoot } from '../../tools/lab/binaries';
import { demoNamespace, demoPod } from '../../tools/lab/demo';

/** The sample Falcosidekick alerts of the demo, in the order an attack on the checkout pod raises them. */
export const scenarioAlerts = [
  { file: 'falcosidekick-terminal-shell.json', rule: 'Terminal shell in container' },
  { file: 'demo-drop-and-exec.json', rule: 'Drop and execute new binary in container' },
  { file: 'falcosidekick-stratum-connection.json', rule: 'Detect crypto miners using the Stratum protocol' },
] as const;

/** Where the demo alerts point: the namespace and pod they name. */
export interface AlertTarget {
  namespace: string;
  pod: string;
}

/**
 * Reads a sample alert from `deploy/examples/alerts` and points it at `target`, in the Kubernetes fields and in
 * the output text. Each call gives the alert a fresh `uuid`, so the intake takes a repeated demo as new alerts
 * and not as redeliveries of the last run. Returns the JSON body to post.
 */
export function demoAlertBody(file: string, target: AlertTarget): string {
  const text = readFileSync(join(repoRoot, 'deploy', 'examples', 'alerts', file), 'utf8');
  const event = falcoEventSchema.parse(JSON.parse(text));
  const fields = { ...event.output_fields, 'k8s.ns.name': target.namespace, 'k8s.pod.name': target.pod };
  const output = event.output
    ?.replace(`k8s_ns_name=${demoNamespace}`, `k8s_ns_name=${target.namespace}`)
    .replace(`k8s_pod_name=${demoPod}`, `k8s_pod_name=${target.pod}`);
  return JSON.stringify({ ...event, uuid: randomUUID(), output, output_fields: fields });
}

const acceptedSchema = z.object({ workflowId: z.string().min(1), runId: z.string().min(1), accepted: z.number() });
export type AcceptedAlert = z.infer<typeof acceptedSchema>;

/** Posts one Falco body to the intake and returns the incident it joined. Any response other than 202 throws. */
export async function postFalcoAlert(intakeUrl: string, token: string, body: string): Promise<AcceptedAlert> {
  const url = new URL('/v1/alerts/falco', intakeUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot reach the intake at ${url.origin} (${reason}): start Firebreak with npm start`, {
      cause: error,
    });
  }
  const text = await response.text();
  if (response.status !== 202) {
    throw new Error(`the intake at ${url.origin} responded ${response.status}: ${text.slice(0, 500)}`);
  }
  const parsed = acceptedSchema.safeParse(parseJson(text));
  if (!parsed.success) {
    throw new Error(`the intake at ${url.origin} accepted the alert but named no incident: ${text.slice(0, 500)}`);
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
