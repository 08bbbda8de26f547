import type { MatchConditions, Playbook } from './playbook';
import { compareSpecificity, specificityOf } from './playbook-match';
import { describeMatcher, matcherAccepts, type Matcher } from './playbook-patterns';

/**
 * Static check for two playbooks that could claim the same alert at the same specificity, which would
 * leave the choice between them to their names. An overlap is reported when an example alert that both
 * claim can be built from their conditions. Exclusions are ignored, so two playbooks that differ only in
 * their exclusions overlap.
 *
 * NOTE: two different regex matchers are never compared with each other, so two playbooks whose rules are
 * only different patterns are ordered by name without an error, even when one text fits both.
 */

export interface PlaybookOverlap {
  first: Playbook;
  second: Playbook;
  /** The example alert both claim, for example `rule "Terminal shell in container", source falco`. */
  example: string;
}

/** Returns every pair of playbooks with equal specificity whose matches can claim the same alert. */
export function findOverlaps(playbooks: readonly Playbook[]): PlaybookOverlap[] {
  const overlaps: PlaybookOverlap[] = [];
  for (const [index, first] of playbooks.entries()) {
    for (const second of playbooks.slice(index + 1)) {
      if (compareSpecificity(specificityOf(first.match), specificityOf(second.match)) !== 0) {
        continue;
      }
      const example = sharedAlert(first.match, second.match);
      if (example !== undefined) {
        overlaps.push({ first, second, example });
      }
    }
  }
  return overlaps;
}

/** Describes an alert that both matches claim, or returns undefined when none can be built. */
function sharedAlert(a: MatchConditions, b: MatchConditions): string | undefined {
  const parts: string[] = [];

  if (a.rules !== undefined && b.rules !== undefined) {
    const rule = sharedValue(a.rules, b.rules);
    if (rule === undefined) return undefined;
    parts.push(`rule ${rule}`);
  }
  if (a.sources !== undefined && b.sources !== undefined) {
    const source = a.sources.find((candidate) => b.sources?.includes(candidate));
    if (source === undefined) return undefined;
    parts.push(`source ${source}`);
  }
  if (a.namespaces !== undefined && b.namespaces !== undefined) {
    const namespace = a.namespaces.find((candidate) => b.namespaces?.includes(candidate));
    if (namespace === undefined) return undefined;
    parts.push(`namespace ${namespace}`);
  }
  if (a.labels !== undefined && b.labels !== undefined) {
    const labels = { ...a.labels, ...b.labels };
    const conflict = Object.entries(a.labels).some(([key, value]) => labels[key] !== value);
    if (conflict) return undefined;
    parts.push(`labels ${JSON.stringify(labels)}`);
  }
  if (a.fields !== undefined && b.fields !== undefined) {
    for (const [key, matcher] of Object.entries(a.fields)) {
      const other = b.fields[key];
      if (other !== undefined && sharedValue([matcher], [other]) === undefined) return undefined;
    }
    parts.push('fields that fit both');
  }
  if (a.tags !== undefined && b.tags !== undefined) {
    parts.push(`tags ${[...new Set([...a.tags, ...b.tags])].join(', ')}`);
  }
  if (a.priorityAtLeast !== undefined && b.priorityAtLeast !== undefined) {
    parts.push('the most severe priority');
  }
  return parts.length === 0 ? 'every alert' : parts.join(', ');
}

/**
 * Returns a quoted value that one matcher of each list accepts: an exact value the other side accepts, or
 * a regex both sides write identically.
 */
function sharedValue(a: readonly Matcher[], b: readonly Matcher[]): string | undefined {
  for (const [first, second] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const matcher of first) {
      if (typeof matcher === 'string' && second.some((other) => matcherAccepts(other, matcher))) {
        return JSON.stringify(matcher);
      }
    }
  }
  const patternsOfB = new Set(b.filter((matcher) => typeof matcher !== 'string').map(describeMatcher));
  const samePattern = a.find((matcher) => typeof matcher !== 'string' && patternsOfB.has(describeMatcher(matcher)));
  return samePattern === undefined ? undefined : `text matching ${describeMatcher(samePattern)}`;
}
