/**
 * GPT-2's byte-level alphabet: every byte maps to one printable code point, so any UTF-8 text
 * (valid or not) becomes a string of "byte characters" that BPE can merge. Printable Latin-1
 * bytes map to themselves; the other 68 bytes map to U+0100 upwards in byte order.
 */

function buildByteToChar(): string[] {
  const table: string[] = new Array(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(printable(b) ? b : 256 + next++);
  }
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** UTF-8 bytes of text, written in the byte-level alphabet. */
export function toByteLevel(text: string): string {
  return bytesToByteLevel(encoder.encode(text));
}

export function bytesToByteLevel(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b]!;
  return out;
}

/** The bytes a byte-level string stands for; undefined when it holds a character outside the alphabet. */
export function byteLevelToBytes(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (const ch of text) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return Uint8Array.from(out);
}
