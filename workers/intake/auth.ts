import { createHash, timingSafeEqual } from 'node:crypto';

const bearerPattern = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 section 2.1) against the expected token in constant time:
 * both sides are hashed with SHA-256 first, so the comparison takes the same time whatever the lengths.
 */
export function createBearerCheck(expectedToken: string): (authorization: string | undefined) => boolean {
  if (expectedToken.length === 0) {
    throw new Error('the intake token is empty: set a non-empty token');
  }
  const expectedDigest = sha256(expectedToken);
  return (authorization) => {
    const presented = authorization === undefined ? undefined : bearerPattern.exec(authorization)?.[1];
    const digest = sha256(presented ?? '');
    return timingSafeEqual(digest, expectedDigest) && presented !== undefined;
  };
}
