import { bundleWorkflowCode } from '@temporalio/worker';

test('workflow bundle builds without warnings', async () => {
  const warnings: string[] = [];
  const record = (message: string) => warnings.push(message);
  const logger = {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: record,
    error: record,
  };

  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger });

  expect(warnings).toEqual([]);
  expect(bundle.code).toContain('incidentWorkflow');
});
