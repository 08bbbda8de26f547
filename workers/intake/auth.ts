import { createHash, timingSafeEqual } from 'node:crypto';

const bearerPattern = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Shortest intake token accepted; `openssl rand -hex 24` makes a 48-character one. */
export const minTokenLength = 16;

/**
 * Checks an intake token at startup and returns it. Raises when it contains whitespace (a bearer token in
 * an `Authorization` header never can, so no request could match) or is shorter than `minTokenLength`.
 * `origin` names where the token came from, for the message.
 */
export function checkIntakeToken(token: string, origin: string): string {
  if (/\s/.test(token)) {
    throw new Error(
      `the intake token in ${origin} contains whitespace: use one word, such as \`openssl rand -hex 24\``,
    );
  }
  if (token.length < minTokenLength) {
    throw new Error(
      `the intake token in ${origin} has ${token.length} characters, fewer than ${minTokenLength}: ` +
        'use a longer random token, such as `openssl rand -hex 24`',
    );
  }
  return token;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 section 2.1) against the expected token in constant time:
 * both sides are hashed with SHA-256 first, so the comparison takes the same time whatever the lengths.
 */
export function createBearerCheck(expectedToken: string): (authorization: string | undefined) => boolean {
  const expectedDigest = sha256(checkIntakeToken(expectedToken, 'the intake options'));
  return (authorization) => {
    const presented = authorization === undefined ? undefined : bearerPattern.exec(authorization)?.[1];
    const digest = sha256(presented ?? '');
    return timingSafeEqual(digest, expectedDigest) && presented !== undefined;
  };
}
