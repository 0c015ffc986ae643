import type { Node } from 'web-tree-sitter';
import type { Language } from '../kb/samples.js';
import { loadParsers, parserFor } from './treesitter.js';
import { stripComments } from './normalize.js';

/**
 * Splits C/C++ source into function definitions with tree-sitter, and says which lines it could
 * not make sense of. Real code is full of things a grammar without a preprocessor cannot parse
 * (macros in declarators, `#ifdef` branches that each open a brace), so extraction runs in passes:
 *   1. the file as written;
 *   2. where pass 1 left errors, the file with every `#else` / `#elif` branch blanked out (the
 *      first branch of each conditional kept), which balances most brace-splitting `#ifdef`s;
 *   3. where errors remain, each stretch of source between column-0 closing braces (then each
 *      blank-line-separated paragraph) parsed on its own, keeping only functions that parse cleanly;
 *   4. last, without the grammar: a column-0 line that reads like a function head, followed by a
 *      brace-balanced body (marked hasErrors, since the parser did not accept it).
 * Blanking replaces characters by spaces, so offsets and line numbers stay those of the input and
 * every function's code is cut from the original text.
 */

export interface ExtractedFunction {
  /** `f`, `Class::method`, `ns::Class::~Class`, `operator==`, or a macro form like `PHP_FUNCTION(strlen)`. */
  name: string;
  /** The text before the body, whitespace collapsed (return type, name, parameters, qualifiers). */
  signature: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** The function's text exactly as in the input (template header and macro prefix included). */
  code: string;
  language: Language;
  /** The parser recovered from a syntax error inside this function; it is still extracted. */
  hasErrors: boolean;
}

export interface ParseProblem {
  startLine: number;
  endLine: number;
  message: string;
}

export interface Extraction {
  functions: ExtractedFunction[];
  /** Stretches with syntax errors, covered by no extracted function, that look like they held one. */
  problems: ParseProblem[];
}

export async function extractFunctions(code: string, language: Language): Promise<Extraction> {
  await loadParsers();
  return extractFunctionsSync(code, language);
}

/** Same as extractFunctions, once loadParsers() has completed (no await per file in hot loops). */
export function extractFunctionsSync(code: string, language: Language): Extraction {
  const accepted: Candidate[] = [];
  const parsed = parseCandidates(code, language, 0, 0);
  accepted.push(...parsed.candidates);
  if (parsed.errorRows.length === 0) return finish(code, language, accepted, []);

  let uncovered = uncoveredRows(parsed.errorRows, accepted, code);
  if (uncovered.size > 0 && /^[ \t]*#[ \t]*(if|el)/m.test(code)) {
    const masked = parseCandidates(maskConditionalBranches(code), language, 0, 0);
    acceptNew(accepted, masked.candidates, (c) => touches(c, uncovered));
    uncovered = uncoveredRows(parsed.errorRows, accepted, code);
  }
  if (uncovered.size > 0) {
    const lineStarts = lineStartOffsets(code);
    for (const run of rowRuns(uncovered, code)) {
      for (const chunk of splitAtClosingBraces(code, lineStarts, run)) {
        const result = parseRows(code, language, lineStarts, chunk);
        const clean = result.candidates.filter((c) => !c.hasErrors);
        acceptNew(accepted, clean, () => true);
        if (result.errorRows.length === 0) continue;
        for (const paragraph of splitAtBlankLines(code, lineStarts, chunk)) {
          const sub = parseRows(code, language, lineStarts, paragraph);
          acceptNew(accepted, sub.candidates.filter((c) => !c.hasErrors), () => true);
        }
      }
    }
    uncovered = uncoveredRows(parsed.errorRows, accepted, code);
    if (uncovered.size > 0) {
      for (const run of rowRuns(uncovered, code)) acceptNew(accepted, bracedFunctions(code, lineStarts, run), () => true);
      uncovered = uncoveredRows(parsed.errorRows, accepted, code);
    }
  }
  return finish(code, language, accepted, [...rowRuns(uncovered, code)]);
}

