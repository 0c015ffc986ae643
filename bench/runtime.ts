/**
 * Student runtime benchmark: generation speed of a ~50M-parameter Q8_0 llama model through
 * node-llama-cpp at 1 and 2 threads, and the throughput of `finesec serve` (HTTP + the openai
 * client) against direct runtime calls, measured in the same run.
 *
 *   npm run bench:runtime
 *
 * Model: embd 512, 12 layers, 8 heads (8 kv), ff 1536, vocabulary 8192, untied output:
 *   embeddings + output 2 x 8192 x 512 = 8.39M; per layer 4 x 512^2 + 3 x 512 x 1536 = 3.41M,
 *   x 12 = 40.9M; norms 12.8K; total about 49.3M parameters (vocabulary permitting).
 * The last line is exactly: RESULT runtime tokens_per_s=<1 thread> serve_ratio=<serve / direct>
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { run } from '../src/cli/main.js';
import { getSharedLlama } from '../src/runtime/llama.js';
import { LocalStudent } from '../src/runtime/local-student.js';
import { generateReport } from '../src/runtime/generate-report.js';
import { startServer } from '../src/serve/server.js';
import type { ChatMessage } from '../src/runtime/chat-types.js';

const GENERATED = 128;
const SERVE_REQUESTS = 12;
const SERVE_TOKENS = 64;

const dir = mkdtempSync(join(tmpdir(), 'finesec-bench-runtime-'));
try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const modelPath = join(dir, 'bench-50m-q8_0.gguf');
  const corpus = tokenizerCorpus();
  let initOut = '';
  const started = Date.now();
  const code = await run(
    [
      'model', 'init', '--quiet', '--json', '--arch', 'llama', '--layers', '12', '--embd', '512', '--heads', '8', '--kv-heads', '8',
      '--ff', '1536', '--vocab-size', '8192', '--ctx', '2048', '--type', 'q8_0', '--seed', '1', '--out', modelPath,
      ...(corpus ? ['--tokenizer-corpus', corpus] : []),
    ],
    (s) => (initOut += s),
  );
  if (code !== 0) throw new Error(`model init failed with exit ${code}`);
  const info = JSON.parse(initOut) as { parameters: number; vocabSize: number; fileSize: number };
  console.log(
    `model: llama, ${(info.parameters / 1e6).toFixed(1)}M parameters, Q8_0, vocabulary ${info.vocabSize}, ` +
      `${(info.fileSize / 1e6).toFixed(1)} MB (written in ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );

  const llama = await getSharedLlama();
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are a C/C++ security auditor.' },
    { role: 'user', content: 'int copy(const char *p) { char b[4]; strcpy(b, p); return b[0]; }' },
  ];

  const tokensPerSecond: Record<number, number> = {};
  for (const threads of [1, 2]) {
    const student = await LocalStudent.load({ model: modelPath, llama, threads, contextSize: 1024 });
    try {
      await timedGeneration(student, messages, 16); // warm-up
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await timedGeneration(student, messages, GENERATED));
      const best = runs.sort((a, b) => b.tokensPerSecond - a.tokensPerSecond)[0]!;
      tokensPerSecond[threads] = best.tokensPerSecond;
      console.log(
        `generation, ${threads} thread${threads > 1 ? 's' : ''}: ${best.tokensPerSecond.toFixed(1)} tokens/s ` +
          `(${best.tokens} tokens after the first; best of ${runs.length}; prompt ${best.promptTokens} tokens in ${best.firstTokenMs.toFixed(0)} ms)`,
      );
    } finally {
      await student.close();
    }
  }

  const student = await LocalStudent.load({ model: modelPath, llama, threads: 1, contextSize: 2048, id: 'bench' });
  try {
    const report = await generateReport(student, 'int copy(const char *p)\n{\n    char b[4];\n    strcpy(b, p);\n    return b[0];\n}\n', {
      temperature: 1,
      seed: 1,
      maxTokens: 256,
    });
    console.log(
      `report under the student grammar (${report.usage.completionTokens} tokens, status ${report.status}): ` +
        `${(report.usage.completionTokens / report.seconds).toFixed(1)} tokens/s including prompt and grammar`,
    );

    // Direct and HTTP requests alternate, so drift in machine load hits both alike.
    const request = { messages, maxTokens: SERVE_TOKENS, temperature: 0 };
    const server = await startServer({ backend: student });
    let directTokens = 0;
    let directSeconds = 0;
    let servedTokens = 0;
    let serveSeconds = 0;
    try {
      const client = new OpenAI({ baseURL: server.url, apiKey: 'bench', maxRetries: 0 });
      await student.complete(request); // warm-up
      await client.chat.completions.create({ model: 'bench', messages, max_tokens: SERVE_TOKENS, temperature: 0 });
      for (let i = 0; i < SERVE_REQUESTS; i++) {
        let t = performance.now();
        directTokens += (await student.complete(request)).usage.completionTokens;
        directSeconds += (performance.now() - t) / 1000;
        t = performance.now();
        const r = await client.chat.completions.create({ model: 'bench', messages, max_tokens: SERVE_TOKENS, temperature: 0 });
        servedTokens += r.usage!.completion_tokens;
        serveSeconds += (performance.now() - t) / 1000;
      }
    } finally {
      await server.close();
    }
    const direct = directTokens / directSeconds;
    const served = servedTokens / serveSeconds;
    const ratio = served / direct;
    console.log(
      `direct: ${SERVE_REQUESTS} requests, ${directTokens} tokens in ${directSeconds.toFixed(2)}s = ${direct.toFixed(1)} tokens/s; ` +
        `serve (HTTP, openai client): ${servedTokens} tokens in ${serveSeconds.toFixed(2)}s = ${served.toFixed(1)} tokens/s`,
    );
    console.log(`2 threads vs 1: ${(tokensPerSecond[2]! / tokensPerSecond[1]!).toFixed(2)}x`);
    console.log(`RESULT runtime tokens_per_s=${tokensPerSecond[1]!.toFixed(1)} serve_ratio=${ratio.toFixed(3)}`);
  } finally {
    await student.close();
  }
}

interface Timing {
  tokensPerSecond: number;
  tokens: number;
  promptTokens: number;
  firstTokenMs: number;
}

/** Tokens/s of generation alone: from the first generated token to the last. */
async function timedGeneration(student: LocalStudent, messages: ChatMessage[], maxTokens: number): Promise<Timing> {
  const start = performance.now();
  let first = 0;
  let last = 0;
  const result = await student.complete({
    messages,
    maxTokens,
    onTextChunk: () => {
      last = performance.now();
      if (first === 0) first = last;
    },
  });
  const after = result.usage.completionTokens - 1;
  return {
    tokensPerSecond: after > 0 && last > first ? after / ((last - first) / 1000) : 0,
    tokens: after,
    promptTokens: result.usage.promptTokens,
    firstTokenMs: first - start,
  };
}

/**
 * Text to train the 8192-token tokenizer on: C headers of this machine when there are enough,
 * else model init's default (the synthetic generator).
 */
function tokenizerCorpus(): string | undefined {
  const root = '/usr/include';
  if (!existsSync(root)) return undefined;
  const out = join(dir, 'corpus');
  mkdirSync(out);
  let bytes = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (bytes > 6e6) return;
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.h') && st.size < 200_000) {
        writeFileSync(join(out, `${bytes}.h`), readFileSync(p));
        bytes += st.size;
      }
    }
  };
  walk(root);
  return bytes > 1e6 ? out : undefined;
}
