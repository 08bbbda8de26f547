'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** Prints the versions of the servers the run used, where their logs are, and a plain closing line. */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const envFile = process.env.FIREBREAK_TEST_ENV;
    let env;
    try {
      env = envFile ? JSON.parse(require('node:fs').readFileSync(envFile, 'utf8')) : undefined;
    } catch {
      env = undefined;
    }
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    if (env) {
      process.stdout.write(
        `\nRan against Temporal (temporal CLI ${env.temporal.version} dev server) and kube-apiserver ${env.kube.version} (kwok ${env.kube.kwokVersion}).\n`,
      );
      if (failed > 0) {
        writeFileSync(join(env.runDir, 'failed'), String(failed));
        process.stdout.write(`Server logs of this failed run: ${env.logDir}\n`);
      }
    }
    process.stdout.write(`${results.numPassedTests} passed, ${failed} failed\n`);
  }
}

module.exports = SummaryReporter;