interface Candidate {
  name: string;
  signature: string;
  startIndex: number;
  endIndex: number;
  /** 0-based rows. */
  startRow: number;
  endRow: number;
  hasErrors: boolean;
}

interface ParseResult {
  candidates: Candidate[];
  /** 0-based rows touched by ERROR or MISSING nodes. */
  errorRows: number[];
}

/** Parses `text` (a whole input, or a slice of it starting at `indexOffset` / `rowOffset`). */
function parseCandidates(text: string, language: Language, indexOffset: number, rowOffset: number): ParseResult {
  const tree = parserFor(language).parse(text);
  if (!tree) return { candidates: [], errorRows: [] };
  try {
    const root = tree.rootNode;
    const candidates: Candidate[] = [];
    collect(root, [], candidates, text);
    for (const c of candidates) {
      c.startIndex += indexOffset;
      c.endIndex += indexOffset;
      c.startRow += rowOffset;
      c.endRow += rowOffset;
    }
    const errorRows: number[] = [];
    if (root.hasError) collectErrorRows(root, errorRows);
    return { candidates, errorRows: errorRows.map((r) => r + rowOffset) };
  } finally {
    tree.delete();
  }
}

/** Parses rows [first, last] of the original on their own. */
function parseRows(code: string, language: Language, lineStarts: number[], rows: RowRange): ParseResult {
  const start = lineStarts[rows.first]!;
  const end = rows.last + 1 < lineStarts.length ? lineStarts[rows.last + 1]! : code.length;
  return parseCandidates(code.slice(start, end), language, start, rows.first);
}

/** Node types that never contain a function definition worth visiting at declaration level. */
const opaque = new Set([
  'comment',
  'preproc_include',
  'preproc_def',
  'preproc_function_def',
  'preproc_call',
  'string_literal',
  'raw_string_literal',
  'initializer_list',
  'compound_statement',
  'field_declaration',
  'enumerator_list',
]);

const scopeTypes = new Set(['class_specifier', 'struct_specifier', 'union_specifier']);

function collect(node: Node, scope: string[], out: Candidate[], text: string): void {
  const children = node.namedChildren.filter((c): c is Node => c !== null);
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!;
    const type = child.type;
    if (type === 'function_definition') {
      addDefinition(child, child, prefixOf(children, i), scope, out, text);
    } else if (type === 'template_declaration') {
      const fn = child.namedChildren.find((c) => c?.type === 'function_definition');
      if (fn) addDefinition(fn, child, prefixOf(children, i), scope, out, text);
      else collect(child, scope, out, text);
    } else if (type === 'namespace_definition') {
      const name = child.childForFieldName('name');
      const body = child.childForFieldName('body');
      if (body) collect(body, name ? [...scope, compact(name.text)] : scope, out, text);
    } else if (scopeTypes.has(type)) {
      const name = child.childForFieldName('name');
      const body = child.childForFieldName('body');
      if (body) collect(body, name ? [...scope, compact(name.text)] : scope, out, text);
    } else if (children[i + 1]?.type === 'compound_statement' && isFunctionHead(child, children[i + 1]!)) {
      // A bare block is never valid at declaration level: what precedes it is a function head the
      // grammar could not read, e.g. `SYSCALL_DEFINE3(read, unsigned int, fd, ...)` (a macro) or
      // `info_callback(png_structp p, png_infop i)` (K&R implicit int).
      const body = children[i + 1]!;
      out.push(candidate(headName(child), child, body, body, body.hasError, scope, text));
      i++;
    } else if (!opaque.has(type) && child.namedChildCount > 0) {
      collect(child, scope, out, text);
    }
  }
}

/** A statement or declaration whose ';' the parser had to invent: likely a macro before a function. */
function isMacroHead(node: Node): boolean {
  if (node.type !== 'expression_statement' && node.type !== 'declaration') return false;
  const last = node.lastChild;
  return Boolean(last && last.isMissing && last.type === ';');
}

