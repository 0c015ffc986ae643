/**
 * The pre-tokenizer llama.cpp applies for `tokenizer.ggml.pre = qwen2` (its hand-written
 * unicode_regex_split_custom_qwen2, which implements
 *   (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * ). This follows that code's decisions step by step, not the regex, so that our training and
 * encoding split text exactly where llama.cpp does. Whitespace is Unicode White_Space (what
 * llama.cpp's table holds; it differs from JavaScript's \s at U+0085 and U+FEFF).
 */

const LETTER = 1;
const NUMBER = 2;
const SPACE = 4;
const KNOWN = 8;

const classCache = new Uint8Array(0x110000);
const letterRe = /\p{L}/u;
const numberRe = /\p{N}/u;
const spaceRe = /\p{White_Space}/u;

function classOf(cp: number): number {
  let c = classCache[cp]!;
  if (c === 0) {
    const ch = String.fromCodePoint(cp);
    c = KNOWN | (letterRe.test(ch) ? LETTER : 0) | (numberRe.test(ch) ? NUMBER : 0) | (spaceRe.test(ch) ? SPACE : 0);
    classCache[cp] = c;
  }
  return c;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE_CHAR = 0x20;
const APOSTROPHE = 0x27;

function asciiLower(cp: number): number {
  return cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp;
}

/**
 * Calls emit(start, end) for each piece, with UTF-16 offsets into text. Lone surrogates are
 * treated as U+FFFD, the character they become when the text is encoded as UTF-8.
 */
export function forEachQwen2Piece(text: string, emit: (start: number, end: number) => void): void {
  const cps: number[] = [];
  const unitAt: number[] = [];
  for (let i = 0; i < text.length; ) {
    let cp = text.codePointAt(i)!;
    unitAt.push(i);
    const width = cp > 0xffff ? 2 : 1;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    cps.push(cp);
    i += width;
  }
  unitAt.push(text.length);
  const n = cps.length;
  // 0 stands for "past the end": no class at all, like llama.cpp's OUT_OF_RANGE flags.
  const cls = (p: number): number => (p < n ? classOf(cps[p]!) : 0);
  const cpAt = (p: number): number => (p < n ? cps[p]! : -1);

  let prevEnd = 0;
  const add = (end: number): number => {
    const len = end - prevEnd;
    if (len > 0) emit(unitAt[prevEnd]!, unitAt[end]!);
    prevEnd = end;
    return len;
  };

  for (let pos = 0; pos < n; ) {
    const cp = cps[pos]!;
    const flags = cls(pos);

    // 's 't 're 've 'm 'll 'd, case-insensitive
    if (cp === APOSTROPHE && pos + 1 < n) {
      const next = asciiLower(cps[pos + 1]!);
      if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
        pos += add(pos + 2);
        continue;
      }
      if (pos + 2 < n) {
        const nextNext = asciiLower(cps[pos + 2]!);
        if ((next === 0x72 && nextNext === 0x65) || (next === 0x76 && nextNext === 0x65) || (next === 0x6c && nextNext === 0x6c)) {
          pos += add(pos + 3);
          continue;
        }
      }
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(cp === CR || cp === LF || flags & NUMBER)) {
      if (flags & LETTER || cls(pos + 1) & LETTER) {
        pos++;
        while (cls(pos) & LETTER) pos++;
        add(pos);
        continue;
      }
    }

    // \p{N}: one digit per piece
    if (flags & NUMBER) {
      pos++;
      add(pos);
      continue;
    }

    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    let flags2 = cp === SPACE_CHAR ? cls(pos + 1) : flags;
    if (!(flags2 & (SPACE | LETTER | NUMBER)) && flags !== 0) {
      if (cp === SPACE_CHAR) pos++;
      while (!(flags2 & (SPACE | LETTER | NUMBER)) && flags2 !== 0) flags2 = cls(++pos);
      let cp2 = cpAt(pos);
      while (cp2 === CR || cp2 === LF) cp2 = cpAt(++pos);
      add(pos);
      continue;
    }

    let spaces = 0;
    let lastLineBreakEnd = 0;
    while (cls(pos + spaces) & SPACE) {
      const c = cps[pos + spaces]!;
      if (c === CR || c === LF) lastLineBreakEnd = pos + spaces + 1;
      spaces++;
    }
    // \s*[\r\n]+
    if (lastLineBreakEnd > 0) {
      pos = lastLineBreakEnd;
      add(pos);
      continue;
    }
    // \s+(?!\S): leave the last space to start the next piece
    if (spaces > 1 && pos + spaces < n) {
      pos += spaces - 1;
      add(pos);
      continue;
    }
    // \s+
    if (spaces > 0) {
      pos += spaces;
      add(pos);
      continue;
    }
    add(++pos);
  }
}

export function splitQwen2(text: string): string[] {
  const pieces: string[] = [];
  forEachQwen2Piece(text, (s, e) => pieces.push(text.slice(s, e)));
  return pieces;
}
