/**
 * Names of the search attributes the incident workflow upserts, and their Temporal types. Every Temporal
 * namespace that runs Firebreak must register them (`temporal operator search-attribute create`).
 */
export const incidentSearchAttributes = {
  phase: { name: 'FirebreakPhase', type: 'KEYWORD' },
  severity: { name: 'FirebreakSeverity', type: 'KEYWORD' },
  namespace: { name: 'FirebreakNamespace', type: 'KEYWORD' },
  workload: { name: 'FirebreakWorkload', type: 'KEYWORD' },
  node: { name: 'FirebreakNode', type: 'KEYWORD' },
  rule: { name: 'FirebreakRule', type: 'KEYWORD' },
  /** The gate waiting for a decision, or `none`. */
  gate: { name: 'FirebreakGate', type: 'KEYWORD' },
  alertCount: { name: 'FirebreakAlertCount', type: 'INT' },
} as const;