/**
 * `static int __init my_init(void) {...}` parses as a declaration `static int __init` (missing ';')
 * followed by a function; the declaration belongs to the function.
 */
function prefixOf(siblings: Node[], index: number): Node | undefined {
  const prev = siblings[index - 1];
  const current = siblings[index]!;
  if (!prev || !isMacroHead(prev)) return undefined;
  const gap = current.startPosition.row - prev.endPosition.row;
  if (gap === 0) return prev;
  if (gap === 1 && !/[=;{}]/.test(prev.text)) return prev;
  return undefined;
}

function addDefinition(fn: Node, outer: Node, prefix: Node | undefined, scope: string[], out: Candidate[], text: string): void {
  const body = fn.childForFieldName('body');
  if (!body || (body.type !== 'compound_statement' && body.type !== 'try_statement')) return; // `= default;`
  const name = definitionName(fn, scope.length === 0);
  out.push(candidate(name, prefix ?? outer, outer, body, fn.hasError, scope, text));
}

function candidate(name: string, first: Node, last: Node, body: Node, hasErrors: boolean, scope: string[], text: string): Candidate {
  const qualified = scope.length > 0 ? `${scope.join('::')}::${name}` : name;
  return {
    name: qualified,
    signature: compact(text.slice(first.startIndex, body.startIndex)),
    startIndex: first.startIndex,
    endIndex: last.endIndex,
    startRow: first.startPosition.row,
    endRow: last.endPosition.row,
    hasErrors,
  };
}

function definitionName(fn: Node, topLevel: boolean): string {
  const declarator = fn.childForFieldName('declarator');
  const type = fn.childForFieldName('type');
  if (!declarator) return '(anonymous)';
  if (declarator.type === 'parenthesized_declarator' && type) {
    // `PHP_FUNCTION(strlen) {...}` (a macro), or `int __init my_init(void)` after a macro prefix.
    const inner = compact(declarator.text.slice(1, -1));
    if (inner === 'void' || /[\s,*&]/.test(inner)) return compact(type.text);
    return `${compact(type.text)}(${inner})`;
  }
  const fd = innermostFunctionDeclarator(declarator);
  if (!fd) return compact(declarator.text);
  const name = functionDeclaratorName(fd);
  // `TEST(Suite, Case) {...}`: an all-caps macro with untyped "parameters" and no return type.
  if (topLevel && !type && /^[A-Z_][A-Z0-9_]+$/.test(name)) {
    const params = fd.childForFieldName('parameters')?.namedChildren ?? [];
    if (params.length > 0 && params.every((p) => p?.type === 'parameter_declaration' && !p.childForFieldName('declarator'))) {
      return compact(fd.text);
    }
  }
  return name;
}

const wrappingDeclarators = new Set([
  'pointer_declarator',
  'reference_declarator',
  'attributed_declarator',
  'parenthesized_declarator',
  'abstract_pointer_declarator',
]);

function innermostFunctionDeclarator(declarator: Node): Node | undefined {
  let d: Node | null = declarator;
  while (d) {
    if (d.type === 'function_declarator') {
      const inner = d.childForFieldName('declarator');
      // `int (*get(int))(void)`: the name sits in a function declarator nested in the parentheses.
      if (inner && inner.type === 'parenthesized_declarator') {
        const nested = innermostFunctionDeclarator(inner);
        if (nested) return nested;
      }
      return d;
    }
    if (d.type === 'operator_cast') return d;
    if (!wrappingDeclarators.has(d.type)) return undefined;
    d = d.childForFieldName('declarator') ?? lastNamedChild(d);
  }
  return undefined;
}

function lastNamedChild(node: Node): Node | null {
  return node.namedChildCount > 0 ? node.namedChild(node.namedChildCount - 1) : null;
}

