import { indent, lineTags, lineText, type Line } from './code.js';

/** How one translation unit is laid out: indentation unit and brace placement. */
export interface CodeStyle {
  indent: '    ' | '  ' | '\t';
  /** Opening braces of statements on their own line (functions always have them there). */
  allman: boolean;
}

export interface UnitParts {
  includes: string[];
  /** Top-level groups (types, tables, helpers), each followed by a blank line. */
  globals: Line[][];
  signature: Line;
  body: Line[];
}

export interface Unit {
  code: string;
  lines: string[];
  /** Tag -> 1-based line numbers, ascending. */
  tags: Map<string, number[]>;
}

/** Lays out a translation unit, applies the style, and records where every tagged line landed. */
export function assembleUnit(parts: UnitParts, style: CodeStyle): Unit {
  const raw: Line[] = [...parts.includes, ''];
  for (const group of parts.globals) if (group.length > 0) raw.push(...group, '');
  raw.push(parts.signature, '{', ...indent(parts.body), '}');

  const lines: string[] = [];
  const tags = new Map<string, number[]>();
  const emit = (text: string, lineTagList: string[]): void => {
    lines.push(text);
    for (const tag of lineTagList) {
      const list = tags.get(tag);
      if (list) list.push(lines.length);
      else tags.set(tag, [lines.length]);
    }
  };
  for (const line of raw) {
    const text = lineText(line);
    const lineTagList = lineTags(line);
    const depth = leadingLevels(text);
    const body = text.slice(depth * 4);
    const pad = style.indent.repeat(depth);
    if (style.allman && body.endsWith(' {') && !body.startsWith('{')) {
      if (body.startsWith('} ')) {
        emit(pad + '}', []);
        emit(pad + body.slice(2, -2), lineTagList);
      } else {
        emit(pad + body.slice(0, -2), lineTagList);
      }
      emit(pad + '{', []);
      continue;
    }
    emit(body === '' ? '' : pad + body, lineTagList);
  }
  return { code: lines.join('\n') + '\n', lines, tags };
}

function leadingLevels(text: string): number {
  let n = 0;
  while (text.startsWith('    '.repeat(n + 1))) n++;
  return n;
}

/**
 * The exact text of lines first..last (1-based) without the first line's indentation: what a
 * report quotes as its fragment or fix. Inner lines keep their indentation, so it stays verbatim.
 */
export function sliceLines(lines: string[], first: number, last: number): string {
  const picked = lines.slice(first - 1, last);
  picked[0] = picked[0]!.trimStart();
  return picked.join('\n');
}

/** Lines first..last with their common indentation removed (for a fix shown on its own). */
export function dedentLines(lines: string[], first: number, last: number): string {
  const picked = lines.slice(first - 1, last);
  const widths = picked.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const cut = widths.length ? Math.min(...widths) : 0;
  return picked.map((l) => l.slice(cut)).join('\n');
}
