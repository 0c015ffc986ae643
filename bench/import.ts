/**
 * Import throughput, each against a reference measured in the same run:
 *   - the Juliet JSONL from ../shared/datasets/juliet (when present) through `ingest --format
 *     primevul`, in rows/s, against just streaming and JSON-parsing the same file;
 *   - a generated source tree (300 files, ~3,000 functions, C and C++) through `ingest --format
 *     source`, in functions/s, against just parsing the same files with tree-sitter.
 * Imports go into fresh temporary workspaces with the default config (corpus.batch_size etc.).
 * Last line: RESULT import rows_per_s=<n> functions_per_s=<n>.
 *
 *   npm run bench:import
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initWorkspace, openWorkspace } from '../src/config/workspace.js';
import { loadImporter } from '../src/corpus/importers/index.js';
import { runImport, type ImportSummary } from '../src/corpus/importers/runner.js';
import { listInputFiles, openText, readLines } from '../src/corpus/importers/files.js';
import { loadParsers, parserFor } from '../src/corpus/treesitter.js';
import { SilentLogger } from '../src/util/log.js';

const julietFile = resolve(import.meta.dirname, '../../shared/datasets/juliet/juliet_c_cpp_1.3_singlefile.jsonl.gz');
const scratch = mkdtempSync(join(tmpdir(), 'finesec-bench-import-'));

async function ingest(format: string, path: string, name: string, extra: { groupField?: string } = {}): Promise<ImportSummary> {
  const dir = join(scratch, `ws-${name}`);
  initWorkspace(dir);
  const ws = openWorkspace(dir, { create: false });
  try {
    const importer = await loadImporter(format);
    return await runImport(
      ws.db,
      importer,
      {
        path,
        dataset: name,
        ...extra,
        batchSize: ws.config.corpus.batch_size,
        maxFileBytes: ws.config.corpus.max_file_bytes,
        maxFunctionLines: ws.config.corpus.max_function_lines,
      },
      new SilentLogger(),
    );
  } finally {
    ws.close();
  }
}

/** Reference: stream the file and JSON.parse every line, nothing else. */
async function parseOnly(path: string): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  const { size } = statSync(path);
  let rows = 0;
  for await (const { text } of readLines(openText(path, size).stream)) {
    if (text.trim() === '') continue;
    JSON.parse(text);
    rows++;
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** A deterministic pseudo-random source tree: C and C++ files with structs, macros, classes, #ifdefs. */
function writeSourceTree(root: string, files: number, functionsPerFile: number): void {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const types = ['int', 'long', 'size_t', 'unsigned char', 'char *', 'const char *', 'double'];
  for (let f = 0; f < files; f++) {
    const cpp = f % 3 === 0;
    const dir = join(root, `mod${f % 12}`, `sub${f % 5}`);
    mkdirSync(dir, { recursive: true });
    const parts: string[] = ['#include <stdio.h>', '#include <string.h>', `#define BUF_${f} ${16 + rand(240)}`, ''];
    if (cpp) parts.push(`namespace mod${f} {`, `class Worker${f} {`, 'public:', `  int id() const { return id_; }`, 'private:', '  int id_;', '};', '');
    for (let i = 0; i < functionsPerFile - (cpp ? 1 : 0); i++) {
      const t = types[rand(types.length)]!;
      const name = `fn_${f}_${i}`;
      const body: string[] = [`  char buf[BUF_${f}];`, `  ${t} acc = 0;`];
      const loops = 2 + rand(6);
      for (let k = 0; k < loops; k++) {
        body.push(`  for (int k${k} = 0; k${k} < n; k${k}++) {`);
        body.push(rand(2) ? `    if (src[k${k}] == '\\0') break;` : `    acc += (${t})src[k${k}];`);
        if (rand(4) === 0) body.push('#ifdef HAVE_MEMCPY', '    memcpy(buf, src, n);', '#else', '    strncpy(buf, src, sizeof buf);', '#endif');
        body.push('  }');
      }
      body.push(`  /* result of ${name} */`, '  return (int)acc + buf[0];');
      const head = cpp && i % 4 === 1 ? `int Worker${f}::${name}(const char *src, int n)` : `${rand(3) === 0 ? 'static ' : ''}int ${name}(const char *src, int n)`;
      parts.push(head, '{', ...body, '}', '');
    }
    if (cpp) parts.push('}');
    writeFileSync(join(dir, `file${f}.${cpp ? 'cpp' : 'c'}`), parts.join('\n'));
  }
}

/** Reference: parse every file with tree-sitter, nothing else. */
async function treeSitterOnly(root: string): Promise<{ files: number; seconds: number }> {
  await loadParsers();
  const inputs = listInputFiles(root, (rel) => /\.(c|cpp)$/.test(rel));
  const started = performance.now();
  for (const input of inputs) {
    const tree = parserFor(input.path.endsWith('.cpp') ? 'cpp' : 'c').parse(readFileSync(input.path, 'utf8'));
    tree?.delete();
  }
  return { files: inputs.length, seconds: (performance.now() - started) / 1000 };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

try {
  // The source tree first: the Juliet import leaves hundreds of megabytes for the disk to flush.
  const tree = join(scratch, 'tree');
  writeSourceTree(tree, 300, 10);
  const sourceSummary = await ingest('source', tree, 'tree');
  const functionsPerSecond = sourceSummary.samples / sourceSummary.seconds;
  const reference = await treeSitterOnly(tree);
  console.log(
    `source tree: ${sourceSummary.read} files, ${sourceSummary.samples} functions (${sourceSummary.inserted} inserted, ` +
      `${sourceSummary.rejected} rejected) in ${sourceSummary.seconds.toFixed(2)} s: ${fmt(functionsPerSecond)} functions/s, ${fmt(sourceSummary.read / sourceSummary.seconds)} files/s`,
  );
  const referenceFiles = reference.files / reference.seconds;
  console.log(`  reference (tree-sitter parse only): ${fmt(referenceFiles)} files/s; import runs at ${(sourceSummary.read / sourceSummary.seconds / referenceFiles).toFixed(3)} of it`);

  let rowsPerSecond: number;
  if (existsSync(julietFile)) {
    const summary = await ingest('primevul', julietFile, 'juliet', { groupField: 'functional_variant' });
    const reference = await parseOnly(julietFile);
    rowsPerSecond = summary.read / summary.seconds;
    console.log(
      `juliet: ${summary.read} rows read, ${summary.inserted} inserted, ${summary.merged} merged duplicates, ` +
        `${summary.conflicts} label conflicts, ${summary.rejected} rejected in ${summary.seconds.toFixed(2)} s: ${fmt(rowsPerSecond)} rows/s`,
    );
    const referenceRate = reference.rows / reference.seconds;
    console.log(`  reference (stream + JSON.parse only): ${fmt(referenceRate)} rows/s; import runs at ${(rowsPerSecond / referenceRate).toFixed(3)} of it`);
  } else {
    console.log(`juliet: skipped (${julietFile} is not here); rows/s below comes from a generated JSONL instead`);
    const file = join(scratch, 'generated.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(JSON.stringify({ idx: i, target: i % 2, project: `p${i % 9}`, func: `int f${i}(int x)\n{\n  return x * ${i};\n}` }));
    writeFileSync(file, lines.join('\n') + '\n');
    const summary = await ingest('primevul', file, 'generated');
    rowsPerSecond = summary.read / summary.seconds;
    const reference = await parseOnly(file);
    console.log(`generated jsonl: ${summary.read} rows in ${summary.seconds.toFixed(2)} s: ${fmt(rowsPerSecond)} rows/s (reference ${fmt(reference.rows / reference.seconds)} rows/s)`);
  }
  console.log(`RESULT import rows_per_s=${Math.round(rowsPerSecond)} functions_per_s=${Math.round(functionsPerSecond)}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
