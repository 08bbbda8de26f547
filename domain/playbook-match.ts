import { falcoPriorities, type Alert, type Priority, type Severity } from './alert';
import type { ContainmentStep, MatchConditions, Playbook, PlaybookMatch, SeverityConditions } from './playbook';
import { matcherAccepts, type Matcher } from './playbook-patterns';
import { builtinTriagePlaybook } from './playbook-triage';

/**
 * Playbook selection and severity classification for an alert. The code is pure and deterministic, so
 * workflow code may call it. Patterns run on RE2JS, compiled once per process and cached.
 */

/** Facts about an alert that the alert itself does not carry, known once the target is resolved. */
export interface MatchContext {
  /** Labels of the target pod; without them, `labels` conditions read `k8s.pod.label.*` sender fields. */
  podLabels?: Record<string, string>;
  /** Nodes with alerts for the same incident. */
  affectedNodes?: number;
}

export interface PlaybookSelection {
  playbook: Playbook;
  reason: string;
  /** True when no playbook claimed the alert and the built-in triage playbook applies. */
  usedDefault: boolean;
}

export interface SeverityClassification {
  severity: Severity;
  reason: string;
  /** Index of the severity rule that applied; absent when the default applied. */
  ruleIndex?: number;
}

/** Returns true when the priority is the threshold or more severe. */
export function priorityAtLeast(priority: Priority, threshold: Priority): boolean {
  return falcoPriorities.indexOf(priority) <= falcoPriorities.indexOf(threshold);
}

/** Returns true when the severity is the threshold or worse (P0 is the worst). */
export function severityAtLeast(severity: Severity, threshold: Severity): boolean {
  return severity <= threshold;
}

/** Returns true when a containment step runs at the incident severity. */
export function stepApplies(step: ContainmentStep, severity: Severity): boolean {
  return step.severityAtLeast === undefined || severityAtLeast(severity, step.severityAtLeast);
}

/** Checks a priority threshold; an unrecognised sender priority never meets one. */
function priorityHolds(alert: Alert, threshold: Priority): boolean {
  return alert.priorityRecognised && priorityAtLeast(alert.priority, threshold);
}

function podLabelsOf(alert: Alert, context: MatchContext): Record<string, string> {
  if (context.podLabels !== undefined) {
    return context.podLabels;
  }
  const labels: Record<string, string> = {};
  for (const [field, value] of Object.entries(alert.fields)) {
    const key = /^k8s\.pod\.label(?:\.(.+)|\[(.+)\])$/.exec(field);
    const name = key?.[1] ?? key?.[2];
    if (name !== undefined) {
      labels[name] = String(value);
    }
  }
  return labels;
}

/** Returns true when every condition that is set holds for the alert. */
export function conditionsHold(conditions: MatchConditions, alert: Alert, context: MatchContext = {}): boolean {
  const { sources, rules, tags, namespaces, labels, fields } = conditions;
  if (sources !== undefined && !sources.includes(alert.source)) return false;
  if (rules !== undefined && !rules.some((rule) => matcherAccepts(rule, alert.rule))) return false;
  if (tags !== undefined && !tags.every((tag) => alert.tags.includes(tag))) return false;
  if (conditions.priorityAtLeast !== undefined && !priorityHolds(alert, conditions.priorityAtLeast)) return false;
  if (namespaces !== undefined && !namespaces.includes(alert.target.namespace ?? '')) return false;
  if (labels !== undefined) {
    const podLabels = podLabelsOf(alert, context);
    if (!Object.entries(labels).every(([key, value]) => podLabels[key] === value)) return false;
  }
  if (fields !== undefined) {
    const holds = Object.entries(fields).every(([key, matcher]) => {
      const value = alert.fields[key];
      return value !== undefined && matcherAccepts(matcher, String(value));
    });
    if (!holds) return false;
  }
  return true;
}

/** Returns true when the alert satisfies the playbook's match and none of its exclusions. */
export function playbookClaims(match: PlaybookMatch, alert: Alert, context: MatchContext = {}): boolean {
  if (match.exclude.some((exclusion) => conditionsHold(exclusion, alert, context))) {
    return false;
  }
  return conditionsHold(match, alert, context);
}

/**
 * Computes the specificity of a match, compared element by element with the larger value first. The
 * elements are the number of conditions set, then rules (2 when every rule is an exact name, 1 when any
 * is a pattern), then namespaces, labels, fields, tags, priorityAtLeast and sources (1 when set).
 */
