import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { demoTrustedImage, registerDemoCommands, runDemo } from '../../../cli/commands/demo';
import { demoPod } from '../../../tools/lab/demo';
import { labOperator } from '../../../tools/lab/playbooks';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import { startMainJobHarness, type MainJobHarness } from '../../e2e/support/harness';
import { createCheckoutWorkload } from '../../e2e/support/workload';

/** A namespace of its own, so the demo's incident never joins one that another test file starts. */
const namespace = 'shop-demo';

let harness: MainJobHarness;
let tokenFile: string;

beforeAll(async () => {
  await createCheckoutWorkload(kubeConfigFor('admin'), namespace, testEnv().kube.nodes[0] ?? 'kwok-node-0');
  harness = await startMainJobHarness('demo', { quietPeriod: '2s', watchPeriod: '1s' });
  tokenFile = join(mkdtempSync(join(tmpdir(), 'firebreak-demo-')), 'intake-token');
  writeFileSync(tokenFile, `${harness.token}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

test('demo command registers its options', () => {
  const program = new Command('firebreak');
  registerDemoCommands(program);
  const demo = program.commands.find((command) => command.name() === 'demo');

  expect(demo?.options.map((option) => option.long)).toEqual([
    '--intake-url',
    '--token-file',
    '--kubeconfig',
    '--temporal-address',
  ]);
});

test('demo follows one incident to its report', async () => {
  const lines: string[] = [];
  const { address } = testEnv().temporal;

  await runDemo({
    intakeUrl: harness.intakeUrl,
    tokenFile,
    kubeconfig: testEnv().kube.kubeconfigPath,
    temporal: { address, namespace: 'default', taskQueue: harness.taskQueue, uiUrl: testEnv().temporal.uiUrl },
    operator: labOperator,
    evidenceDir: harness.evidenceDir,
    target: { namespace, pod: demoPod },
    imageDigest: demoTrustedImage,
    out: (text) => lines.push(text),
  });

  const text = lines.join('\n');
  const incidentId = /-> (incident-[0-9a-f]{16}) \(new incident\)/.exec(text)?.[1];
  expect(incidentId).toBeDefined();
  expect(text.match(/\(same incident\)/g)).toHaveLength(2);
  expect(text).toContain(`pod ${namespace}/${demoPod} runs on kwok-node-0`);
  expect(text).toContain(`quarantined ${namespace}/${demoPod}`);
  expect(text).toContain(`> firebreak decide ${incidentId} escalate approve, as ${labOperator}`);
  expect(text).toMatch(/outcome {6}restored/);
  expect(text).toMatch(/evidence {5}incident-\w+: verified \d+ custody entries in .*; every artefact matches its hash/);
  expect(text).toMatch(/Temporal {5}COMPLETED: .*FirebreakPhase=closed/);
  expect(text).toContain(`Temporal UI      ${testEnv().temporal.uiUrl}/namespaces/default/workflows/${incidentId}`);
  const reportLine = lines.find((line) => line.includes('Report           ')) ?? '';
  const runsDir = join(harness.reportDir, incidentId ?? '', 'runs');
  expect(reportLine).toContain(`Report           ${runsDir}/`);
  expect(reportLine.endsWith('/report.md')).toBe(true);
  expect(text).toContain(
    `Evidence check   ./bin/firebreak evidence verify ${incidentId} --dir ${harness.evidenceDir} --report-dir ${harness.reportDir}`,
  );
  expect(harness.escalation.events.map((event) => event.dedup_key)).toEqual([incidentId]);
});
