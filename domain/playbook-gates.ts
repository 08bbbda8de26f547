import { z } from 'zod';
import { isValidDuration, parseDurationMs } from './duration';
import { durationLimitProblem, durationSchema, firstDuplicate, strictObject } from './playbook-fields';

/**
 * Gate policies: for each decision gate and each severity, whether the gate acts automatically, asks a
 * person, or is skipped, and for `ask` who may decide, how long to wait and what happens when nobody does.
 */

export const gateModeSchema = z.enum(['auto', 'ask', 'skip']);
export type GateMode = z.infer<typeof gateModeSchema>;

export const gateTimeoutDecisionSchema = z.enum(['approve', 'reject']);

/** Maximum deadline of an ask gate: 30 days. */
export const maxGateDeadlineMs = 30 * 86_400_000;

const askOnlyFields = [
  'approvers',
  'approverGroups',
  'deadline',
  'onTimeout',
  'twoPerson',
  'forbidTriggerer',
  'reminderBefore',
  'mention',
] as const;

const approversDescription = 'Slack user ids (U…) or operator names. Empty or missing means nobody may approve.';
const approversSchema = z.array(z.string().min(1)).meta({ description: approversDescription });

/** A Slack user id (U or W, then uppercase letters and digits) or an operator name such as `lab-operator`. */
const approverPattern = /^(?:[UW][A-Z0-9]+|[a-z0-9][a-z0-9._-]*)$/;

/**
 * Approvers as a playbook file writes them. Resolved playbooks keep the looser list above, so a playbook
 * that an incident pinned before this check still loads.
 */
const approverFileSchema = z.string().regex(approverPattern, {
  error: (issue) =>
    `invalid approver ${JSON.stringify(issue.input)}: expected a Slack user id (U or W followed by uppercase ` +
    'letters and digits, for example U024BE7LH) or an operator name (lowercase letters, digits, ., _ and -)',
});
const approverGroupsSchema = z
  .array(z.string().min(1))
  .meta({ description: 'Slack user group ids (S…) whose members may approve.' });

const gatePolicyFields = {
  mode: gateModeSchema.meta({ description: 'auto: act at once; ask: wait for a person; skip: do not act.' }),
  approvers: z.array(approverFileSchema).optional().meta({ description: approversDescription }),
  approverGroups: approverGroupsSchema.optional(),
  deadline: durationSchema.optional().meta({ description: 'How long an ask gate waits; required for ask.' }),
  onTimeout: gateTimeoutDecisionSchema
    .optional()
    .meta({ description: 'Decision applied when the deadline passes. Default: reject.' }),
  twoPerson: z.boolean().optional().meta({ description: 'Require two different approvers. Default: false.' }),
  forbidTriggerer: z
    .boolean()
    .optional()
    .meta({ description: 'The person who triggered the alert may not approve. Default: true.' }),
  reminderBefore: durationSchema
    .optional()
    .meta({ description: 'How long before the deadline a reminder goes out; shorter than the deadline.' }),
  mention: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Slack mention for reminders and escalations, for example <!subteam^S0123>.' }),
};

type GatePolicyFile = z.infer<z.ZodObject<typeof gatePolicyFields>>;