export function specificityOf(match: MatchConditions): number[] {
  const rules = ruleRank(match.rules);
  const others = [match.namespaces, match.labels, match.fields, match.tags, match.priorityAtLeast, match.sources];
  const flags = others.map((value): number => (value === undefined ? 0 : 1));
  const count = flags.reduce((sum, flag) => sum + flag, rules > 0 ? 1 : 0);
  return [count, rules, ...flags];
}

function ruleRank(rules: readonly Matcher[] | undefined): number {
  if (rules === undefined) {
    return 0;
  }
  return rules.every((rule) => typeof rule === 'string') ? 2 : 1;
}

/** Orders two specificities: negative when `a` is more specific. */
export function compareSpecificity(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (b[index] ?? 0) - (a[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Orders playbooks by specificity, most specific first, then by name. */
export function comparePlaybooks(a: Playbook, b: Playbook): number {
  const bySpecificity = compareSpecificity(specificityOf(a.match), specificityOf(b.match));
  if (bySpecificity !== 0) {
    return bySpecificity;
  }
  // Code-unit order, not locale order, so every process and every replay sorts the same way.
  if (a.metadata.name === b.metadata.name) {
    return 0;
  }
  return a.metadata.name < b.metadata.name ? -1 : 1;
}

/**
 * Selects the playbook for an alert: exclusions first, then the most specific claiming playbook, then
 * the name. An alert that no playbook claims gets the built-in triage playbook.
 */
export function selectPlaybook(
  alert: Alert,
  playbooks: readonly Playbook[],
  context: MatchContext = {},
): PlaybookSelection {
  const claiming = playbooks
    .filter((playbook) => playbookClaims(playbook.match, alert, context))
    .sort(comparePlaybooks);
  const [chosen, ...others] = claiming;
  if (chosen === undefined) {
    return {
      playbook: builtinTriagePlaybook,
      reason: `no playbook claims rule ${JSON.stringify(alert.rule)} from ${alert.source}; the built-in triage playbook applies`,
      usedDefault: true,
    };
  }

  const conditions = describeMatch(chosen.match);
  let reason = `playbook ${chosen.metadata.name} v${chosen.metadata.version} claims the alert on ${conditions}`;
  if (others.length > 0) {
    reason += `; it is more specific than ${others.map((other) => other.metadata.name).join(', ')}`;
  }
  return { playbook: chosen, reason, usedDefault: false };
}

/** Describes the conditions a match sets, for example `rules (exact), sources`. */
export function describeMatch(match: MatchConditions): string {
  const parts: string[] = [];
  if (match.rules !== undefined) {
    parts.push(ruleRank(match.rules) === 2 ? 'rules (exact)' : 'rules (pattern)');
  }
  for (const name of ['namespaces', 'labels', 'fields', 'tags', 'priorityAtLeast', 'sources'] as const) {
    if (match[name] !== undefined) parts.push(name);
  }
  return parts.length === 0 ? 'no conditions (it claims every alert)' : parts.join(', ');
}

function severityConditionsHold(when: SeverityConditions, alert: Alert, context: MatchContext): boolean {
  const { affectedNodesAtLeast, ...conditions } = when;
  if (affectedNodesAtLeast !== undefined && (context.affectedNodes ?? 1) < affectedNodesAtLeast) {
    return false;
  }
  return conditionsHold(conditions, alert, context);
}

/**
 * Classifies the incident severity: the first severity rule whose conditions hold, else the default. A
 * worse severity stated by the sender replaces it unless the playbook sets `senderHint: ignore`.
 */
export function classifySeverity(alert: Alert, playbook: Playbook, context: MatchContext = {}): SeverityClassification {
  const byPlaybook = playbookSeverity(alert, playbook, context);
  const hint = alert.severityHint;
  if (playbook.severity.senderHint === 'raise' && hint !== undefined && hint < byPlaybook.severity) {
    return { severity: hint, reason: `the sender marked the alert ${hint}, worse than ${byPlaybook.severity}` };
  }
  return byPlaybook;
}

function playbookSeverity(alert: Alert, playbook: Playbook, context: MatchContext): SeverityClassification {
  for (const [ruleIndex, rule] of playbook.severity.rules.entries()) {
    if (severityConditionsHold(rule.when, alert, context)) {
      return { severity: rule.severity, reason: rule.reason, ruleIndex };
    }
  }
  const reason = playbook.severity.reason ?? `default severity of playbook ${playbook.metadata.name}`;
  return { severity: playbook.severity.default, reason };
}

export { builtinTriagePlaybook } from './playbook-triage';
