import type { Node, Tree } from 'web-tree-sitter';
import { loadParsers, parserFor } from '../../corpus/treesitter.js';
import type { Language } from '../../kb/samples.js';

/**
 * Semantics-preserving rewrites of C/C++ code for the robustness check, on tree-sitter's syntax
 * tree. Each keeps the number of lines (so flaw lines stay where they were, except reordered
 * declarations) and is conservative: where a rewrite cannot be sure it is safe it leaves that
 * part alone, and returns the code unchanged when nothing applies.
 *   rename     parameters and local variables become v1, v2, ... (fresh names, per function)
 *   dead_code  an `if (0) { ... }` block at the start of every function body, on the brace's line
 *   reformat   indentation re-expressed (spaces <-> tabs) and `if (` / `if(` spacing flipped
 *   reorder    runs of adjacent independent local declarations reversed
 */
export const REWRITES = ['rename', 'dead_code', 'reformat', 'reorder'] as const;
export type RewriteName = (typeof REWRITES)[number];

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(code: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = code;
  let limit = Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.end > limit) continue; // overlapping edit: keep the later one only
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

function withTree<T>(code: string, language: Language, fn: (root: Node) => T): T {
  const tree: Tree | null = parserFor(language).parse(code);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    return fn(tree.rootNode);
  } finally {
    tree.delete();
  }
}

