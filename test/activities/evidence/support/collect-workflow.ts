import { proxyActivities } from '@temporalio/workflow';
import type { CollectEvidenceActivityInput } from '../../../../activities/evidence';
import type { CollectEvidenceOutput } from '../../../../activities/evidence/result';

/** Options of one `collectEvidence` run: the input and the heartbeat timeout to run it under. */
export interface CollectRunInput {
  evidence: CollectEvidenceActivityInput;
  heartbeatTimeoutMs: number;
}

/** Runs `collectEvidence` once, with no retries, under the given heartbeat timeout. */
export async function collectOnce(input: CollectRunInput): Promise<CollectEvidenceOutput> {
  const { collectEvidence } = proxyActivities<{
    collectEvidence: (input: CollectEvidenceActivityInput) => Promise<CollectEvidenceOutput>;
  }>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    retry: { maximumAttempts: 1 },
  });
  return collectEvidence(input.evidence);
}
