import { z } from 'zod';
import type { IncidentRecord, TimelineEntry } from '../../domain/response';

/** Attack stages in kill-chain order, named after the MITRE ATT&CK enterprise tactics. */
export const attackStages = [
  'reconnaissance',
  'initial access',
  'execution',
  'persistence',
  'privilege escalation',
  'defense evasion',
  'credential access',
  'discovery',
  'lateral movement',
  'collection',
  'command and control',
  'exfiltration',
  'impact',
] as const;
export type AttackStage = (typeof attackStages)[number];

/** ATT&CK tactic ids (TA00xx) of each stage. */
const TACTIC_IDS: Record<string, AttackStage> = {
  TA0043: 'reconnaissance',
  TA0001: 'initial access',
  TA0002: 'execution',
  TA0003: 'persistence',
  TA0004: 'privilege escalation',
  TA0005: 'defense evasion',
  TA0006: 'credential access',
  TA0007: 'discovery',
  TA0008: 'lateral movement',
  TA0009: 'collection',
  TA0011: 'command and control',
  TA0010: 'exfiltration',
  TA0040: 'impact',
};

// Main tactic of ATT&CK techniques seen in container incidents (from the ATT&CK enterprise matrix).
// A technique that serves several tactics is listed under the one it most often shows in these alerts.
const TECHNIQUES: Record<string, AttackStage> = {
  T1595: 'reconnaissance',
  T1592: 'reconnaissance',
  T1590: 'reconnaissance',
  T1190: 'initial access',
  T1133: 'initial access',
  T1078: 'initial access',
  T1199: 'initial access',
  T1059: 'execution',
  T1609: 'execution',
  T1610: 'execution',
  T1203: 'execution',
  T1106: 'execution',
  T1204: 'execution',
  T1053: 'persistence',
  T1543: 'persistence',
  T1098: 'persistence',
  T1136: 'persistence',
  T1505: 'persistence',
  T1525: 'persistence',
  T1611: 'privilege escalation',
  T1068: 'privilege escalation',
  T1548: 'privilege escalation',
  T1574: 'privilege escalation',
  T1070: 'defense evasion',
  T1036: 'defense evasion',
  T1562: 'defense evasion',
  T1027: 'defense evasion',
  T1222: 'defense evasion',
  T1552: 'credential access',
  T1003: 'credential access',
  T1528: 'credential access',
  T1555: 'credential access',
  T1110: 'credential access',
  T1613: 'discovery',
  T1046: 'discovery',
  T1057: 'discovery',
  T1082: 'discovery',
  T1083: 'discovery',
  T1069: 'discovery',
  T1087: 'discovery',
  T1021: 'lateral movement',
  T1550: 'lateral movement',
  T1210: 'lateral movement',
  T1005: 'collection',
  T1560: 'collection',
  T1074: 'collection',
  T1530: 'collection',
  T1071: 'command and control',
  T1105: 'command and control',
  T1095: 'command and control',
  T1572: 'command and control',
  T1090: 'command and control',
  T1041: 'exfiltration',
  T1048: 'exfiltration',
  T1567: 'exfiltration',
  T1537: 'exfiltration',
  T1496: 'impact',
  T1485: 'impact',
  T1486: 'impact',
  T1489: 'impact',
  T1499: 'impact',
  T1490: 'impact',
};

/** Rule-name keywords, for alerts that carry no MITRE tags. Checked in order; every match counts. */
const RULE_KEYWORDS: [RegExp, AttackStage][] = [
  [/\b(scan|recon|probe)/i, 'reconnaissance'],
  [/exploit|public[- ]facing|webshell|web shell/i, 'initial access'],
  [/shell|spawn|exec|attach|launch|interpreter|run(s|ning)? .*binary/i, 'execution'],
  [/cron|systemd|authorized_keys|startup|persist|drop and execute|write below (etc|bin|root)/i, 'persistence'],
  [/privileged|setuid|escalat|escape|nsenter|capabilit|sudo|mount/i, 'privilege escalation'],
  [/clear(ed)? log|delete (bash )?history|tamper|disable|masquerad|remove bulk data/i, 'defense evasion'],
  [/sensitive file|credential|shadow|password|token|secret|private key/i, 'credential access'],
  [/discover|enumerat|contact k8s api|list (pods|secrets)|network tool/i, 'discovery'],
  [/lateral|remote (service|login)|ssh/i, 'lateral movement'],
  [/archive|collect|dump/i, 'collection'],
  [/reverse shell|netcat|outbound|command and control|c2\b|tunnel/i, 'command and control'],
  [/exfil|upload|data transfer/i, 'exfiltration'],
  [/miner|mining|crypto|stratum|xmrig|ransom|wipe|destroy|denial/i, 'impact'],
];

