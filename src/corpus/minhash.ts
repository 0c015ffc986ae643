/**
 * MinHash signatures over token shingles of C/C++ code, and LSH banding to find candidate pairs.
 *
 * Tokens: a rough C/C++ scanner (identifiers, numbers, string and char literals, punctuation with
 * multi-character operators). Run it on normalised code (comments already stripped).
 *
 * Identifier choice (explicit, part of the cache signature as TOKENIZER_VERSION + mode):
 * - 'abstract' (the default): an identifier becomes `$id` unless it is a keyword, a standard type
 *   name (ending in `_t`, or FILE), an ALL_CAPS macro or constant, a called name (followed by `(`)
 *   or qualified (next to `::`). Renaming variables then leaves the shingles unchanged, so type-2
 *   clones (the same code with other variable names) are caught, while calls such as memcpy vs
 *   strncpy, literals and operators still tell functions apart.
 * - 'literal': every token as written.
 * Numbers and string literals are always kept as written (a buffer size is often the bug).
 *
 * Hashing is 32-bit (Math.imul) over typed arrays: token hash -> shingle hash -> one cheap
 * bijective mix per permutation, min taken in signed order (any fixed total order is a valid
 * MinHash order).
 */

export type IdentifierMode = 'abstract' | 'literal';

/** Bump when tokenisation or hashing changes: cached near-duplicate clusters are then recomputed. */
export const TOKENIZER_VERSION = 1;

export interface MinHashSettings {
  /** Tokens per shingle. */
  shingle: number;
  /** Signature length (hash functions). */
  permutations: number;
  /** LSH bands; permutations must be a multiple of it. */
  bands: number;
  identifiers: IdentifierMode;
  /** Seeds the hash family; fixed so signatures are reproducible. */
  seed?: number;
}

const enum Kind {
  Ident,
  Number,
  String,
  Punct,
}

const KEYWORDS = new Set(
  (
    'auto break case char const continue default do double else enum extern float for goto if inline int long register ' +
    'restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex ' +
    'alignas alignof and asm bool catch class constexpr const_cast decltype delete dynamic_cast explicit export false ' +
    'friend mutable namespace new noexcept not nullptr operator or private protected public reinterpret_cast ' +
    'static_assert static_cast template this thread_local throw true try typeid typename using virtual wchar_t xor ' +
    'include define ifdef ifndef endif elif undef pragma defined FILE std'
  ).split(' '),
);

/** Operators of three and two characters, longest first, so `<<=` is one token. */
const OPERATORS3 = new Set(['<<=', '>>=', '...', '->*']);
const OPERATORS2 = new Set([
  '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '::', '##', '.*',
]);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c > 127;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 11 || c === 12;
}

/** Calls visit(kind, start, end) for every token of code, in order. */
function scan(code: string, visit: (kind: Kind, start: number, end: number) => void): void {
  const n = code.length;
  let i = 0;
  while (i < n) {
    const c = code.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(code.charCodeAt(i))) i++;
      // A prefixed literal (L"..", u8'x') is one string token.
      const q = i < n ? code.charCodeAt(i) : 0;
      if ((q === 34 || q === 39) && i - start <= 2 && /^(L|u8?|U)$/.test(code.slice(start, i))) {
        i = skipQuoted(code, i);
        visit(Kind.String, start, i);
      } else {
        visit(Kind.Ident, start, i);
      }
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(code.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = code.charCodeAt(i);
        if (isIdentPart(d) || d === 46) i++;
        // Exponent sign: 1e-5, 0x1p+3.
        else if ((d === 43 || d === 45) && /[eEpP]/.test(code[i - 1]!)) i++;
        else break;
      }
      visit(Kind.Number, start, i);
      continue;
    }
    if (c === 34 || c === 39) {
      i = skipQuoted(code, i);
      visit(Kind.String, start, i);
      continue;
    }
    const three = code.slice(i, i + 3);
    if (OPERATORS3.has(three)) {
      i += 3;
    } else if (OPERATORS2.has(three.slice(0, 2))) {
      i += 2;
    } else {
      i++;
    }
    visit(Kind.Punct, start, i);
  }
}