function named(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** Every word in the code (identifiers, keywords, words in strings and macros): fresh names avoid them all. */
function wordsOf(code: string): Set<string> {
  return new Set(code.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
}

function freshNames(taken: Set<string>, prefix: string): () => string {
  let i = 0;
  return () => {
    let name: string;
    do name = `${prefix}${++i}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
}

/** The identifier a declarator declares (through pointers, arrays, references, parentheses, initialisers). */
function declaredIdentifier(node: Node | null): Node | null {
  let n = node;
  while (n) {
    if (n.type === 'identifier') return n;
    const inner = n.childForFieldName('declarator');
    if (inner) {
      n = inner;
      continue;
    }
    if (n.type === 'parenthesized_declarator' || n.type === 'reference_declarator' || n.type === 'attributed_declarator') {
      const kids = named(n);
      n = kids[kids.length - 1] ?? null;
      continue;
    }
    return null;
  }
  return null;
}

/** A declarator that declares a function (not a function pointer): `int f(int);`. */
function declaresFunction(declarator: Node): boolean {
  let n: Node | null = declarator.type === 'init_declarator' ? declarator.childForFieldName('declarator') : declarator;
  while (n && (n.type === 'pointer_declarator' || n.type === 'reference_declarator')) n = n.childForFieldName('declarator') ?? named(n).at(-1) ?? null;
  return n?.type === 'function_declarator' && n.childForFieldName('declarator')?.type !== 'parenthesized_declarator';
}

function hasStorageClass(decl: Node, keyword: string): boolean {
  return named(decl).some((c) => c.type === 'storage_class_specifier' && c.text === keyword);
}

function functionDefinitions(root: Node): Node[] {
  return root.descendantsOfType('function_definition').filter((n): n is Node => n !== null);
}

/** The function_declarator of a definition (inside pointer / reference declarators for `char *f(...)`). */
function functionDeclarator(fn: Node): Node | null {
  let n = fn.childForFieldName('declarator');
  while (n && n.type !== 'function_declarator') n = n.childForFieldName('declarator') ?? (n.type === 'reference_declarator' ? (named(n).at(-1) ?? null) : null);
  return n;
}

/** Names that appear in macro bodies: a local used by a macro must keep its name. */
function macroWords(root: Node): Set<string> {
  const out = new Set<string>();
  for (const def of root.descendantsOfType(['preproc_def', 'preproc_function_def'])) {
    const value = def?.childForFieldName('value');
    if (value) for (const w of value.text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) out.add(w);
  }
  return out;
}

export function renameIdentifiers(code: string, language: Language): string {
  return withTree(code, language, (root) => {
    const taken = wordsOf(code);
    const inMacros = macroWords(root);
    const edits: Edit[] = [];
    for (const fn of functionDefinitions(root)) {
      const declarator = functionDeclarator(fn);
      const body = fn.childForFieldName('body');
      // A function the parser had to recover (macros, #ifdef-split braces) is left as written.
      if (!declarator || !body || fn.hasError) continue;
      const fnName = declaredIdentifier(declarator.childForFieldName('declarator'))?.text;
      // name -> where it is first declared (occurrences before that refer to something else)
      const declared = new Map<string, number>();
      const add = (id: Node | null): void => {
        if (!id || id.text === fnName || inMacros.has(id.text)) return;
        if (!declared.has(id.text)) declared.set(id.text, id.startIndex);
      };
      const params = declarator.childForFieldName('parameters');
      for (const p of params ? named(params) : []) {
        if (p.type === 'parameter_declaration' || p.type === 'optional_parameter_declaration') add(declaredIdentifier(p.childForFieldName('declarator')));
      }
      for (const decl of body.descendantsOfType('declaration')) {
        if (!decl || hasStorageClass(decl, 'extern')) continue;
        for (const d of decl.childrenForFieldName('declarator')) {
          if (!d || declaresFunction(d)) continue;
          add(declaredIdentifier(d));
        }
      }
      if (declared.size === 0) continue;
      const next = freshNames(taken, 'v');
      const renamed = new Map([...declared.keys()].map((name) => [name, next()]));
      const scope = [params, body].filter((n): n is Node => n !== null);
      for (const region of scope) {
        for (const id of region.descendantsOfType('identifier')) {
          if (!id) continue;
          const to = renamed.get(id.text);
          if (to === undefined || id.startIndex < declared.get(id.text)!) continue;
          // `ns::x` names something else than a local x
          if (id.parent?.type === 'qualified_identifier' && id.parent.childForFieldName('name')?.id === id.id) continue;
          edits.push({ start: id.startIndex, end: id.endIndex, text: to });
        }
      }
    }
    return applyEdits(code, edits);
  });
}

export function insertDeadCode(code: string, language: Language): string {
  return withTree(code, language, (root) => {
    const next = freshNames(wordsOf(code), 'unused_');
    const edits: Edit[] = [];
    for (const fn of functionDefinitions(root)) {
      const body = fn.childForFieldName('body');
      if (!body || body.type !== 'compound_statement' || body.hasError) continue;
      const name = next();
      const open = body.startIndex + 1;
      edits.push({ start: open, end: open, text: ` if (0) { int ${name} = 0; ${name}++; }` });
    }
    return applyEdits(code, edits);
  });
}

/** Offsets covered by literal text (strings, characters, comments): whitespace there is content. */
function literalRanges(root: Node): Array<[number, number]> {
  return root
    .descendantsOfType(['string_literal', 'raw_string_literal', 'char_literal', 'comment'])
    .filter((n): n is Node => n !== null)
    .map((n) => [n.startIndex, n.endIndex] as [number, number]);
}

function inRanges(offset: number, ranges: Array<[number, number]>): boolean {
  return ranges.some(([s, e]) => offset > s && offset < e);
}

export function reformat(code: string, language: Language): string {
  return withTree(code, language, (root) => {
    const literals = literalRanges(root);
    const edits: Edit[] = [];
    // Indentation: spaces become tabs (one per indent unit), tabs become two spaces each.
    const lines: Array<{ start: number; indent: string }> = [];
    let offset = 0;
    for (const line of code.split('\n')) {
      const indent = /^[ \t]*/.exec(line)![0];
      if (indent.length > 0 && indent.length < line.length && !inRanges(offset, literals)) lines.push({ start: offset, indent });
      offset += line.length + 1;
    }
    const spaceIndents = lines.filter((l) => !l.indent.includes('\t')).map((l) => l.indent.length);
    const usesSpaces = spaceIndents.length >= lines.length / 2;
    const unit = usesSpaces ? Math.min(...spaceIndents.filter((w) => w > 0), 8) : 0;
    for (const l of lines) {
      let text: string;
      if (usesSpaces && !l.indent.includes('\t')) text = '\t'.repeat(Math.floor(l.indent.length / unit)) + ' '.repeat(l.indent.length % unit);
      else text = l.indent.replace(/\t/g, '  ');
      if (text !== l.indent) edits.push({ start: l.start, end: l.start + l.indent.length, text });
    }
    // Keyword spacing: `if (` <-> `if(` for if, while, for and switch, whichever the code uses less.
    const gaps: Array<{ start: number; end: number; spaced: boolean }> = [];
    for (const kw of root.descendantsOfType(['if', 'while', 'for', 'switch'])) {
      if (!kw || kw.isNamed) continue;
      const after = code.slice(kw.endIndex, kw.endIndex + 4);
      const m = /^( ?)\(/.exec(after);
      if (m) gaps.push({ start: kw.endIndex, end: kw.endIndex + m[1]!.length, spaced: m[1] === ' ' });
    }
    const spaced = gaps.filter((g) => g.spaced).length >= gaps.length / 2;
    for (const g of gaps) {
      if (g.spaced === spaced) edits.push({ start: g.start, end: g.end, text: spaced ? '' : ' ' });
    }
    return applyEdits(code, edits);
  });
}

/** Expression nodes that can have side effects: an initializer with one may not move. */
const IMPURE = ['call_expression', 'assignment_expression', 'update_expression', 'new_expression', 'delete_expression', 'lambda_expression', 'throw_expression', 'co_await_expression', 'gnu_asm_expression'];

const CPP_MOVABLE_TYPES = new Set(['primitive_type', 'sized_type_specifier']);

interface MovableDecl {
  node: Node;
  firstLine: number;
  lastLine: number;
  declares: Set<string>;
  uses: Set<string>;
}

export function reorderDeclarations(code: string, language: Language): string {
  return withTree(code, language, (root) => {
    const lines = code.split('\n');
    const lineStarts: number[] = [];
    let offset = 0;
    for (const l of lines) {
      lineStarts.push(offset);
      offset += l.length + 1;
    }
    const ownsLines = (n: Node): boolean => {
      const before = code.slice(lineStarts[n.startPosition.row]!, n.startIndex);
      const lineEnd = n.endPosition.row + 1 < lineStarts.length ? lineStarts[n.endPosition.row + 1]! - 1 : code.length;
      const after = code.slice(n.endIndex, lineEnd);
      return before.trim() === '' && after.trim() === '';
    };
    const movable = (n: Node): MovableDecl | null => {
      if (n.type !== 'declaration' || n.hasError || !ownsLines(n)) return null;
      if (hasStorageClass(n, 'extern') || hasStorageClass(n, 'static')) return null;
      const type = n.childForFieldName('type');
      const declarators = n.childrenForFieldName('declarator').filter((d): d is Node => d !== null);
      if (!type || declarators.length === 0) return null;
      for (const d of declarators) {
        if (declaresFunction(d)) return null;
        if (d.descendantsOfType(IMPURE).length > 0) return null;
        // C++ class types run constructors (and destructors, in reverse order): only plain types and pointers move.
        if (language === 'cpp' && !CPP_MOVABLE_TYPES.has(type.type) && !(d.type === 'pointer_declarator' || d.childForFieldName('declarator')?.type === 'pointer_declarator')) return null;
      }
      const declares = new Set<string>();
      for (const d of declarators) {
        const id = declaredIdentifier(d);
        if (!id) return null;
        declares.add(id.text);
      }
      const uses = new Set<string>();
      for (const id of n.descendantsOfType(['identifier', 'type_identifier'])) if (id && !declares.has(id.text)) uses.add(id.text);
      return { node: n, firstLine: n.startPosition.row, lastLine: n.endPosition.row, declares, uses };
    };
    const independent = (a: MovableDecl, b: MovableDecl): boolean =>
      ![...a.declares].some((x) => b.uses.has(x) || b.declares.has(x)) && ![...b.declares].some((x) => a.uses.has(x));

    const runs: MovableDecl[][] = [];
    for (const block of root.descendantsOfType('compound_statement')) {
      if (!block) continue;
      let run: MovableDecl[] = [];
      const close = (): void => {
        if (run.length >= 2) runs.push(run);
        run = [];
      };
      for (const child of named(block)) {
        const m = movable(child);
        if (!m) {
          close();
          continue;
        }
        const last = run[run.length - 1];
        if (last && (m.firstLine !== last.lastLine + 1 || !run.every((r) => independent(r, m)))) close();
        run.push(m);
      }
      close();
    }
    if (runs.length === 0) return code;
    const out = [...lines];
    for (const run of runs) {
      const blocks = run.map((d) => lines.slice(d.firstLine, d.lastLine + 1));
      const first = run[0]!.firstLine;
      out.splice(first, blocks.flat().length, ...blocks.reverse().flat());
    }
    return out.join('\n');
  });
}

const apply: Record<RewriteName, (code: string, language: Language) => string> = {
  rename: renameIdentifiers,
  dead_code: insertDeadCode,
  reformat,
  reorder: reorderDeclarations,
};

/** Every rewrite of one sample; a rewrite that does not apply returns the code unchanged. */
export async function rewriteAll(code: string, language: Language): Promise<Record<RewriteName, string>> {
  await loadParsers();
  return rewriteAllSync(code, language);
}

export function rewriteAllSync(code: string, language: Language): Record<RewriteName, string> {
  const out = {} as Record<RewriteName, string>;
  for (const name of REWRITES) out[name] = apply[name](code, language);
  return out;
}

export function rewrite(name: RewriteName, code: string, language: Language): string {
  return apply[name](code, language);
}
