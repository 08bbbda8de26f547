import { z } from 'zod';
import { severitySchema } from './alert';
import { isValidDuration, parseDurationMs } from './duration';
import { durationLimitProblem, durationSchema, firstDuplicate, labelKeySchema, strictObject } from './playbook-fields';

/** Containment steps, evidence kinds, escalation target and restore policy of a playbook. */

const portSchema = z.number().int().min(1).max(65535);

function isCidr(value: string): boolean {
  return z.cidrv4().safeParse(value).success || z.cidrv6().safeParse(value).success;
}

/** One egress destination that stays reachable from a quarantined pod. */
export const egressRuleSchema = strictObject({
  dns: z.literal(true).optional().meta({ description: 'Allow DNS (UDP and TCP port 53) to the cluster DNS.' }),
  cidr: z
    .string()
    .refine(isCidr, {
      error: (issue) => `invalid CIDR ${JSON.stringify(issue.input)}: expected for example 10.0.0.0/8`,
    })
    .optional(),
  namespaceSelector: z.record(labelKeySchema, z.string()).optional(),
  ports: z.array(portSchema).min(1).optional().meta({ description: 'TCP ports; absent means every port.' }),
}).superRefine((rule, context) => {
  const kinds = [rule.dns, rule.cidr, rule.namespaceSelector].filter((value) => value !== undefined).length;
  if (kinds !== 1) {
    context.addIssue({ code: 'custom', message: 'set exactly one of dns, cidr or namespaceSelector in each rule' });
  }
  if (rule.dns !== undefined && rule.ports !== undefined) {
    context.addIssue({ code: 'custom', path: ['ports'], message: 'ports does not apply to dns, which is port 53' });
  }
});

const stepCondition = {
  severityAtLeast: severitySchema
    .optional()
    .meta({ description: 'Run the step only when the incident severity is this or worse (P0 is the worst).' }),
};

const quarantineStepSchema = strictObject({
  action: z.literal('quarantine'),
  ...stepCondition,
  allowEgress: z.array(egressRuleSchema).default([]),
}).meta({ description: 'Label the pod and isolate it with a deny-all NetworkPolicy, except allowEgress.' });

const detachStepSchema = strictObject({ action: z.literal('detach'), ...stepCondition }).meta({
  description: 'Change the labels that Services and the owner select on, so a clean replica replaces the pod.',
});

const cordonStepSchema = strictObject({ action: z.literal('cordon'), ...stepCondition });

const drainStepSchema = strictObject({
  action: z.literal('drain'),
  ...stepCondition,
  gracePeriod: durationSchema.default('30s'),
  deadline: durationSchema.default('10m'),
}).superRefine((step, context) => {
  if (!isValidDuration(step.deadline) || !isValidDuration(step.gracePeriod)) {
    return;
  }
  if (parseDurationMs(step.deadline) <= parseDurationMs(step.gracePeriod)) {
    context.addIssue({
      code: 'custom',
      path: ['deadline'],
      message: `drain deadline ${step.deadline} must be longer than the grace period ${step.gracePeriod}`,
    });
  }
});

const deletePodStepSchema = strictObject({
  action: z.literal('delete-pod'),
  ...stepCondition,
  gracePeriod: durationSchema.optional(),
});

const scaleToZeroStepSchema = strictObject({ action: z.literal('scale-to-zero'), ...stepCondition });
const pauseRolloutStepSchema = strictObject({ action: z.literal('pause-rollout'), ...stepCondition });

export const containmentActions = [
  'quarantine',
  'detach',
  'cordon',
  'drain',
  'delete-pod',
  'scale-to-zero',
  'pause-rollout',
] as const;
export type ContainmentAction = (typeof containmentActions)[number];

export const containmentStepSchema = z
  .discriminatedUnion(
    'action',
    [
      quarantineStepSchema,
      detachStepSchema,
      cordonStepSchema,
      drainStepSchema,
      deletePodStepSchema,
      scaleToZeroStepSchema,
      pauseRolloutStepSchema,
    ],
    {
      error: (issue) =>
        issue.code === 'invalid_union' ? `invalid action: expected one of ${containmentActions.join(', ')}` : undefined,
    },
  )
  .meta({ id: 'ContainmentStep' });
export type ContainmentStep = z.infer<typeof containmentStepSchema>;

/** Steps that keep the suspect pod for forensics run while isolating; the rest remove or replace it. */
export function containmentPhase(action: ContainmentAction): 'isolate' | 'eradicate' {
  return action === 'quarantine' || action === 'detach' ? 'isolate' : 'eradicate';
}

