import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionOptions, incidentUiUrl, temporalSettingsFromEnv } from '../../workers/temporal';

test('temporal settings default to a local dev server', () => {
  const settings = temporalSettingsFromEnv({});

  expect(connectionOptions(settings)).toEqual({ address: '127.0.0.1:7233' });
  expect(settings.namespace).toBe('default');
  expect(settings.taskQueue).toBe('firebreak');
});

test('temporal settings turn TLS on with an API key', () => {
  const settings = temporalSettingsFromEnv({
    TEMPORAL_ADDRESS: 'firebreak.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'firebreak.a1b2c',
    TEMPORAL_API_KEY: 'test-api-key',
  });

  expect(connectionOptions(settings)).toEqual({
    address: 'firebreak.a1b2c.tmprl.cloud:7233',
    tls: true,
    apiKey: 'test-api-key',
  });
});

test('temporal settings read mutual TLS files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'firebreak-tls-'));
  for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(join(dir, name), `${name} contents`);

  const settings = temporalSettingsFromEnv({
    TEMPORAL_TLS_CA_FILE: join(dir, 'ca.pem'),
    TEMPORAL_TLS_CERT_FILE: join(dir, 'client.pem'),
    TEMPORAL_TLS_KEY_FILE: join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });

  const tls = settings.tls;
  expect(typeof tls).toBe('object');
  if (typeof tls !== 'object') return;
  expect(tls.serverNameOverride).toBe('temporal.internal');
  expect(Buffer.from(tls.serverRootCACertificate ?? []).toString()).toBe('ca.pem contents');
  expect(Buffer.from(tls.clientCertPair?.key ?? []).toString()).toBe('client.key contents');
});

test('temporal settings reject a certificate without its key', () => {
  expect(() => temporalSettingsFromEnv({ TEMPORAL_TLS_CERT_FILE: '/etc/firebreak/client.pem' })).toThrow(
    'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE must be set together',
  );
});

test('temporal settings name the invalid variable', () => {
  expect(() => temporalSettingsFromEnv({ FIREBREAK_TEMPORAL_UI_URL: 'not a url' })).toThrow(
    'FIREBREAK_TEMPORAL_UI_URL',
  );
});

test('incident link points at the workflow in the Web UI', () => {
  const settings = temporalSettingsFromEnv({ FIREBREAK_TEMPORAL_UI_URL: 'http://127.0.0.1:8233/' });

  expect(incidentUiUrl(settings, 'incident-3f9a0c2be41d7a55')).toBe(
    'http://127.0.0.1:8233/namespaces/default/workflows/incident-3f9a0c2be41d7a55',
  );
});