/** Stage of one MITRE tag: `mitre_execution`, `execution`, `TA0002` or a technique id such as `T1059.004`. */
export function stageOfTag(tag: string): AttackStage | undefined {
  const trimmed = tag.trim();
  const tactic = TACTIC_IDS[trimmed.toUpperCase()];
  if (tactic) return tactic;
  const technique = /^T\d{4}/i.exec(trimmed)?.[0]?.toUpperCase();
  if (technique) return TECHNIQUES[technique];
  const name = trimmed
    .toLowerCase()
    .replace(/^mitre_/, '')
    .replace(/[_-]+/g, ' ');
  return attackStages.find((stage) => stage === name);
}

export function stagesOfRule(rule: string): AttackStage[] {
  return RULE_KEYWORDS.filter(([pattern]) => pattern.test(rule)).map(([, stage]) => stage);
}

/** One stage of the attack chain with what placed an alert there. */
export interface AttackChainStage {
  stage: AttackStage;
  /** Earliest alert time mapped to the stage, when the timeline has one. */
  firstSeen?: string;
  /** `tag:<tag>` or `rule:<rule>` entries that placed alerts in this stage. */
  evidence: string[];
}

const alertDataSchema = z
  .object({
    rule: z.string().optional(),
    /** Distinct rules of an alert batch, as the incident workflow records them. */
    rules: z.array(z.string()).optional(),
    tags: z.array(z.string()).optional(),
    mitre: z
      .object({ techniques: z.array(z.string()), tactics: z.array(z.string()) })
      .partial()
      .optional(),
  })
  .loose();

/**
 * Maps the incident's alerts to attack stages. MITRE tags decide first; a rule name decides only for an
 * alert without tags that map, because keywords are a weaker signal.
 */
export function mapAttackChain(record: IncidentRecord): AttackChainStage[] {
  const found = new Map<AttackStage, { firstSeen?: string; evidence: Set<string> }>();
  const add = (stage: AttackStage, evidence: string, at?: string) => {
    const entry = found.get(stage) ?? { evidence: new Set<string>() };
    entry.evidence.add(evidence);
    if (at && (!entry.firstSeen || at < entry.firstSeen)) entry.firstSeen = at;
    found.set(stage, entry);
  };
  const mapAlert = (tags: string[], rules: string[], at?: string) => {
    const tagged = tags.flatMap((tag) => {
      const stage = stageOfTag(tag);
      return stage ? [{ stage, tag }] : [];
    });
    tagged.forEach(({ stage, tag }) => add(stage, `tag:${tag}`, at));
    if (tagged.length > 0) return;
    rules.forEach((rule) => stagesOfRule(rule).forEach((stage) => add(stage, `rule:${rule}`, at)));
  };

  for (const entry of record.timeline.filter((candidate) => candidate.kind === 'alert')) {
    const data = alertDataSchema.safeParse(entry.data ?? {});
    if (!data.success) continue;
    const tags = [
      ...(data.data.tags ?? []),
      ...(data.data.mitre?.tactics ?? []),
      ...(data.data.mitre?.techniques ?? []),
    ];
    const rules = [...(data.data.rule ? [data.data.rule] : []), ...(data.data.rules ?? [])];
    mapAlert(tags, rules, entry.at);
  }
  mapAlert([...record.mitre.tactics, ...record.mitre.techniques], record.rules);

  return attackStages.flatMap((stage) => {
    const entry = found.get(stage);
    return entry ? [{ stage, firstSeen: entry.firstSeen, evidence: [...entry.evidence].sort() }] : [];
  });
}

/** Returns the incident timeline in time order. Entries with equal times keep their recorded order. */
export function buildTimeline(record: IncidentRecord): TimelineEntry[] {
  return record.timeline
    .map((entry, index) => ({ entry, index, ms: Date.parse(entry.at) }))
    .sort((a, b) => (Number.isNaN(a.ms) || Number.isNaN(b.ms) || a.ms === b.ms ? a.index - b.index : a.ms - b.ms))
    .map(({ entry }) => entry);
}
