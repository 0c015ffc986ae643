import type { Rng } from './rng.js';

/**
 * Building blocks for generated C/C++: lines that carry tags (so the assembler can tell the report
 * where the source, the flaw and the fix ended up), headers, and the per-type library vocabulary
 * (char vs wchar_t, int vs size_t, ...). Template code is written with four-space indentation per
 * level and opening braces at the end of the line; the assembler re-styles it.
 */
export type Language = 'c' | 'cpp';
export type CharType = 'char' | 'wchar_t';

export interface TaggedLine {
  text: string;
  tags: string[];
}
export type Line = string | TaggedLine;

/** A line carrying one or more tags (e.g. "flaw", "fix", "src"). */
export function t(tags: string | string[], text: string): TaggedLine {
  return { text, tags: Array.isArray(tags) ? tags : [tags] };
}

export function lineText(line: Line): string {
  return typeof line === 'string' ? line : line.text;
}

export function lineTags(line: Line): string[] {
  return typeof line === 'string' ? [] : line.tags;
}

/** Indents lines by `levels` template levels (four spaces each), keeping their tags. */
export function indent(lines: Line[], levels = 1): Line[] {
  const pad = '    '.repeat(levels);
  return lines.map((l) => (typeof l === 'string' ? (l === '' ? l : pad + l) : { text: pad + l.text, tags: l.tags }));
}

/** `head {`, the body one level deeper, `}`; the head may be tagged. */
export function block(head: Line, body: Line[], tail = '}'): Line[] {
  const open = typeof head === 'string' ? `${head} {` : { text: `${head.text} {`, tags: head.tags };
  return [open, ...indent(body), tail];
}

export type Header =
  | 'stdio'
  | 'string'
  | 'stdlib'
  | 'wchar'
  | 'limits'
  | 'stdint'
  | 'ctype'
  | 'assert'
  | 'sys/types'
  | 'sys/socket'
  | 'unistd';

const cxxHeader: Record<string, string> = {
  stdio: 'cstdio',
  string: 'cstring',
  stdlib: 'cstdlib',
  wchar: 'cwchar',
  limits: 'climits',
  stdint: 'cstdint',
  ctype: 'cctype',
  assert: 'cassert',
};

export function includeLine(header: Header, language: Language): string {
  if (header.includes('/') || header === 'unistd') return `#include <${header}.h>`;
  return language === 'cpp' ? `#include <${cxxHeader[header]}>` : `#include <${header}.h>`;
}

/** Escapes text for a C string literal body. */
export function cEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** The string and I/O vocabulary of one character type. */
export interface CharApi {
  type: CharType;
  wide: boolean;
  /** String literal. */
  lit(text: string): string;
  /** Character literal; understands "\\0" and "\\n". */
  ch(c: string): string;
  nul: string;
  strlen: string;
  strcpy: string;
  strncpy: string;
  strcat: string;
  strncat: string;
  strchr: string;
  strstr: string;
  strcspn: string;
  fgets: string;
  printf: string;
  fprintf: string;
  /** snprintf-like function taking (buffer, count, format, ...). */
  snprintf: string;
  sscanf: string;
  memset: string;
  /** %s for this character type inside a format of this type. */
  fmtS: string;
  /** "characters" or "wide characters". */
  unit: string;
}