/** Index just after the literal that starts with the quote at i (a line end also ends it). */
function skipQuoted(code: string, i: number): number {
  const quote = code.charCodeAt(i);
  const n = code.length;
  i++;
  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 92) {
      i += 2;
      continue;
    }
    i++;
    if (c === quote || c === 10) break;
  }
  return Math.min(i, n);
}

/** Whether an identifier keeps its spelling in 'abstract' mode (see the file comment). */
function keepsIdentifier(code: string, start: number, end: number, prevPunct: string): boolean {
  const word = code.slice(start, end);
  if (KEYWORDS.has(word)) return true;
  if (word.endsWith('_t')) return true;
  if (/^[A-Z][A-Z0-9_]*$/.test(word) && word.length > 1) return true;
  if (prevPunct === '::') return true;
  let j = end;
  while (j < code.length && isSpace(code.charCodeAt(j))) j++;
  const next = code.charCodeAt(j);
  if (next === 40) return true; // '(': a call or a definition
  if (next === 58 && code.charCodeAt(j + 1) === 58) return true; // '::'
  return false;
}

/** The token strings of code (as shingled); mainly for tests and inspection. */
export function tokenize(code: string, identifiers: IdentifierMode = 'abstract'): string[] {
  const out: string[] = [];
  let prev = '';
  scan(code, (kind, start, end) => {
    const text = code.slice(start, end);
    if (kind === Kind.Ident && identifiers === 'abstract' && !keepsIdentifier(code, start, end, prev)) out.push('$id');
    else out.push(text);
    prev = kind === Kind.Punct ? text : '';
  });
  return out;
}

const ABSTRACT_ID_HASH = fnv1a('$id', 0, 3);

