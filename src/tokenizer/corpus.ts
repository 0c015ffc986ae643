import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, errorMessage } from '../util/errors.js';
import { WordCounter } from './bpe-trainer.js';

const CHUNK = 1 << 20;

export interface CorpusStats {
  source: string;
  bytes: number;
  documents: number;
}

/**
 * Feeds a file, or every file under a folder (sorted, so the result is deterministic), into the
 * counter. Files are read in ~1 MB chunks cut at piece boundaries, so a big corpus is never held whole.
 */
export function countCorpusPath(path: string, counter: WordCounter): CorpusStats {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read tokenizer corpus (${errorMessage(err)})`, err);
  }
  const files = st.isDirectory() ? listFiles(path) : [path];
  if (files.length === 0) throw new InputError(`${path}: tokenizer corpus folder holds no files`);
  let bytes = 0;
  for (const file of files) bytes += countFile(file, counter);
  if (bytes === 0) throw new InputError(`${path}: tokenizer corpus is empty`);
  return { source: path, bytes, documents: files.length };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function countFile(file: string, counter: WordCounter): number {
  const fd = openSync(file, 'r');
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const buf = new Uint8Array(CHUNK);
  let carry = '';
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
      const cut = lastSafeCut(text);
      if (cut < 0) {
        carry = text;
        continue;
      }
      counter.add(text.slice(0, cut + 1));
      carry = text.slice(cut + 1);
    }
    carry += decoder.decode();
    if (carry) counter.add(carry);
  } finally {
    closeSync(fd);
  }
  return total;
}

const WHITESPACE = /\p{White_Space}/u;

/**
 * The last newline followed by a non-space character: the qwen2 pre-tokenizer always starts a
 * new piece there, so cutting after it counts exactly the words one pass over the file would.
 */
function lastSafeCut(text: string): number {
  for (let i = text.lastIndexOf('\n', text.length - 2); i >= 0; i = text.lastIndexOf('\n', i - 1)) {
    if (!WHITESPACE.test(text[i + 1]!)) return i;
    if (i === 0) break;
  }
  return -1;
}

/**
 * The default corpus: samples of the synthetic generator (src/corpus/synth), their code and their
 * reports as JSON, so the vocabulary covers both C and the report format.
 */
export async function countSynthCorpus(count: number, seed: number, counter: WordCounter): Promise<CorpusStats> {
  // Loaded on demand: only model init without --tokenizer-corpus needs the generator.
  const { iterateSynth } = await import('../corpus/synth/index.js');
  let bytes = 0;
  let documents = 0;
  for (const sample of iterateSynth({ count, seed })) {
    const text = `${sample.code}\n${JSON.stringify(sample.report)}\n`;
    bytes += Buffer.byteLength(text);
    documents++;
    counter.add(text);
  }
  return { source: `synthetic generator (${documents} samples, seed ${seed})`, bytes, documents };
}