function functionDeclaratorName(fd: Node): string {
  if (fd.type === 'operator_cast') return identifierName(fd);
  const inner = fd.childForFieldName('declarator');
  if (!inner) return compact(fd.text);
  // `PTR_FN(dup)(const char *s)`: a macro that expands to the name.
  if (inner.type === 'function_declarator') return compact(inner.text);
  if (inner.type === 'parenthesized_declarator') return compact(inner.text.slice(1, -1));
  return identifierName(inner);
}

function identifierName(node: Node): string {
  switch (node.type) {
    case 'qualified_identifier': {
      const scope = node.childForFieldName('scope');
      const name = node.childForFieldName('name');
      if (!name) return compact(node.text);
      // Macros before the name confuse the grammar: `int __init my_init(void)` reads as
      // `__init::my_init` with an invented '::', `Q_INVOKABLE void Foo::bar()` puts `void` in the
      // scope. The name is then the trailing qualified identifier of the text.
      if (node.children.some((c) => c?.isMissing || c?.isError)) {
        const tail = /(?:[A-Za-z_]\w*\s*::\s*)*~?[A-Za-z_]\w*$/.exec(compact(node.text));
        return tail ? tail[0].replace(/\s+/g, '') : identifierName(name);
      }
      return `${scope ? compact(scope.text).replace(/\s+/g, '') : ''}::${identifierName(name)}`;
    }
    case 'destructor_name':
      return node.text.replace(/\s+/g, '');
    case 'operator_name':
      return operatorName(node.text);
    case 'operator_cast': {
      const type = node.childForFieldName('type') ?? node.namedChild(0);
      return `operator ${type ? compact(type.text) : ''}`.trim();
    }
    default:
      return compact(node.text);
  }
}

function operatorName(text: string): string {
  const rest = compact(text).replace(/^operator\s*/, '');
  if (/^[A-Za-z_]/.test(rest)) return `operator ${rest.replace(/\s+(?=\[)|(?<=\[)\s+/g, '')}`; // new, delete[], co_await
  return `operator${rest.replace(/\s+/g, '')}`;
}

function isFunctionHead(head: Node, body: Node): boolean {
  if (body.startPosition.row - head.endPosition.row > 1) return false;
  if (!['expression_statement', 'declaration', 'ERROR'].includes(head.type)) return false;
  return /^[^;={}]*\([^{}]*\)[\w\s]*$/.test(compact(head.text));
}

function headName(head: Node): string {
  return nameBeforeParen(compact(head.text));
}

