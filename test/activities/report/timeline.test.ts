import { buildTimeline, mapAttackChain, stageOfTag, stagesOfRule } from '../../../activities/report/timeline';
import { incidentRecordFor, sampleTarget } from './incident-record';

describe('attack chain', () => {
  test.each([
    ['mitre_execution', 'execution'],
    ['mitre_privilege_escalation', 'privilege escalation'],
    ['mitre_command_and_control', 'command and control'],
    ['TA0003', 'persistence'],
    ['T1059', 'execution'],
    ['T1059.004', 'execution'],
    ['T1611', 'privilege escalation'],
    ['T1552.001', 'credential access'],
    ['T1613', 'discovery'],
    ['T1041', 'exfiltration'],
    ['T1595', 'reconnaissance'],
    ['T1190', 'initial access'],
    ['T1021', 'lateral movement'],
    ['T1005', 'collection'],
    ['T1496', 'impact'],
    ['T1070', 'defense evasion'],
  ])('stageOfTag maps %s to %s', (tag, stage) => {
    expect(stageOfTag(tag)).toBe(stage);
  });

  test('stageOfTag ignores tags that are not MITRE', () => {
    expect(stageOfTag('container')).toBeUndefined();
    expect(stageOfTag('PCI_DSS_11.5.1')).toBeUndefined();
    expect(stageOfTag('T9999')).toBeUndefined();
  });

  test('stagesOfRule reads Falco rule names', () => {
    expect(stagesOfRule('Terminal shell in container')).toContain('execution');
    expect(stagesOfRule('Read sensitive file untrusted')).toContain('credential access');
    expect(stagesOfRule('Detect crypto miners using the Stratum protocol')).toContain('impact');
    expect(stagesOfRule('Launch Privileged Container')).toContain('privilege escalation');
  });

  test('mapAttackChain orders stages and keeps first-seen times', () => {
    const chain = mapAttackChain(incidentRecordFor(sampleTarget));
    expect(chain.map((stage) => stage.stage)).toEqual(['execution', 'persistence']);
    expect(chain[0]?.firstSeen).toBe('2024-12-04T12:00:03.000Z');
    expect(chain[0]?.evidence).toEqual(['tag:T1059', 'tag:mitre_execution']);
    expect(chain[1]?.firstSeen).toBe('2024-12-04T12:04:10.000Z');
    expect(chain[1]?.evidence).toEqual(['tag:TA0003', 'tag:mitre_persistence']);
  });

  test('mapAttackChain falls back to rule names without tags', () => {
    const record = { ...incidentRecordFor(sampleTarget), timeline: [], mitre: { techniques: [], tactics: [] } };
    record.rules = ['Detect outbound connections to common miner pool ports'];
    const stages = mapAttackChain(record).map((stage) => stage.stage);
    expect(stages).toEqual(['command and control', 'impact']);
  });

  test('buildTimeline sorts entries by time', () => {
    const record = incidentRecordFor(sampleTarget);
    const [first, ...rest] = record.timeline;
    if (!first) throw new Error('the sample record has no timeline');
    const shuffled = { ...record, timeline: [...rest, first] };
    expect(buildTimeline(shuffled)[0]).toEqual(first);
  });
});
