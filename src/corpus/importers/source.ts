import { readFileSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { SampleInput } from '../../kb/samples.js';
import { sha256 } from '../../util/hash.js';
import { extractFunctionsSync } from '../extract.js';
import { loadParsers } from '../treesitter.js';
import { guessLanguage, languageFromFileName } from './fields.js';
import { listInputFiles } from './files.js';
import type { Importer, ImportSettings, InputFile, OpenedInput, Unit, UnitRejection } from './types.js';

/**
 * A directory of C/C++ source (unlabelled): every function of every source file becomes a
 * sample. Files that are not text we can parse (binary, not UTF-8, empty, too large) and
 * functions over the length limit are skipped with a recorded reason.
 */

const sourceFile = /\.(c|h|cc|cpp|cxx|hpp|hh)$/i;

/** Why a file's bytes cannot be imported as source, if they cannot. */
export function unreadableReason(bytes: Buffer): string | undefined {
  if (bytes.length === 0 || bytes.toString('latin1').trim() === '') return 'empty file';
  if (bytes.subarray(0, 64 * 1024).includes(0)) return 'binary file (contains NUL bytes)';
  if (!isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    return `not UTF-8 text (first invalid byte on line ${line})`;
  }
  return undefined;
}

export function sourceUnit(input: InputFile, text: string, settings: ImportSettings): Omit<Unit, 'line'> {
  const language = languageFromFileName(input.key) ?? guessLanguage(text);
  const { functions, problems } = extractFunctionsSync(text, language);
  const samples: SampleInput[] = [];
  const rejections: UnitRejection[] = problems.map((p) => ({ line: p.startLine, reason: p.message }));
  for (const fn of functions) {
    const lines = fn.endLine - fn.startLine + 1;
    if (lines > settings.maxFunctionLines) {
      rejections.push({ line: fn.startLine, reason: `function ${fn.name} is ${lines} lines, over corpus.max_function_lines (${settings.maxFunctionLines})` });
      continue;
    }
    samples.push({
      sourceKey: `${input.key}#${fn.name}:${fn.startLine}`,
      code: fn.code,
      language,
      label: null,
      cwes: [],
      flawLines: [],
      file: input.key,
      functionName: fn.name,
      signature: fn.signature,
      startLine: fn.startLine,
      endLine: fn.endLine,
      meta: fn.hasErrors ? { parse_errors: true } : {},
    });
  }
  return { samples, rejections };
}

async function openSourceFile(input: InputFile, settings: ImportSettings): Promise<OpenedInput> {
  /** One unit per file, built only if the runner asks for it (not for an unchanged file). */
  const one = (contentHash: string, build: () => Omit<Unit, 'line'>): OpenedInput => {
    let done = false;
    return {
      contentHash,
      fraction: () => (done ? 1 : 0),
      async *units(skip: number): AsyncIterable<Unit> {
        if (skip > 0) return;
        done = true;
        yield { line: null, ...build() };
      },
    };
  };
  const stat = statSync(input.path);
  if (stat.size > settings.maxFileBytes) {
    // Not read at all: its size and modification time stand in for its content.
    return one(`size:${stat.size}:mtime:${stat.mtimeMs}`, () => ({
      samples: [],
      rejections: [{ reason: `file is ${stat.size} bytes, over corpus.max_file_bytes (${settings.maxFileBytes})` }],
    }));
  }
  const bytes = readFileSync(input.path);
  return one(sha256(bytes), () => {
    const reason = unreadableReason(bytes);
    if (reason) return { samples: [], rejections: [{ reason }] };
    return sourceUnit(input, bytes.toString('utf8'), settings);
  });
}

export const importer: Importer = {
  format: 'source',
  unit: 'files',
  async prepare() {
    await loadParsers();
  },
  async listInputs(settings) {
    return listInputFiles(settings.path, (rel) => sourceFile.test(rel));
  },
  async open(input, settings) {
    return openSourceFile(input, settings);
  },
};
