import { sha256 } from '../util/hash.js';

/**
 * Removes C/C++ comments while leaving string and character literals intact (a "//" inside a
 * string is not a comment). Newlines inside block comments are kept so line numbers survive.
 */
export function stripComments(code: string): string {
  let out = '';
  let i = 0;
  const n = code.length;
  while (i < n) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '/') {
      i += 2;
      while (i < n && code[i] !== '\n') {
        // A backslash-newline continues a line comment onto the next line.
        if (code[i] === '\\' && code[i + 1] === '\n') i++;
        i++;
      }
      continue;
    }
    if (c === '/' && next === '*') {
      i += 2;
      out += ' ';
      while (i < n && !(code[i] === '*' && code[i + 1] === '/')) {
        if (code[i] === '\n') out += '\n';
        i++;
      }
      i += 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const quote = c;
      out += c;
      i++;
      while (i < n && code[i] !== quote && code[i] !== '\n') {
        if (code[i] === '\\' && i + 1 < n) {
          out += code[i]! + code[i + 1]!;
          i += 2;
          continue;
        }
        out += code[i]!;
        i++;
      }
      if (i < n && code[i] === quote) {
        out += quote;
        i++;
      }
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Comment- and whitespace-insensitive form of a function: the basis of exact-duplicate detection. */
export function normalizeCode(code: string): string {
  return stripComments(code.replace(/\r\n?/g, '\n'))
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line.length > 0)
    .join('\n');
}

export function codeHash(code: string): string {
  return sha256(normalizeCode(code));
}
