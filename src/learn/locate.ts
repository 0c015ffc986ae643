import { readFileSync } from 'node:fs';
import { extractFunctions, type ExtractedFunction } from '../corpus/extract.js';
import { guessLanguage, languageFromFileName } from '../corpus/importers/fields.js';
import { unreadableReason } from '../corpus/importers/source.js';
import type { Language } from '../kb/samples.js';
import { errorMessage } from '../util/errors.js';

/** A function found in a source file: what feedback about a file or a finding refers to. */
export interface LocatedFunction {
  file: string;
  name: string;
  startLine: number;
  endLine: number;
  code: string;
  language: Language;
}

export type Located = { ok: true; fn: LocatedFunction } | { ok: false; reason: string };

/**
 * The function of a C/C++ file (tree-sitter extraction, as ingest does it) by name, by a line it
 * contains (the innermost one), or both: with both, the named function that contains the line.
 */
export async function locateFunction(path: string, want: { name?: string; line?: number }): Promise<Located> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return { ok: false, reason: `${path}: cannot read (${errorMessage(err)})` };
  }
  const unreadable = unreadableReason(bytes);
  if (unreadable) return { ok: false, reason: `${path}: ${unreadable}` };
  const text = bytes.toString('utf8');
  const language = languageFromFileName(path) ?? guessLanguage(text);
  const { functions } = await extractFunctions(text, language);
  let candidates = functions;
  if (want.name !== undefined) candidates = candidates.filter((f) => sameName(f, want.name!));
  if (want.line !== undefined) candidates = candidates.filter((f) => f.startLine <= want.line! && want.line! <= f.endLine);
  if (candidates.length === 0) {
    const what = [want.name !== undefined ? `named ${want.name}` : '', want.line !== undefined ? `containing line ${want.line}` : ''].filter(Boolean).join(' and ');
    const names = functions.slice(0, 8).map((f) => f.name);
    return { ok: false, reason: `${path}: no function ${what}${names.length ? ` (functions: ${names.join(', ')}${functions.length > 8 ? ', ...' : ''})` : ' (no functions found)'}` };
  }
  if (want.line === undefined && candidates.length > 1) {
    return { ok: false, reason: `${path}: ${candidates.length} functions named ${want.name} (lines ${candidates.map((c) => c.startLine).join(', ')}); give --line` };
  }
  // The innermost function containing the line (a lambda or local class method inside another).
  const fn = candidates.reduce((best, f) => (f.endLine - f.startLine < best.endLine - best.startLine ? f : best));
  return { ok: true, fn: { file: path, name: fn.name, startLine: fn.startLine, endLine: fn.endLine, code: fn.code, language } };
}

/** `Class::method` matches `method` too, and `ns::f` matches `f`. */
function sameName(f: ExtractedFunction, name: string): boolean {
  return f.name === name || f.name.endsWith(`::${name}`);
}