/** FNV-1a over code[start, end), as a signed 32-bit integer. */
function fnv1a(code: string, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) {
    h ^= code.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** Token hashes of code (what tokenize returns, hashed without building the strings). */
export function tokenHashes(code: string, identifiers: IdentifierMode = 'abstract'): Int32Array {
  let out = new Int32Array(Math.max(16, code.length >> 2));
  let count = 0;
  let prevPunct = '';
  scan(code, (kind, start, end) => {
    let h: number;
    if (kind === Kind.Ident && identifiers === 'abstract' && !keepsIdentifier(code, start, end, prevPunct)) h = ABSTRACT_ID_HASH;
    else h = fnv1a(code, start, end);
    prevPunct = kind === Kind.Punct && end - start === 2 ? code.slice(start, end) : '';
    if (count === out.length) {
      const bigger = new Int32Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[count++] = h;
  });
  return out.subarray(0, count);
}

/** Murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * The distinct shingle hashes of a token sequence, sorted. A sequence shorter than one shingle
 * gives a single shingle of all its tokens; an empty one gives none.
 */
export function shingleHashes(tokens: Int32Array, size: number): Int32Array {
  const n = tokens.length;
  if (n === 0) return new Int32Array(0);
  const k = Math.min(size, n);
  const count = n - k + 1;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let h = k;
    for (let j = 0; j < k; j++) h = fmix(h ^ tokens[i + j]!) + j;
    out[i] = fmix(h);
  }
  out.sort();
  let w = 0;
  for (let i = 0; i < count; i++) if (i === 0 || out[i] !== out[w - 1]) out[w++] = out[i]!;
  return out.subarray(0, w);
}

/** Exact Jaccard similarity of two sorted distinct hash sets (for tests and verification). */
export function exactJaccard(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! === b[j]!) {
      inter++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

/**
 * The hash family: permutation p maps x to v = (x ^ xorKey[p]) * oddMul[p] (mod 2^32), then
 * v ^ (v >>> 16): a bijection of 32-bit values per p. Shingle hashes are already well mixed, so
 * this is enough (the estimator's error matches the binomial one; see the tests), and it is about
 * twice as fast as a full finaliser per permutation.
 */
export class MinHasher {
  readonly permutations: number;
  private readonly xorKeys: Int32Array;
  private readonly multipliers: Int32Array;

  constructor(permutations: number, seed = 0x5eed) {
    this.permutations = permutations;
    this.xorKeys = new Int32Array(permutations);
    this.multipliers = new Int32Array(permutations);
    let state = fmix(seed ^ 0x9e3779b9);
    for (let p = 0; p < permutations; p++) {
      state = fmix(state + 0x6d2b79f5);
      this.xorKeys[p] = state;
      state = fmix(state + 0x6d2b79f5);
      this.multipliers[p] = state | 1;
    }
  }

  /** Writes the signature of a shingle set into out[offset, offset + permutations). */
  signInto(shingles: Int32Array, out: Int32Array, offset: number): void {
    const P = this.permutations;
    const xorKeys = this.xorKeys;
    const multipliers = this.multipliers;
    const n = shingles.length;
    for (let p = 0; p < P; p++) {
      const key = xorKeys[p]!;
      const mul = multipliers[p]!;
      let min = 0x7fffffff;
      for (let s = 0; s < n; s++) {
        let v = Math.imul(shingles[s]! ^ key, mul);
        v ^= v >>> 16;
        if (v < min) min = v;
      }
      out[offset + p] = min;
    }
  }

  sign(shingles: Int32Array): Int32Array {
    const out = new Int32Array(this.permutations);
    this.signInto(shingles, out, 0);
    return out;
  }
}

/** Fraction of equal positions of two signatures stored in one array. */
export function estimatedJaccard(signatures: Int32Array, a: number, b: number, permutations: number): number {
  const oa = a * permutations;
  const ob = b * permutations;
  let equal = 0;
  for (let p = 0; p < permutations; p++) if (signatures[oa + p] === signatures[ob + p]) equal++;
  return equal / permutations;
}

/**
 * Whether the estimated Jaccard of a and b reaches threshold; stops as soon as too many positions
 * differ, so verifying a dissimilar candidate is cheap.
 */
export function reachesThreshold(signatures: Int32Array, a: number, b: number, permutations: number, threshold: number): boolean {
  const allowedMisses = permutations - Math.ceil(threshold * permutations - 1e-9);
  const oa = a * permutations;
  const ob = b * permutations;
  let misses = 0;
  for (let p = 0; p < permutations; p++) {
    if (signatures[oa + p] !== signatures[ob + p] && ++misses > allowedMisses) return false;
  }
  return true;
}

/**
 * LSH band keys: keys[d * bands + k] hashes rows [k*r, k*r + r) of document d's signature. Keys
 * are 32-bit, so a rare collision only adds a candidate that verification then rejects.
 */
export function bandKeys(signatures: Int32Array, count: number, permutations: number, bands: number): Int32Array {
  const rows = permutations / bands;
  const keys = new Int32Array(count * bands);
  for (let d = 0; d < count; d++) {
    for (let k = 0; k < bands; k++) {
      const base = d * permutations + k * rows;
      let h = k;
      for (let r = 0; r < rows; r++) h = fmix(h ^ signatures[base + r]!) + r;
      keys[d * bands + k] = h;
    }
  }
  return keys;
}

/**
 * Calls visit(members) for every LSH bucket of one band with at least two members: documents
 * whose band keys are equal, in increasing document order.
 */
export function forEachBucket(keys: Int32Array, count: number, bands: number, band: number, visit: (members: number[]) => void): void {
  const heads = new Map<number, number>();
  const next = new Int32Array(count).fill(-1);
  const shared = new Set<number>();
  for (let d = 0; d < count; d++) {
    const h = keys[d * bands + band]!;
    const head = heads.get(h);
    if (head !== undefined) {
      next[d] = head;
      shared.add(h);
    }
    heads.set(h, d);
  }
  for (const h of shared) {
    const members: number[] = [];
    for (let d = heads.get(h)!; d !== -1; d = next[d]!) members.push(d);
    members.reverse();
    visit(members);
  }
}

/** Whether documents a and b share a bucket in a band before `band` (so they were compared there). */
export function collidedBefore(keys: Int32Array, bands: number, a: number, b: number, band: number): boolean {
  const oa = a * bands;
  const ob = b * bands;
  for (let k = 0; k < band; k++) if (keys[oa + k] === keys[ob + k]) return true;
  return false;
}
