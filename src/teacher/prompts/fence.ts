import { sha256 } from '../../util/hash.js';

/**
 * Delimits untrusted code. The fence token is derived from the code itself (a hash), so it is
 * stable for caching yet cannot be written into the code in advance: the code would have to
 * contain a hash of itself. Should the token appear anyway, a counter derives another one.
 */
export function fenceToken(code: string, salt: string): string {
  for (let i = 0; ; i++) {
    const token = sha256(`${salt}\u0000${i}\u0000${code}`).slice(0, 20);
    if (!code.includes(token)) return token;
  }
}

export function openMarker(token: string): string {
  return `<<<CODE ${token}>>>`;
}

export function closeMarker(token: string): string {
  return `<<<END CODE ${token}>>>`;
}

/** The code between its two markers, each on a line of its own, the code unchanged. */
export function fenceCode(code: string, token: string): string {
  return `${openMarker(token)}\n${code}\n${closeMarker(token)}`;
}