export const containmentSchema = z
  .array(containmentStepSchema)
  .default([])
  .superRefine((steps, context) => {
    const duplicate = firstDuplicate(steps.map((step) => step.action));
    if (duplicate !== undefined) {
      context.addIssue({
        code: 'custom',
        path: [duplicate.index, 'action'],
        message: `action ${duplicate.value} appears twice; list each action once`,
      });
    }
  });

export const evidenceKinds = [
  'pod',
  'owners',
  'node',
  'events',
  'network-policies',
  'rbac',
  'logs',
  'processes',
  'connections',
  'file-changes',
  'checkpoint',
  'alerts',
] as const;
export const evidenceKindSchema = z.enum(evidenceKinds);

export const evidenceSchema = z.array(evidenceKindSchema).superRefine((kinds, context) => {
  const duplicate = firstDuplicate(kinds);
  if (duplicate !== undefined) {
    context.addIssue({ code: 'custom', path: [duplicate.index], message: `${duplicate.value} is listed twice` });
  }
});

export const evidenceOptionsSchema = strictObject({
  keepSecrets: z
    .boolean()
    .default(false)
    .meta({ description: 'Keep Secret values and tokens in the raw artefacts. Reports always redact them.' }),
  maxLogBytes: z.number().int().positive().optional(),
  execDeadline: durationSchema
    .optional()
    .meta({ description: 'Deadline of each command run in the container; more than 0 and at most 10m.' }),
});

const envNameSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  error: (issue) =>
    `invalid environment variable name ${JSON.stringify(issue.input)}: expected for example FIREBREAK_KEY`,
});

export const escalationSchema = strictObject({
  target: z.literal('pagerduty').meta({ description: 'Escalation target; PagerDuty Events API v2.' }),
  url: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com/v2/enqueue'),
  routingKeyEnv: envNameSchema.meta({ description: 'Environment variable that holds the routing key.' }),
});
export type Escalation = z.infer<typeof escalationSchema>;

const imageDigestSchema = z.string().regex(/^sha256:[a-f0-9]{64}$/, {
  error: (issue) => `invalid image digest ${JSON.stringify(issue.input)}: expected sha256: and 64 hex digits`,
});

export const restoreSchema = strictObject({
  quietPeriod: durationSchema
    .default('30m')
    .meta({ description: 'Time without new alerts before restore is offered; more than 0 and at most 30d.' }),
  trustedDigestSource: z
    .enum(['playbook', 'person'])
    .default('person')
    .meta({ description: 'Where the trusted image digest comes from: trustedImages, or the person who approves.' }),
  trustedImages: z
    .record(z.string().min(1), imageDigestSchema)
    .default({})
    .meta({ description: 'Image repository to trusted digest, for example registry/app: sha256:….' }),
  watchPeriod: durationSchema
    .default('24h')
    .meta({ description: 'Heightened watch after restore, at most 30d; 0s turns the watch off.' }),
});
export type RestorePolicy = z.infer<typeof restoreSchema>;

const dayMs = 86_400_000;

/**
 * Limits of the restore and evidence durations. `watchPeriod: 0s` stays valid because it turns the heightened
 * watch off, which validation reports as a warning.
 */
const stepDurationLimits = [
  { path: ['restore', 'quietPeriod'], minimumMs: 1, maximumMs: 30 * dayMs },
  { path: ['restore', 'watchPeriod'], minimumMs: 0, maximumMs: 30 * dayMs },
  { path: ['evidenceOptions', 'execDeadline'], minimumMs: 1, maximumMs: 10 * 60_000 },
] as const;

interface StepDurations {
  restore: { quietPeriod: string; watchPeriod: string };
  evidenceOptions: { execDeadline?: string | undefined };
}

/** Checks the restore and evidence durations against their limits. */
export function checkStepLimits(playbook: StepDurations, context: z.core.$RefinementCtx<StepDurations>): void {
  const values = {
    quietPeriod: playbook.restore.quietPeriod,
    watchPeriod: playbook.restore.watchPeriod,
    execDeadline: playbook.evidenceOptions.execDeadline,
  };
  for (const { path, minimumMs, maximumMs } of stepDurationLimits) {
    const field = path[1];
    const value = values[field];
    const problem = value === undefined ? undefined : durationLimitProblem(field, value, minimumMs, maximumMs);
    if (problem !== undefined) {
      context.addIssue({ code: 'custom', path: [...path], message: problem });
    }
  }
}
