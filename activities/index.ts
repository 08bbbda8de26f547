import type { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { EvidenceActivities, FirebreakActivities, ReportActivities, SlackActivities } from '../domain/response';
import { createEvidenceActivities, type EvidenceDeps } from './evidence';
import { createKubernetesActivities, type KubernetesActivityDeps } from './kubernetes';
import { createEscalationActivities, type EscalationActivityDeps } from './notify/escalate';
import { createSlackActivities, type SlackActivityDeps } from './notify/slack';
import { createPlaybookActivities, type PlaybookActivityDeps } from './playbooks';
import { defaultEvidenceDir, LocalEvidenceStore } from './evidence/store';
import { createReportActivities, type ReportDeps } from './report';

/** Everything the activities need; each part goes to the factory of its activities. */
export interface ActivityDeps {
  kubeConfig: KubeConfig;
  kubernetes?: Omit<KubernetesActivityDeps, 'kubeConfig'>;
  evidence?: Omit<EvidenceDeps, 'kubeConfig'>;
  /** Slack client and defaults; without them every Slack activity fails with `SlackNotConfigured`. */
  slack?: SlackActivityDeps;
  escalation?: EscalationActivityDeps;
  playbooks?: PlaybookActivityDeps;
  /** Report folder; the report reads the same evidence store as the evidence activities. */
  report?: Omit<ReportDeps, 'store'>;
}

function slackNotConfigured(): never {
  throw ApplicationFailure.create({
    message: 'Slack is not configured on this worker: set SLACK_BOT_TOKEN to post gate messages',
    type: 'SlackNotConfigured',
    nonRetryable: true,
  });
}

/** Slack activities of a worker without Slack: they fail at once, and the gates still take CLI decisions. */
function unconfiguredSlackActivities(): SlackActivities {
  return {
    resolveApproverGroups: async () => slackNotConfigured(),
    postGateMessage: async () => slackNotConfigured(),
    updateGateMessage: async () => slackNotConfigured(),
    postGateReminder: async () => slackNotConfigured(),
    postGateEscalation: async () => slackNotConfigured(),
  };
}

/**
 * Builds the evidence and report activities, which write and read the evidence store and capture logs,
 * processes, connections and checkpoints. A worker that runs them needs the evidence identity's rights.
 */
export function createEvidenceAndReportActivities(deps: ActivityDeps): EvidenceActivities & ReportActivities {
  const store = deps.evidence?.store ?? new LocalEvidenceStore(defaultEvidenceDir());
  return {
    ...createEvidenceActivities({ ...deps.evidence, store, kubeConfig: deps.kubeConfig }),
    ...createReportActivities({ ...deps.report, store }),
  };
}

/** Builds every activity except the evidence and report ones: containment, recovery, Slack, paging, playbooks. */
export function createContainmentActivities(deps: ActivityDeps) {
  const slack: SlackActivities = deps.slack ? createSlackActivities(deps.slack) : unconfiguredSlackActivities();
  return {
    ...createKubernetesActivities({ ...deps.kubernetes, kubeConfig: deps.kubeConfig }),
    ...slack,
    ...createEscalationActivities(deps.escalation),
    ...createPlaybookActivities(deps.playbooks),
  } satisfies Omit<FirebreakActivities, keyof EvidenceActivities | keyof ReportActivities>;
}

/** Builds every activity the incident workflow calls, for one worker. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createContainmentActivities(deps),
    ...createEvidenceAndReportActivities(deps),
  } satisfies FirebreakActivities;
}
