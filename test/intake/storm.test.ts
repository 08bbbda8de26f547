import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { startIntakeHarness, type IntakeHarness } from './harness';

const template = z
  .object({ uuid: z.string(), output_fields: z.record(z.string(), z.unknown()) })
  .loose()
  .parse(JSON.parse(readFileSync(join(__dirname, 'fixtures', 'falcosidekick-terminal-shell.json'), 'utf8')));

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness();
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

/** The same rule on the same pod, as a shell loop makes Falco fire: only the event id and time differ. */
function stormEvent(index: number): string {
  const event = {
    ...template,
    uuid: `5707a000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    output_fields: { ...template.output_fields, 'evt.time': 0 },
  };
  const nanoseconds = `17734987274182${String(index).padStart(5, '0')}`;
  return JSON.stringify(event).replace('"evt.time":0', `"evt.time":${nanoseconds}`);
}

test('1000 concurrent alerts make one incident', async () => {
  const total = 1000;
  const responses = await Promise.all(
    Array.from({ length: total }, (_, index) => intake.post('/v1/alerts/falco', stormEvent(index))),
  );
  const answers = await Promise.all(
    responses.map(async (response) => ({
      status: response.status,
      body: z.object({ workflowId: z.string(), accepted: z.number() }).parse(await response.json()),
    })),
  );

  expect(answers.filter((answer) => answer.status === 202)).toHaveLength(total);
  const workflowIds = new Set(answers.map((answer) => answer.body.workflowId));
  expect(workflowIds.size).toBe(1);
  const [workflowId] = workflowIds;
  const status = await intake.status(workflowId!);
  expect(status.alertCount).toBe(total);
  expect(new Set(status.alertIds).size).toBe(total);
  expect(status.signals).toBeLessThan(total / 4);

  const description = await intake.client.workflow.getHandle(workflowId!).describe();
  expect(description.historyLength).toBeLessThan(total / 2);
}, 120_000);
