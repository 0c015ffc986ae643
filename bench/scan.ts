/**
 * Scanner benchmark: a generated tree of 1,000 distinct C functions (100 files of 10) scanned by
 * a tiny random llama GGUF through node-llama-cpp, first cold (every function generated, at most
 * 64 tokens each) and then warm (every function from the per-function cache, no model call).
 *
 *   npm run bench:scan
 *
 * Model: llama, 2 layers, embd 64, 4 heads (2 kv), ff 128, vocabulary 1024, F32, context 2048
 * (written by `finesec model init` in this run). The cold rate is dominated by prompt evaluation
 * and 64 generated tokens per function; the warm rate by walking, parsing and cache lookups.
 * The last line is exactly: RESULT scan cold_fps=<n> warm_fps=<n> ratio=<warm/cold>
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/main.js';

const FILES = 100;
const PER_FILE = 10;
const MAX_TOKENS = 64;

const dir = mkdtempSync(join(tmpdir(), 'finesec-bench-scan-'));
try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const model = join(dir, 'tiny.gguf');
  const init = await run(
    ['model', 'init', '--quiet', '--arch', 'llama', '--layers', '2', '--embd', '64', '--heads', '4', '--kv-heads', '2', '--ff', '128',
      '--vocab-size', '1024', '--ctx', '2048', '--type', 'f32', '--seed', '1', '--tokenizer-samples', '400', '--out', model],
    () => {},
  );
  if (init !== 0) throw new Error(`model init failed with exit ${init}`);
  const tree = join(dir, 'tree');
  generateTree(tree);
  const ws = join(dir, 'ws');
  console.log(`tree: ${FILES} files, ${FILES * PER_FILE} functions; model: tiny llama (2 layers, embd 64, vocabulary 1024), --max-tokens ${MAX_TOKENS}`);
  console.log('(a random model cannot finish a report in 64 tokens: the scan warns about truncated reports; this measures throughput)');

  const cold = await timedScan(tree, ws, model, 'cold');
  const warm = await timedScan(tree, ws, model, 'warm');
  if (warm.modelCalls !== 0) throw new Error(`the warm scan made ${warm.modelCalls} model calls (expected 0)`);
  if (cold.functions !== FILES * PER_FILE || warm.functions !== cold.functions) {
    throw new Error(`expected ${FILES * PER_FILE} functions, scanned ${cold.functions} cold and ${warm.functions} warm`);
  }
  const ratio = warm.fps / cold.fps;
  console.log(`warm/cold: ${ratio.toFixed(1)}x`);
  console.log(`RESULT scan cold_fps=${cold.fps.toFixed(2)} warm_fps=${warm.fps.toFixed(1)} ratio=${ratio.toFixed(1)}`);
}

async function timedScan(tree: string, ws: string, model: string, label: string): Promise<{ fps: number; functions: number; modelCalls: number }> {
  const out = join(dir, `${label}.json`);
  const started = process.hrtime.bigint();
  const code = await run(
    ['scan', tree, '--root', tree, '--model', model, '--workspace', ws, '--max-tokens', String(MAX_TOKENS), '--format', 'json', '--out', out, '--quiet'],
    () => {},
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code === 2) throw new Error(`${label} scan failed (exit 2)`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    summary: { stats: { functions: { analysed: number; cacheHits: number; modelCalls: number } } };
  };
  const f = report.summary.stats.functions;
  const fps = f.analysed / seconds;
  console.log(
    `${label}: ${f.analysed} functions in ${seconds.toFixed(1)}s = ${fps.toFixed(2)} functions/s ` +
      `(${f.modelCalls} model calls, ${f.cacheHits} cache hits; wall clock of the whole command${f.modelCalls > 0 ? ', model load included' : ''})`,
  );
  return { fps, functions: f.analysed, modelCalls: f.modelCalls };
}

/** Distinct functions (names, sizes and constants differ, so no two share a cache entry). */
function generateTree(root: string): void {
  const ops = ['+', '-', '^', '|', '&'];
  const calls = ['memcpy(dst, src, n)', 'strncpy(dst, src, n)', 'memset(dst, 0, n)', 'snprintf(dst, n, "%s", src)'];
  for (let f = 0; f < FILES; f++) {
    const fns: string[] = ['#include <string.h>', '#include <stdio.h>', ''];
    for (let k = 0; k < PER_FILE; k++) {
      const id = f * PER_FILE + k;
      const body = [
        `int handle_${f}_${k}(char *dst, const char *src, size_t n)`,
        '{',
        `    char local[${8 + (id % 57)}];`,
        `    int acc = ${id};`,
        '    if (dst == NULL || src == NULL) {',
        '        return -1;',
        '    }',
        `    ${calls[id % calls.length]};`,
        ...Array.from({ length: 1 + (id % 4) }, (_, j) => `    acc = acc ${ops[(id + j) % ops.length]} src[${j}];`),
        `    local[0] = (char)acc;`,
        '    return local[0];',
        '}',
        '',
      ];
      fns.push(body.join('\n'));
    }
    mkdirSync(join(root, `mod${Math.floor(f / 10)}`), { recursive: true });
    writeFileSync(join(root, `mod${Math.floor(f / 10)}`, `file${f}.c`), fns.join('\n'));
  }
}
