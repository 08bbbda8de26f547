import { z } from 'zod';
import { alertSourceSchema, prioritySchema, severitySchema, type Severity } from './alert';
import type { GateName } from './incident';
import { gatesFileSchema, gatesSchema, type GatePolicy } from './playbook-gates';
import { labelKeySchema, namespaceNameSchema, strictObject } from './playbook-fields';
import { acceptsEveryText, matcherSchema } from './playbook-patterns';
import {
  checkStepLimits,
  containmentSchema,
  escalationSchema,
  evidenceOptionsSchema,
  evidenceSchema,
  restoreSchema,
} from './playbook-steps';

/**
 * The playbook file format: how Firebreak responds to a class of alerts. Every object is strict, so a
 * misspelt field is an error rather than a silently ignored setting.
 */

export const playbookApiVersion = 'firebreak.dev/v1';

const emptyListError = { error: 'list is empty; remove the field to match any value' };
const nonEmptyMap = [
  (map: object) => Object.keys(map).length > 0,
  { error: 'map is empty; remove the field to match any value' },
] as const;

/** Conditions on an alert; every condition that is set must hold. */
const conditionFields = {
  sources: z.array(alertSourceSchema).min(1, emptyListError).optional(),
  rules: z
    .array(matcherSchema)
    .min(1, emptyListError)
    .optional()
    .meta({ description: 'Rule names, exact or { regex }; one must match.' }),
  tags: z.array(z.string().min(1)).min(1, emptyListError).optional().meta({ description: 'All must be present.' }),
  priorityAtLeast: prioritySchema.optional(),
  namespaces: z.array(namespaceNameSchema).min(1, emptyListError).optional(),
  labels: z
    .record(labelKeySchema, z.string())
    .refine(...nonEmptyMap)
    .optional()
    .meta({ description: 'Pod labels; all must be equal.' }),
  fields: z
    .record(z.string().min(1), matcherSchema)
    .refine(...nonEmptyMap)
    .optional()
    .meta({ description: 'Sender fields, exact or { regex }; all must match.' }),
};

function requireSomeCondition(conditions: object, context: z.core.$RefinementCtx<object>): void {
  const set = Object.entries(conditions).filter(([, value]) => value !== undefined && !isEmptyRecord(value));
  if (set.length === 0) {
    context.addIssue({ code: 'custom', message: 'set at least one condition, or remove this entry' });
  }
}

function isEmptyRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Cross-field checks run only on an otherwise valid value, so a misspelt field causes one error, not several. */
const onlyWhenValid = { when: (payload: z.core.ParsePayload) => payload.issues.length === 0 };

export const matchConditionsSchema = strictObject(conditionFields).meta({ id: 'MatchConditions' });
export type MatchConditions = z.infer<typeof matchConditionsSchema>;

export const matchSchema = strictObject({
  ...conditionFields,
  exclude: z
    .array(matchConditionsSchema.superRefine(requireSomeCondition, onlyWhenValid))
    .default([])
    .meta({ description: 'An alert that fits any entry is never claimed by this playbook.' }),
});
export type PlaybookMatch = z.infer<typeof matchSchema>;

export const severityConditionsSchema = strictObject({
  ...conditionFields,
  affectedNodesAtLeast: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Nodes with alerts for the same incident, when the caller knows it.' }),
}).superRefine(requireSomeCondition, onlyWhenValid);
export type SeverityConditions = z.infer<typeof severityConditionsSchema>;

export const severityPolicySchema = strictObject({
  default: severitySchema,
  reason: z.string().min(1).optional().meta({ description: 'Why the default severity fits.' }),
  rules: z
    .array(strictObject({ when: severityConditionsSchema, severity: severitySchema, reason: z.string().min(1) }))
    .default([])
    .meta({ description: 'The first rule whose conditions hold sets the severity.' }),
  senderHint: z
    .enum(['raise', 'ignore'])
    .default('raise')
    .meta({ description: 'raise: a worse severity that the sender states replaces the playbook severity.' }),
});

export const metadataSchema = strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'invalid name: expected lowercase letters, digits and -' })
    .max(63),
  version: z.number().int().positive(),
  description: z.string().min(1),
  rationale: z.string().min(1).meta({ description: 'Why this response fits this class of alerts.' }),
  owner: z.string().min(1).optional(),
});

export const notifySchema = strictObject({
  slackChannel: z
    .string()
    .regex(/^(#[a-z0-9][a-z0-9._-]*|[CG][A-Z0-9]+)$/, {
      error: (issue) => `invalid Slack channel ${JSON.stringify(issue.input)}: expected #name or a channel id`,
    })
    .optional(),
});

