import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';

/** The Falcosidekick event that the examples and tests use, as the template of every benchmark alert. */
const templateSchema = z
  .object({ uuid: z.string(), output: z.string(), output_fields: z.record(z.string(), z.unknown()) })
  .loose();
const template = templateSchema.parse(
  JSON.parse(readFileSync(join(repoRoot, 'deploy', 'examples', 'alerts', 'falcosidekick-terminal-shell.json'), 'utf8')),
);

/** Falco rules of the benchmark alerts; each rule family opens incidents of its own. */
export const benchRules = ['Terminal shell in container', 'Drop and execute new binary in container'] as const;

export interface FalcoAlertOptions {
  namespace: string;
  pod: string;
  node: string;
  rule?: string;
  /** Falcosidekick's event id; a fresh UUID when absent. */
  uuid?: string;
}

/** Returns a Falcosidekick event body for a terminal shell (or `rule`) in `namespace/pod`. */
export function falcoAlertBody(options: FalcoAlertOptions): { id: string; body: string } {
  const id = options.uuid ?? randomUUID();
  const now = new Date();
  const rule = options.rule ?? benchRules[0];
  const event = {
    ...template,
    uuid: id,
    rule,
    time: now.toISOString(),
    hostname: options.node,
    output: `${template.output.split(' | ')[0]} | k8s_pod_name=${options.pod} k8s_ns_name=${options.namespace}`,
    output_fields: {
      ...template.output_fields,
      'k8s.pod.name': options.pod,
      'k8s.ns.name': options.namespace,
      'evt.time': now.getTime() * 1_000_000,
    },
  };
  return { id, body: JSON.stringify(event) };
}
