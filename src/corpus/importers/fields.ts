import type { Label, Language } from '../../kb/samples.js';

/**
 * Reading one field of an input row: each reader returns the value or a one-line reason that
 * names the field and says what was expected, which becomes the row's rejection.
 */
export type FieldResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const fail = <T>(reason: string): FieldResult<T> => ({ ok: false, reason });

export type Row = Record<string, unknown>;

/** How messages name a field: `"func"`, or `"body" (mapped to code)` for a --map field. */
export function fieldLabel(name: string, mappedTo?: string): string {
  return mappedTo ? `"${name}" (mapped to ${mappedTo})` : `"${name}"`;
}

/** A field by name, or by dotted path into nested objects (`meta.lang`). */
export function getField(row: Row, path: string): unknown {
  if (path in row) return row[path];
  if (!path.includes('.')) return undefined;
  let value: unknown = row;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Row)[part];
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 37) + '...' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** The code field: a string with something other than whitespace. */
export function readCode(value: unknown, field: string): FieldResult<string> {
  if (value === undefined || value === null) return fail(`missing required field ${field}`);
  if (typeof value !== 'string') return fail(`field ${field}: expected a string of code, got ${describe(value)}`);
  if (value.trim() === '') return fail(`field ${field} is empty`);
  return ok(value);
}

const vulnerableWords = new Set(['1', 'true', 'yes', 'vulnerable', 'vuln', 'vul', 'bad', 'positive', 'buggy', 'unsafe', 'insecure']);
const safeWords = new Set([
  '0', 'false', 'no', 'safe', 'benign', 'clean', 'good', 'negative', 'fixed', 'patched', 'secure',
  'not_vulnerable', 'not-vulnerable', 'not vulnerable', 'non-vulnerable', 'non_vulnerable', 'nonvulnerable',
]);

/** 0/1, true/false, "vulnerable"/"safe" and their usual spellings; null or "" or "unknown" is an unknown label. */
export function readLabel(value: unknown, field: string): FieldResult<Label> {
  if (value === null || value === '' || value === 'unknown') return ok(null);
  if (value === 1 || value === true) return ok(1);
  if (value === 0 || value === false) return ok(0);
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (vulnerableWords.has(word)) return ok(1);
    if (safeWords.has(word)) return ok(0);
  }
  return fail(`field ${field}: expected a label (0/1, true/false, "vulnerable"/"safe"), got ${describe(value)}`);
}

/** CWE ids from "CWE-79", "79", "CWE-79, CWE-89", a list of those or numbers; NVD placeholders are dropped. */
export function readCwes(value: unknown, field: string): FieldResult<string[]> {
  if (value === undefined || value === null || value === '') return ok([]);
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item === 'number' && Number.isInteger(item) && item > 0) {
      out.push(`CWE-${item}`);
      continue;
    }
    if (typeof item !== 'string') return fail(`field ${field}: expected CWE ids ("CWE-79" or a list), got ${describe(item)}`);
    for (const part of item.split(/[,;|\s]+/)) {
      const m = /^(?:CWE-?)?(\d+)$/i.exec(part.trim());
      if (m) out.push(`CWE-${Number(m[1])}`);
      else if (part.trim() !== '' && !/^NVD-CWE-/i.test(part.trim())) {
        return fail(`field ${field}: "${part.trim()}" is not a CWE id (expected e.g. CWE-79)`);
      }
    }
  }
  return ok([...new Set(out)]);
}

/** 1-based line numbers: a list of positive integers, or a string "3,7,9". */
export function readLineNumbers(value: unknown, field: string): FieldResult<number[]> {
  if (value === undefined || value === null || value === '') return ok([]);
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string') items = value.split(/[,;\s]+/).filter((s) => s !== '').map(Number);
  else if (typeof value === 'number') items = [value];
  else return fail(`field ${field}: expected a list of line numbers, got ${describe(value)}`);
  const lines: number[] = [];
  for (const item of items) {
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 1) {
      return fail(`field ${field}: expected positive integer line numbers, got ${describe(item)}`);
    }
    lines.push(item);
  }
  return ok([...new Set(lines)].sort((a, b) => a - b));
}

/** An optional text field; numbers are accepted as their decimal text. */
export function readText(value: unknown, field: string): FieldResult<string | null> {
  if (value === undefined || value === null || value === '') return ok(null);
  if (typeof value === 'string') return ok(value);
  if (typeof value === 'number' || typeof value === 'bigint') return ok(String(value));
  return fail(`field ${field}: expected text, got ${describe(value)}`);
}

export function readLanguage(value: unknown, field: string): FieldResult<Language | null> {
  if (value === undefined || value === null || value === '') return ok(null);
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'c') return ok('c');
    if (v === 'cpp' || v === 'c++' || v === 'cxx' || v === 'cc') return ok('cpp');
  }
  return fail(`field ${field}: expected language "c" or "cpp", got ${describe(value)}`);
}

const cppExtensions = new Set(['cc', 'cpp', 'cxx', 'c++', 'hpp', 'hh', 'hxx', 'h++', 'ipp', 'tpp']);

/** c or cpp from a file name; undefined for headers and unknown extensions (ask the code). */
export function languageFromFileName(name: string | null | undefined): Language | undefined {
  if (!name) return undefined;
  const m = /\.([A-Za-z+]+)$/.exec(name);
  if (!m) return undefined;
  if (m[1] === 'C') return 'cpp';
  const ext = m[1]!.toLowerCase();
  if (ext === 'c') return 'c';
  if (cppExtensions.has(ext)) return 'cpp';
  return undefined;
}

/** Constructs that do not exist in C. `new`/`delete` alone are not enough: C code uses them as names. */
const cppMarkers =
  /::|\b(?:class|namespace|template\s*<|typename|virtual|nullptr|constexpr|static_cast|dynamic_cast|reinterpret_cast|const_cast|using\s+namespace|try\s*\{|catch\s*\(|throw\s*[\w(;]|operator\s*(?:[^\w\s]|new|delete)|public\s*:|private\s*:|protected\s*:)|#\s*include\s*<(?:iostream|string|vector|map|memory|algorithm|cstdio|cstdlib|cstring|cwchar)>|\bnew\s+[A-Za-z_][\w:]*\s*[[(;]|\bdelete\s*\[\s*\]/;

/** c or cpp by looking at the code (comments and strings included: good enough for a default). */
export function guessLanguage(code: string): Language {
  return cppMarkers.test(code) ? 'cpp' : 'c';
}

const notNames = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', '__attribute__', '__declspec', 'defined', '__attribute', 'alignas', '_Alignas', 'decltype']);

/** The defined function's name from its code's head (text before the first '{'), without parsing. */
export function functionNameFromHead(code: string): string | null {
  const brace = code.indexOf('{');
  const head = (brace === -1 ? code : code.slice(0, brace)).slice(0, 2000);
  const re = /((?:[A-Za-z_]\w*\s*::\s*)*~?[A-Za-z_]\w*)\s*\(/g;
  for (let m = re.exec(head); m; m = re.exec(head)) {
    const name = m[1]!.replace(/\s+/g, '');
    if (!notNames.has(name)) return name;
  }
  return null;
}