function checkGatePolicy(policy: GatePolicyFile, context: z.core.$RefinementCtx<GatePolicyFile>): void {
  if (policy.mode !== 'ask') {
    for (const field of askOnlyFields) {
      if (policy[field] !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} applies only when mode is ask, but mode is ${policy.mode}; remove ${field} or set mode: ask`,
        });
      }
    }
    return;
  }

  checkDeadline(policy.deadline, context);
  checkReminder(policy, context);

  // Slack ids and operator names are compared without case, so U1 and u1 count as one person.
  const approvers = policy.approvers ?? [];
  const approverCount = new Set(approvers.map((approver) => approver.toLowerCase())).size;
  const groupCount = policy.approverGroups?.length ?? 0;
  if (policy.twoPerson === true && approverCount < 2 && groupCount === 0) {
    context.addIssue({
      code: 'custom',
      path: ['twoPerson'],
      message: `twoPerson needs at least two different approvers, but only ${approverCount} is listed; add approvers or approverGroups`,
    });
  }

  const duplicate = firstDuplicate(approvers.map((approver) => approver.toLowerCase()));
  if (duplicate !== undefined) {
    const approver = approvers[duplicate.index] ?? duplicate.value;
    context.addIssue({
      code: 'custom',
      path: ['approvers', duplicate.index],
      message: `approver ${JSON.stringify(approver)} is listed twice (approvers are compared without case)`,
    });
  }
}

function checkDeadline(deadline: string | undefined, context: z.core.$RefinementCtx<GatePolicyFile>): void {
  if (deadline === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['deadline'],
      message: 'deadline is required when mode is ask: how long to wait for a decision, for example 15m',
    });
    return;
  }

  const problem = durationLimitProblem('deadline', deadline, 1, maxGateDeadlineMs);
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', path: ['deadline'], message: problem });
  }
}

function checkReminder(policy: GatePolicyFile, context: z.core.$RefinementCtx<GatePolicyFile>): void {
  const { reminderBefore, deadline } = policy;
  if (reminderBefore === undefined || deadline === undefined) {
    return;
  }
  if (!isValidDuration(reminderBefore) || !isValidDuration(deadline)) {
    return;
  }
  if (parseDurationMs(reminderBefore) >= parseDurationMs(deadline)) {
    context.addIssue({
      code: 'custom',
      path: ['reminderBefore'],
      message: `reminderBefore ${reminderBefore} must be shorter than the deadline ${deadline}`,
    });
  }
}

function resolveGatePolicy(policy: GatePolicyFile): GatePolicy {
  const deadline = policy.mode === 'ask' && policy.deadline !== undefined ? policy.deadline : '0s';
  return {
    mode: policy.mode,
    approvers: policy.approvers ?? [],
    approverGroups: policy.approverGroups ?? [],
    deadline,
    deadlineMs: isValidDuration(deadline) ? parseDurationMs(deadline) : 0,
    onTimeout: policy.onTimeout ?? 'reject',
    twoPerson: policy.twoPerson ?? false,
    forbidTriggerer: policy.forbidTriggerer ?? true,
    ...(policy.reminderBefore === undefined ? {} : { reminderBefore: policy.reminderBefore }),
    ...(policy.mention === undefined ? {} : { mention: policy.mention }),
  };
}

/** A gate policy as written in a playbook file; parsing fills the defaults and derives `deadlineMs`. */
export const gatePolicyFileSchema = strictObject(gatePolicyFields)
  .superRefine(checkGatePolicy)
  .transform(resolveGatePolicy)
  .meta({ id: 'GatePolicy' });

/**
 * A resolved gate policy, as a parsed playbook carries it (for example in workflow input). For `auto` and
 * `skip` gates, `deadline` is `0s`, `deadlineMs` is 0 and the ask-only fields have their defaults.
 */
export const gatePolicySchema = strictObject({
  mode: gateModeSchema,
  approvers: approversSchema,
  approverGroups: approverGroupsSchema,
  deadline: durationSchema,
  deadlineMs: z.number().int().nonnegative().max(maxGateDeadlineMs),
  onTimeout: gateTimeoutDecisionSchema,
  twoPerson: z.boolean(),
  forbidTriggerer: z.boolean(),
  reminderBefore: durationSchema.optional(),
  mention: z.string().min(1).optional(),
});
export type GatePolicy = z.infer<typeof gatePolicySchema>;

function perSeverity<Policy extends z.ZodType>(policy: Policy) {
  return strictObject({ P0: policy, P1: policy, P2: policy, P3: policy });
}

function gatesOf<Policy extends z.ZodType>(policy: Policy) {
  return strictObject({ isolate: perSeverity(policy), escalate: perSeverity(policy), restore: perSeverity(policy) });
}

/** The three gates, each with a policy for every severity, as written in a playbook file. */
export const gatesFileSchema = gatesOf(gatePolicyFileSchema);
/** The three gates with resolved policies. */
export const gatesSchema = gatesOf(gatePolicySchema);
export type Gates = z.infer<typeof gatesSchema>;
