import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabPki {
  caCert: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/**
 * Writes a throwaway CA, a serving certificate for 127.0.0.1 and localhost (shared by kube-apiserver and
 * kwok), and the service-account signing key pair. Uses the machine's openssl for the certificates.
 */
export function writeLabPki(dir: string): LabPki {
  const pki: LabPki = {
    caCert: join(dir, 'ca.crt'),
    servingCert: join(dir, 'serving.crt'),
    servingKey: join(dir, 'serving.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
  const caKey = join(dir, 'ca.key');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=firebreak-lab-ca',
    '-keyout',
    caKey,
    '-out',
    pki.caCert,
  );

  const csr = join(dir, 'serving.csr');
  const ext = join(dir, 'serving.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.servingKey, '-out', csr, '-subj', '/CN=127.0.0.1');
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    pki.servingCert,
    '-days',
    '30',
    '-extfile',
    ext,
  );

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(pki.serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pki.serviceAccountPub, publicKey.export({ type: 'spki', format: 'pem' }));
  return pki;
}

/** Returns a random bearer token for the static token file. */
export function randomToken(): string {
  return randomBytes(24).toString('hex');
}
