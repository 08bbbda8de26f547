import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Addresses and credentials of the servers that the test run started, written by the global setup. */
export const testEnvSchema = z.object({
  runDir: z.string(),
  logDir: z.string(),
  temporal: z.object({
    address: z.string(),
    namespace: z.string(),
    uiUrl: z.string(),
    version: z.string(),
    /** The `temporal` CLI binary, for tests that start a server of their own. */
    binary: z.string(),
  }),
  kube: z.object({
    server: z.string(),
    version: z.string(),
    kwokVersion: z.string(),
    caCert: z.string(),
    kubeconfigPath: z.string(),
    adminToken: z.string(),
    restrictedToken: z.string(),
    restrictedUser: z.string(),
    nodes: z.array(z.string()),
    logFiles: z.object({ current: z.string(), previous: z.string() }),
    execDir: z.string(),
  }),
});
export type TestEnv = z.infer<typeof testEnvSchema>;

export const testEnvVariable = 'FIREBREAK_TEST_ENV';

let cached: TestEnv | undefined;

/** Returns the test servers' settings; fails when the run did not go through the global setup. */
export function testEnv(): TestEnv {
  if (cached) {
    return cached;
  }
  const file = process.env[testEnvVariable];
  if (!file) {
    throw new Error(
      `${testEnvVariable} is not set: run the tests with \`npm test\`, whose global setup starts the servers`,
    );
  }
  cached = testEnvSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  return cached;
}