export function charApi(type: CharType): CharApi {
  if (type === 'char') {
    return {
      type,
      wide: false,
      lit: (s) => `"${cEscape(s)}"`,
      ch: (c) => `'${c === "'" ? "\\'" : c}'`,
      nul: "'\\0'",
      strlen: 'strlen',
      strcpy: 'strcpy',
      strncpy: 'strncpy',
      strcat: 'strcat',
      strncat: 'strncat',
      strchr: 'strchr',
      strstr: 'strstr',
      strcspn: 'strcspn',
      fgets: 'fgets',
      printf: 'printf',
      fprintf: 'fprintf',
      snprintf: 'snprintf',
      sscanf: 'sscanf',
      memset: 'memset',
      fmtS: '%s',
      unit: 'characters',
    };
  }
  return {
    type,
    wide: true,
    lit: (s) => `L"${cEscape(s)}"`,
    ch: (c) => `L'${c === "'" ? "\\'" : c}'`,
    nul: "L'\\0'",
    strlen: 'wcslen',
    strcpy: 'wcscpy',
    strncpy: 'wcsncpy',
    strcat: 'wcscat',
    strncat: 'wcsncat',
    strchr: 'wcschr',
    strstr: 'wcsstr',
    strcspn: 'wcscspn',
    fgets: 'fgetws',
    printf: 'wprintf',
    fprintf: 'fwprintf',
    snprintf: 'swprintf',
    sscanf: 'swscanf',
    memset: 'wmemset',
    fmtS: '%ls',
    unit: 'wide characters',
  };
}

/** A statement that prints a string expression, in one of a few equivalent spellings. */
export function printString(rng: Rng, api: CharApi, expr: string): string {
  if (api.wide) return rng.chance(0.5) ? `wprintf(L"%ls\\n", ${expr});` : `fputws(${expr}, stdout);`;
  return rng.pick([`printf("%s\\n", ${expr});`, `puts(${expr});`, `fputs(${expr}, stdout);`, `fprintf(stderr, "%s\\n", ${expr});`]);
}

export type IntType = 'int' | 'long long' | 'unsigned int' | 'size_t';

/** Numeric vocabulary of one integer type. */
export interface IntApi {
  type: IntType;
  signed: boolean;
  max: string;
  min: string;
  /** printf conversion. */
  fmt: string;
  /** Expression converting a decimal string to this type. */
  parse(expr: string): string;
  /** Largest value whose square still fits. */
  sqrtMax: string;
  /** Header that defines max/min. */
  limitsHeader: Header;
}

export function intApi(type: IntType): IntApi {
  switch (type) {
    case 'int':
      return { type, signed: true, max: 'INT_MAX', min: 'INT_MIN', fmt: '%d', parse: (e) => `atoi(${e})`, sqrtMax: '46340', limitsHeader: 'limits' };
    case 'long long':
      return {
        type,
        signed: true,
        max: 'LLONG_MAX',
        min: 'LLONG_MIN',
        fmt: '%lld',
        parse: (e) => `strtoll(${e}, NULL, 10)`,
        sqrtMax: '3037000499LL',
        limitsHeader: 'limits',
      };
    case 'unsigned int':
      return {
        type,
        signed: false,
        max: 'UINT_MAX',
        min: '0',
        fmt: '%u',
        parse: (e) => `(unsigned int)strtoul(${e}, NULL, 10)`,
        sqrtMax: '65535U',
        limitsHeader: 'limits',
      };
    case 'size_t':
      return {
        type,
        signed: false,
        max: 'SIZE_MAX',
        min: '0',
        fmt: '%zu',
        parse: (e) => `(size_t)strtoull(${e}, NULL, 10)`,
        sqrtMax: '4294967295U',
        limitsHeader: 'stdint',
      };
  }
}

/** A statement that prints an integer expression of the given type. */
export function printInt(rng: Rng, api: IntApi, expr: string): string {
  return rng.chance(0.7) ? `printf("${api.fmt}\\n", ${expr});` : `fprintf(stderr, "${api.fmt}\\n", ${expr});`;
}

/** Buffer sizes that look like the ones real code uses. */
export const bufferSizes = [10, 16, 20, 24, 32, 40, 48, 50, 64, 80, 96, 100, 128] as const;

/** "a 32" or "an 8": the article a number takes when read aloud. */
export function an(n: number): string {
  const s = String(n);
  return s.startsWith('8') || s === '11' || s === '18' ? `an ${s}` : `a ${s}`;
}

/** Capitalises the first letter (for sentences that start with a generated phrase). */
export function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
