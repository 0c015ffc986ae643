/**
 * Tiny GGUF models for tests, written by `finesec model init` (in-process) and cached per test
 * process in one temporary folder, removed when the process exits.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.js';

export interface TinyModelOptions {
  arch?: 'llama' | 'qwen2';
  type?: 'f32' | 'f16' | 'q8_0';
  tied?: boolean;
  vocabSize?: number;
  layers?: number;
  embd?: number;
  heads?: number;
  kvHeads?: number;
  ff?: number;
  ctx?: number;
  seed?: number;
  initStd?: number;
}

let cacheDir: string | undefined;
const models = new Map<string, Promise<string>>();

/** The per-process folder for cached test models (created on first use). */
export function tinyModelDir(): string {
  if (!cacheDir) {
    cacheDir = mkdtempSync(join(tmpdir(), 'finesec-tiny-models-'));
    const dir = cacheDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return cacheDir;
}

/** Path of a tiny model with these options (2 layers, embd 64, 4/2 heads, ff 128, vocab 768 by default). */
export function tinyModel(options: TinyModelOptions = {}): Promise<string> {
  const o: Required<TinyModelOptions> = {
    arch: 'llama',
    type: 'f32',
    tied: false,
    vocabSize: 768,
    layers: 2,
    embd: 64,
    heads: 4,
    kvHeads: 2,
    ff: 128,
    ctx: 2048,
    seed: 1,
    initStd: 0.02,
    ...options,
  };
  const key = JSON.stringify(o);
  let pending = models.get(key);
  if (!pending) {
    pending = create(o, key);
    models.set(key, pending);
  }
  return pending;
}

async function create(o: Required<TinyModelOptions>, key: string): Promise<string> {
  const dir = tinyModelDir();
  const out = join(dir, `model-${models.size}-${o.arch}-${o.type}.gguf`);
  const argv = [
    'model', 'init', '--quiet',
    '--arch', o.arch,
    '--type', o.type,
    '--vocab-size', String(o.vocabSize),
    '--layers', String(o.layers),
    '--embd', String(o.embd),
    '--heads', String(o.heads),
    '--kv-heads', String(o.kvHeads),
    '--ff', String(o.ff),
    '--ctx', String(o.ctx),
    '--seed', String(o.seed),
    '--init-std', String(o.initStd),
    '--tokenizer-corpus', tinyCorpusPath(),
    '--out', out,
    ...(o.tied ? ['--tied'] : []),
  ];
  const r = await runCli(argv);
  if (r.code !== 0) throw new Error(`model init failed (exit ${r.code}) for ${key}`);
  return out;
}

/** A generated corpus file: C functions, report-like JSON and a little non-ASCII text. */
export function tinyCorpusPath(): string {
  const path = join(tinyModelDir(), 'corpus.txt');
  if (!existsSync(path)) writeFileSync(path, tinyCorpusText());
  return path;
}

export function tinyCorpusText(seed = 7, functions = 600): string {
  let state = seed >>> 0;
  const rand = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const types = ['int', 'char *', 'size_t', 'unsigned int', 'const char *', 'struct buffer *', 'void *', 'long'];
  const verbs = ['copy', 'parse', 'read', 'write', 'handle', 'decode', 'free', 'alloc', 'check', 'update'];
  const nouns = ['buffer', 'packet', 'header', 'user', 'input', 'name', 'list', 'node', 'request', 'path'];
  const calls = ['memcpy', 'strcpy', 'strncpy', 'malloc', 'free', 'printf', 'snprintf', 'strlen', 'memset', 'fgets'];
  const cwes = ['CWE-121', 'CWE-122', 'CWE-476', 'CWE-416', 'CWE-190', 'CWE-134', 'CWE-787', 'CWE-20'];
  const prose = [
    'The length is not checked before the copy, so a long input overflows the stack buffer.',
    'A pointer is used after it was freed; the attacker controls the reallocated memory.',
    'Résumé: la longueur n\'est pas vérifiée — überprüfen Sie die Größe. 长度未检查。',
    'Null pointer dereference when the allocation fails (malloc returns NULL).',
  ];
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'qua', 'bri', 'sto', 'fen', 'dal', 'gor', 'hum', 'jex', 'pli', 'wyn', 'cru'];
  const word = (): string => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(syllables)).join('');
  const parts: string[] = [];
  for (let i = 0; i < functions; i++) {
    const name = `${pick(verbs)}_${pick(nouns)}${i % 7 === 0 ? '_' + word() : ''}`;
    const arg = rand() < 0.5 ? pick(nouns) : word();
    parts.push(`/* ${Array.from({ length: 6 }, word).join(' ')}. */`);
    const size = 8 << Math.floor(rand() * 6);
    const lines = [
      `static ${pick(types)} ${name}(${pick(types)} ${arg}, size_t len)`,
      '{',
      `    char local[${size}];`,
      `    if (${arg} == NULL) {`,
      '        return -1;',
      '    }',
      `    ${pick(calls)}(local, ${arg}, len);`,
      `    for (size_t i = 0; i < len; i++) {`,
      `        local[i] ^= 0x${Math.floor(rand() * 256).toString(16).padStart(2, '0')};`,
      '    }',
      `    return ${pick(['0', 'len', '(int)len', 'local[0]'])};`,
      '}',
      '',
    ];
    parts.push(lines.join('\n'));
    const report = {
      verdict: rand() < 0.6 ? 'vulnerable' : 'not_vulnerable',
      findings: [
        {
          cwe: pick(cwes),
          title: `${pick(calls)} into fixed-size buffer in ${name}`,
          severity: pick(['low', 'medium', 'high', 'critical']),
          location: { function: name, lines: [3 + (i % 5), 7 + (i % 5)] },
          root_cause: pick(prose),
          confidence: Math.round(rand() * 100) / 100,
        },
      ],
      reasoning: [pick(prose), pick(prose)],
    };
    parts.push(JSON.stringify(report) + '\n');
  }
  return parts.join('\n');
}