function playbookObject<Gates extends typeof gatesFileSchema | typeof gatesSchema>(gates: Gates) {
  return strictObject({
    apiVersion: z.literal(playbookApiVersion),
    kind: z.literal('Playbook'),
    metadata: metadataSchema,
    match: matchSchema,
    severity: severityPolicySchema,
    gates,
    containment: containmentSchema.meta({ description: 'Containment steps, run in order once isolation is approved.' }),
    evidence: evidenceSchema,
    evidenceOptions: evidenceOptionsSchema.prefault({}),
    escalation: escalationSchema.optional(),
    restore: restoreSchema.prefault({}),
    notify: notifySchema.prefault({}),
    dryRun: z.boolean().default(false).meta({ description: 'Plan and record every step without changing anything.' }),
  });
}

const resolvedPlaybookObject = playbookObject(gatesSchema);
type PlaybookShape = z.infer<typeof resolvedPlaybookObject>;

const severities: readonly Severity[] = ['P0', 'P1', 'P2', 'P3'];

function checkPlaybook(playbook: PlaybookShape, context: z.core.$RefinementCtx<PlaybookShape>): void {
  for (const severity of severities) {
    if (playbook.escalation === undefined && playbook.gates.escalate[severity].mode !== 'skip') {
      context.addIssue({
        code: 'custom',
        path: ['gates', 'escalate', severity, 'mode'],
        message: `the escalate gate is ${playbook.gates.escalate[severity].mode} at ${severity} but no escalation target is set; add escalation or set mode: skip`,
      });
    }
  }

  if (playbook.restore.trustedDigestSource === 'playbook' && Object.keys(playbook.restore.trustedImages).length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['restore', 'trustedImages'],
      message: 'trustedDigestSource is playbook but trustedImages is empty; list the trusted digests or use person',
    });
  }

  if (isCatchAll(playbook.match)) {
    checkNeverActsAlone(playbook, context);
  }
}

/**
 * True when a match does not narrow the alerts it claims, so the playbook claims every alert (of its sources
 * and priorities) that no other playbook claims. Only rules, tags, namespaces, labels and fields narrow, and
 * a rules or fields condition narrows nothing when its patterns accept every text.
 */
export function isCatchAll(match: MatchConditions): boolean {
  const { rules, tags, namespaces, labels, fields } = match;
  const narrowing = [
    rules !== undefined && rules.length > 0 && !rules.some(acceptsEveryText),
    tags !== undefined && tags.length > 0,
    namespaces !== undefined && namespaces.length > 0,
    labels !== undefined && !isEmptyRecord(labels),
    fields !== undefined && !isEmptyRecord(fields) && !Object.values(fields).every(acceptsEveryText),
  ];
  return !narrowing.includes(true);
}

const catchAllText =
  'a playbook whose match does not narrow the alerts (no rules, tags, namespaces, labels or fields, ' +
  'or only patterns that accept any text) must not act alone';

/** A playbook that does not narrow its alerts must never change a workload without a person's decision. */
function checkNeverActsAlone(playbook: PlaybookShape, context: z.core.$RefinementCtx<PlaybookShape>): void {
  for (const gate of ['isolate', 'restore'] as const) {
    for (const severity of severities) {
      const policy = playbook.gates[gate][severity];
      if (policy.mode === 'auto') {
        context.addIssue({
          code: 'custom',
          path: ['gates', gate, severity, 'mode'],
          message: `${catchAllText}, but ${gate} is auto at ${severity}; use ask or skip`,
        });
      } else if (policy.mode === 'ask' && policy.onTimeout === 'approve') {
        context.addIssue({
          code: 'custom',
          path: ['gates', gate, severity, 'onTimeout'],
          message: `${catchAllText}, but ${gate} approves on timeout at ${severity}; use reject`,
        });
      }
    }
  }
}

/**
 * The playbook file format. Parsing fills defaults and derives each gate's `deadlineMs`. The step limits
 * apply to files only: a playbook pinned by an incident that started under older limits must still load.
 */
export const playbookSchema = playbookObject(gatesFileSchema).superRefine((playbook, context) => {
  checkPlaybook(playbook, context);
  checkStepLimits(playbook, context);
}, onlyWhenValid);

/** An already parsed playbook, for example one pinned in workflow input; it re-validates the same output. */
export const resolvedPlaybookSchema = resolvedPlaybookObject.superRefine(checkPlaybook, onlyWhenValid);

export type Playbook = z.output<typeof playbookSchema>;
export type PlaybookInput = z.input<typeof playbookSchema>;

/** Returns the policy of one gate at one severity. */
export function gatePolicyFor(playbook: Playbook, gate: GateName, severity: Severity): GatePolicy {
  return playbook.gates[gate][severity];
}

/** Generates the JSON Schema of the playbook file format, for editor completion and validation. */
export function playbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(playbookSchema, { io: 'input', target: 'draft-2020-12' });
  return { ...schema, title: 'Firebreak playbook' };
}

export { gatePolicySchema, maxGateDeadlineMs, type GateMode, type GatePolicy } from './playbook-gates';
export {
  containmentActions,
  containmentPhase,
  evidenceKinds,
  type ContainmentAction,
  type ContainmentStep,
  type Escalation,
  type RestorePolicy,
} from './playbook-steps';
export type { Matcher, RegexMatcher } from './playbook-patterns';
export type { GateName } from './incident';
