import type { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { FirebreakActivities, SlackActivities } from '../domain/response';
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

/** Builds every activity the incident workflow calls, for one worker. */
export function createActivities(deps: ActivityDeps) {
  const slack: SlackActivities = deps.slack ? createSlackActivities(deps.slack) : unconfiguredSlackActivities();
  const store = deps.evidence?.store ?? new LocalEvidenceStore(defaultEvidenceDir());
  return {
    ...createKubernetesActivities({ ...deps.kubernetes, kubeConfig: deps.kubeConfig }),
    ...createEvidenceActivities({ ...deps.evidence, store, kubeConfig: deps.kubeConfig }),
    ...createReportActivities({ ...deps.report, store }),
    ...slack,
    ...createEscalationActivities(deps.escalation),
    ...createPlaybookActivities(deps.playbooks),
  } satisfies FirebreakActivities;
}
