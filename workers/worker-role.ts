import { z } from 'zod';
import {
  createActivities,
  createContainmentActivities,
  createEvidenceAndReportActivities,
  type ActivityDeps,
} from '../activities';

/**
 * Roles of a worker process. `all` runs the incident workflow and every activity on one task queue.
 * `containment` runs the workflow and every activity except the evidence and report ones. `evidence` runs
 * only those, on the evidence task queue, with no workflows and under its own Kubernetes identity.
 */
export const workerRoles = ['all', 'containment', 'evidence'] as const;
export type WorkerRole = (typeof workerRoles)[number];

/**
 * Task queue name: no whitespace, at most 1,000 characters (the default id length limit of the Temporal
 * server). An empty value counts as unset.
 */
const taskQueueNameSchema = z
  .string()
  .regex(/^\S{0,1000}$/, 'must be at most 1000 characters without whitespace')
  .transform((value) => (value === '' ? undefined : value));

const workerRoleEnvSchema = (workflowTaskQueue: string) =>
  z
    .object({
      FIREBREAK_WORKER_ROLE: z.enum(workerRoles).default('all'),
      FIREBREAK_EVIDENCE_TASK_QUEUE: taskQueueNameSchema.optional(),
    })
    .refine((env) => env.FIREBREAK_WORKER_ROLE === 'all' || env.FIREBREAK_EVIDENCE_TASK_QUEUE !== undefined, {
      message:
        'the containment and evidence roles need FIREBREAK_EVIDENCE_TASK_QUEUE, the queue of the evidence worker',
      path: ['FIREBREAK_EVIDENCE_TASK_QUEUE'],
    })
    .refine((env) => env.FIREBREAK_WORKER_ROLE === 'all' || env.FIREBREAK_EVIDENCE_TASK_QUEUE !== workflowTaskQueue, {
      message: 'FIREBREAK_EVIDENCE_TASK_QUEUE must differ from FIREBREAK_TASK_QUEUE when the worker roles are split',
      path: ['FIREBREAK_EVIDENCE_TASK_QUEUE'],
    });

/** Role of this worker and the task queue it polls. */
export interface WorkerRoleSettings {
  role: WorkerRole;
  /** `FIREBREAK_EVIDENCE_TASK_QUEUE` for the evidence role, the workflow's task queue otherwise. */
  taskQueue: string;
  /** False for the evidence role, which runs activities only. */
  runWorkflows: boolean;
}

/**
 * Reads `FIREBREAK_WORKER_ROLE` and `FIREBREAK_EVIDENCE_TASK_QUEUE` from the environment, and returns the role
 * with the task queue it polls. `workflowTaskQueue` is the incident workflow's queue (`FIREBREAK_TASK_QUEUE`).
 */
export function workerRoleFromEnv(
  workflowTaskQueue: string,
  env: Record<string, string | undefined> = process.env,
): WorkerRoleSettings {
  const parsed = workerRoleEnvSchema(workflowTaskQueue).safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid worker role settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  const role = parsed.data.FIREBREAK_WORKER_ROLE;
  const evidenceQueue = parsed.data.FIREBREAK_EVIDENCE_TASK_QUEUE;
  if (role === 'evidence' && evidenceQueue !== undefined) {
    return { role, taskQueue: evidenceQueue, runWorkflows: false };
  }
  return { role, taskQueue: workflowTaskQueue, runWorkflows: true };
}

/** Builds the activities that a worker of `role` registers. */
export function activitiesForRole(role: WorkerRole, deps: ActivityDeps): object {
  switch (role) {
    case 'all':
      return createActivities(deps);
    case 'containment':
      return createContainmentActivities(deps);
    case 'evidence':
      return createEvidenceAndReportActivities(deps);
  }
}
