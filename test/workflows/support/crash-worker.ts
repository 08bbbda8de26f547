/**
 * A Firebreak worker in its own process, for the worker crash test: the real Kubernetes activities against
 * the lab API server, recording doubles for the report. With CRASH_PAUSE_MS set, quarantinePod prints
 * `contained <policy>` once the NetworkPolicy exists and then waits, so the test can kill the process
 * between the side effect and the report of the activity's completion.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import type { QuarantinePodInput } from '../../../domain/response';

const env = z
  .object({
    TEMPORAL_ADDRESS: z.string().min(1),
    TEMPORAL_NAMESPACE: z.string().min(1),
    FIREBREAK_TASK_QUEUE: z.string().min(1),
    KUBECONFIG: z.string().min(1),
    CRASH_PAUSE_MS: z.coerce.number().int().nonnegative().default(0),
  })
  .parse(process.env);

async function main(): Promise<void> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(env.KUBECONFIG);
  const kubernetes = createKubernetesActivities({ kubeConfig });

  const quarantinePod = async (input: QuarantinePodInput) => {
    const result = await kubernetes.quarantinePod(input);
    process.stdout.write(`contained ${result.policyName}\n`);
    await new Promise((resolve) => setTimeout(resolve, env.CRASH_PAUSE_MS));
    return result;
  };
  const writeIncidentReport = async ({ incidentId }: { incidentId: string }) => ({
    markdownPath: `/tmp/${incidentId}.md`,
    jsonPath: `/tmp/${incidentId}.json`,
  });

  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.FIREBREAK_TASK_QUEUE,
    workflowsPath: require.resolve('../../../workflows'),
    activities: { ...kubernetes, quarantinePod, writeIncidentReport },
  });
  process.stdout.write('ready\n');
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`crash worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
