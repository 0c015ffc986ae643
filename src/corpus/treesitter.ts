import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';
import type { Language as SourceLanguage } from '../kb/samples.js';

/**
 * One tree-sitter runtime per process: the WebAssembly module and the C / C++ grammars load once,
 * and one parser per language is reused (a parser is cheap to reuse and costly to create).
 */
const require = createRequire(import.meta.url);

const grammarFiles: Record<SourceLanguage, string> = {
  c: 'tree-sitter-c/tree-sitter-c.wasm',
  cpp: 'tree-sitter-cpp/tree-sitter-cpp.wasm',
};

export type Parsers = Record<SourceLanguage, Parser>;

let loading: Promise<Parsers> | undefined;
let loaded: Parsers | undefined;

/** Loads the runtime and both grammars (once); later calls return the same parsers. */
export function loadParsers(): Promise<Parsers> {
  loading ??= (async () => {
    await Parser.init();
    const parsers = {} as Parsers;
    for (const lang of Object.keys(grammarFiles) as SourceLanguage[]) {
      const grammar = await Language.load(require.resolve(grammarFiles[lang]));
      const parser = new Parser();
      parser.setLanguage(grammar);
      parsers[lang] = parser;
    }
    loaded = parsers;
    return parsers;
  })();
  return loading;
}

/** The parser for a language; loadParsers() must have completed. */
export function parserFor(language: SourceLanguage): Parser {
  if (!loaded) throw new Error('tree-sitter is not initialised: await loadParsers() first');
  return loaded[language];
}