/** The (qualified) identifier before the first '('; for an all-caps macro, with its first argument. */
function nameBeforeParen(text: string): string {
  const beforeParen = text.slice(0, text.indexOf('('));
  const ident = /(?:[A-Za-z_]\w*\s*::\s*)*~?[A-Za-z_]\w*\s*$/.exec(beforeParen)?.[0].replace(/\s+/g, '') ?? beforeParen;
  if (/^[A-Z_][A-Z0-9_]+$/.test(ident)) {
    // A macro: its first argument usually names what it defines (`SYSCALL_DEFINE3(read)`).
    const first = /^\(\s*([^,()]*)/.exec(text.slice(text.indexOf('(')))?.[1]?.trim();
    return first ? `${ident}(${first})` : ident;
  }
  return ident;
}

function collectErrorRows(node: Node, rows: number[]): void {
  if (node.isError || node.isMissing) {
    for (let r = node.startPosition.row; r <= node.endPosition.row; r++) rows.push(r);
    return;
  }
  for (const child of node.children) {
    if (child && (child.hasError || child.isMissing)) collectErrorRows(child, rows);
  }
}

/**
 * Adds candidates that overlap no accepted function. A clean candidate may also replace accepted
 * ones that had errors and lie inside it: a function cut short by an `#else` inside its body is
 * superseded by the whole function found once the branch is blanked.
 */
function acceptNew(accepted: Candidate[], found: Candidate[], wanted: (c: Candidate) => boolean): void {
  for (const c of found) {
    if (!wanted(c)) continue;
    const overlapping = accepted.filter((a) => c.startRow <= a.endRow && a.startRow <= c.endRow);
    if (overlapping.length > 0) {
      const supersedes = !c.hasErrors && overlapping.every((a) => a.hasErrors && a.startRow >= c.startRow && a.endRow <= c.endRow);
      if (!supersedes) continue;
      for (const a of overlapping) accepted.splice(accepted.indexOf(a), 1);
    }
    accepted.push(c);
  }
}

function touches(c: Candidate, rows: Set<number>): boolean {
  for (let r = c.startRow; r <= c.endRow; r++) if (rows.has(r)) return true;
  return false;
}

/** Error rows that no accepted function covers, ignoring blank lines. */
function uncoveredRows(errorRows: number[], accepted: Candidate[], code: string): Set<number> {
  const lines = code.split('\n');
  const covered = new Uint8Array(lines.length);
  for (const a of accepted) covered.fill(1, a.startRow, a.endRow + 1);
  const out = new Set<number>();
  for (const r of errorRows) {
    if (covered[r] || (lines[r] ?? '').trim() === '') continue;
    out.add(r);
  }
  return out;
}

interface RowRange {
  first: number;
  last: number;
}

/** Groups rows into runs; rows separated only by blank lines belong to the same run. */
function* rowRuns(rows: Set<number>, code: string): Generator<RowRange> {
  const sorted = [...rows].sort((a, b) => a - b);
  if (sorted.length === 0) return;
  const lines = code.split('\n');
  let first = sorted[0]!;
  let last = first;
  for (const r of sorted.slice(1)) {
    let onlyBlank = true;
    for (let k = last + 1; k < r; k++) if ((lines[k] ?? '').trim() !== '') onlyBlank = false;
    if (onlyBlank) {
      last = r;
      continue;
    }
    yield { first, last };
    first = r;
    last = r;
  }
  yield { first, last };
}

function lineStartOffsets(code: string): number[] {
  const starts = [0];
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineAt(code: string, lineStarts: number[], row: number): string {
  const start = lineStarts[row] ?? code.length;
  const end = row + 1 < lineStarts.length ? lineStarts[row + 1]! - 1 : code.length;
  return code.slice(start, end);
}

/** Chunks of a run, each ending after a line that starts with '}' (the end of a top-level body). */
function splitAtClosingBraces(code: string, lineStarts: number[], run: RowRange): RowRange[] {
  const chunks: RowRange[] = [];
  let first = run.first;
  for (let r = run.first; r <= run.last; r++) {
    if (lineAt(code, lineStarts, r).startsWith('}')) {
      chunks.push({ first, last: r });
      first = r + 1;
    }
  }
  if (first <= run.last) chunks.push({ first, last: run.last });
  return chunks;
}

function splitAtBlankLines(code: string, lineStarts: number[], chunk: RowRange): RowRange[] {
  const out: RowRange[] = [];
  let first = -1;
  for (let r = chunk.first; r <= chunk.last; r++) {
    const blank = lineAt(code, lineStarts, r).trim() === '';
    if (!blank && first === -1) first = r;
    if (blank && first !== -1) {
      out.push({ first, last: r - 1 });
      first = -1;
    }
  }
  if (first !== -1) out.push({ first, last: chunk.last });
  return out.length > 1 ? out : [];
}

const notHeads = /^(?:struct|union|enum|typedef|class|namespace|if|for|while|switch|return|else|do|case|default|goto|extern\s+"C")\b/;

/** Pass 4: function-shaped text found by brace matching, for code the grammar could not parse. */
function bracedFunctions(code: string, lineStarts: number[], run: RowRange): Candidate[] {
  const out: Candidate[] = [];
  for (let row = run.first; row <= run.last; row++) {
    const first = lineAt(code, lineStarts, row);
    if (!/^[A-Za-z_]/.test(first) || notHeads.test(first)) continue;
    const start = lineStarts[row]!;
    const limit = row + 10 < lineStarts.length ? lineStarts[row + 10]! : code.length;
    const brace = code.indexOf('{', start);
    if (brace === -1 || brace >= limit) continue;
    const head = compact(code.slice(start, brace));
    if (!/^[^;={}()]*\([^{};]*\)[\w\s]*$/.test(head)) continue;
    const end = matchingBrace(code, brace);
    if (end === -1) continue;
    const endRow = rowOf(lineStarts, end);
    out.push({
      name: nameBeforeParen(head),
      signature: head,
      startIndex: start,
      endIndex: end + 1,
      startRow: row,
      endRow,
      hasErrors: true,
    });
    row = endRow;
  }
  return out;
}

/** Index of the '}' closing the '{' at `open`, skipping comments and literals; -1 if none. */
function matchingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i]!;
    if (c === '/' && code[i + 1] === '/') {
      const nl = code.indexOf('\n', i);
      if (nl === -1) return -1;
      i = nl;
    } else if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      if (close === -1) return -1;
      i = close + 1;
    } else if (c === '"' || c === "'") {
      for (i++; i < code.length && code[i] !== c && code[i] !== '\n'; i++) if (code[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function rowOf(lineStarts: number[], index: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Blanks every `#else` / `#elif` branch and every conditional directive line, keeping the first
 * branch of each `#if`, with spaces in place of characters so offsets and lines do not move.
 */
export function maskConditionalBranches(code: string): string {
  const lines = code.split('\n');
  const frames: boolean[] = [];
  let inAlternative = 0;
  let continuation = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (continuation) {
      continuation = line.trimEnd().endsWith('\\');
      lines[i] = blank(line);
      continue;
    }
    const m = /^\s*#\s*(ifdef|ifndef|if|elifdef|elifndef|elif|else|endif)\b/.exec(line);
    if (m) {
      const kind = m[1]!;
      if (kind.startsWith('if')) frames.push(false);
      else if (kind === 'endif') {
        if (frames.pop()) inAlternative--;
      } else if (frames.length > 0 && !frames[frames.length - 1]) {
        frames[frames.length - 1] = true;
        inAlternative++;
      }
      continuation = line.trimEnd().endsWith('\\');
      lines[i] = blank(line);
    } else if (inAlternative > 0) {
      lines[i] = blank(line);
    }
  }
  return lines.join('\n');
}

function blank(line: string): string {
  return line.replace(/[^\r]/g, ' ');
}

function compact(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function finish(code: string, language: Language, accepted: Candidate[], unparsed: RowRange[]): Extraction {
  const functions = accepted
    .sort((a, b) => a.startIndex - b.startIndex)
    .map((c) => ({
      name: c.name,
      signature: c.signature,
      startLine: c.startRow + 1,
      endLine: c.endRow + 1,
      code: code.slice(c.startIndex, c.endIndex),
      language,
      hasErrors: c.hasErrors,
    }));
  const lines = code.split('\n');
  // Leftover errors in declarations, directives, comments or initialisers cost no function: only
  // stretches that look like they held a body (a '(' then a '{', no '=' before it) are reported.
  const lost = unparsed.filter((r) => {
    const text = stripComments(lines.slice(r.first, r.last + 1).join('\n'));
    const brace = text.indexOf('{');
    return brace !== -1 && text.slice(0, brace).includes('(') && !text.slice(0, brace).includes('=');
  });
  const problems = lost.map((r) => {
    const firstLine = (lines[r.first] ?? '').trim();
    const excerpt = firstLine.length > 60 ? firstLine.slice(0, 57) + '...' : firstLine;
    const where = r.first === r.last ? `line ${r.first + 1}` : `lines ${r.first + 1}-${r.last + 1}`;
    return { startLine: r.first + 1, endLine: r.last + 1, message: `syntax error: no function could be extracted from ${where} ("${excerpt}")` };
  });
  return { functions, problems };
}
