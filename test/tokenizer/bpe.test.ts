import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { WordCounter, trainBpe } from '../../src/tokenizer/bpe-trainer.js';
import { BpeTokenizer } from '../../src/tokenizer/bpe-tokenizer.js';
import { vocabFromGgufMetadata, vocabToGgufMetadata, chatmlIds, TokenType } from '../../src/tokenizer/vocab.js';
import { countCorpusPath } from '../../src/tokenizer/corpus.js';
import { CHATML_TEMPLATE, renderChatML } from '../../src/tokenizer/chatml.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { readGguf } from '../../src/engine/gguf/reader.js';
import { tempDir } from '../helpers/cli.js';
import { tinyCorpusText } from '../helpers/tiny-model.js';

const tmp = tempDir('finesec-bpe-');
afterAll(() => tmp.cleanup());

function counted(...texts: string[]): WordCounter {
  const c = new WordCounter();
  for (const t of texts) c.add(t);
  return c;
}

describe('BPE trainer', () => {
  it('learns the most frequent pair first, stops at the vocabulary size, and puts ChatML specials last', () => {
    // Words: "ab" x1, " ab" x2, " cd" x1 -> pairs (a,b)=3, (Ġ,a)=2, (Ġ,c)=1, (c,d)=1.
    const { vocab, reachedTarget } = trainBpe(counted('ab ab ab cd'), { vocabSize: 261 });
    expect(reachedTarget).toBe(true);
    expect(vocab.merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(vocab.tokens.slice(256)).toEqual(['ab', 'Ġab', '<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(vocab.special).toEqual([258, 259, 260]);
    expect(vocab.tokens[0x61]).toBe('a');
    expect(vocab.tokens[0x20]).toBe('Ġ');
  });

  it('breaks count ties by the smaller (left id, right id) and ignores pairs seen once', () => {
    // (x,y) and (p,q) both occur twice; 'p' (0x70) < 'x' (0x78), so (p,q) comes first.
    const { vocab, reachedTarget } = trainBpe(counted('xy\npq\nxy\npq\nzw'), { vocabSize: 300 });
    expect(vocab.merges.slice(0, 2)).toEqual([
      ['p', 'q'],
      ['x', 'y'],
    ]);
    expect(vocab.merges.some(([a, b]) => a === 'z' && b === 'w')).toBe(false);
    expect(reachedTarget).toBe(false);
  });

  it('is deterministic and independent of the order the corpus arrives in', () => {
    const docs = tinyCorpusText(3, 120).split('\n\n');
    const a = trainBpe(counted(...docs), { vocabSize: 700 }).vocab;
    const b = trainBpe(counted(...[...docs].reverse()), { vocabSize: 700 }).vocab;
    expect(b).toEqual(a);
    expect(a.tokens).toHaveLength(700);
    expect(new Set(a.tokens).size).toBe(700);
  });

  it('rejects a vocabulary too small for the 256 bytes and 3 special tokens', () => {
    expect(() => trainBpe(counted('abc'), { vocabSize: 258 })).toThrow(/at least 259/);
  });

  it('trains a 4k vocabulary on a few MB of text (timing printed, not asserted)', () => {
    const text = tinyCorpusText(11, 6000);
    const started = performance.now();
    const counter = counted(text);
    const { vocab } = trainBpe(counter, { vocabSize: 4096 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`bpe: ${(text.length / 1e6).toFixed(2)} MB, ${counter.counts.size} words -> ${vocab.tokens.length} tokens in ${seconds.toFixed(2)} s`);
    expect(vocab.tokens.length).toBe(4096);
  });
});

describe('BPE tokenizer', () => {
  const { vocab } = trainBpe(counted(tinyCorpusText(5, 400)), { vocabSize: 1024 });
  const tok = new BpeTokenizer(vocab);

  it('round-trips C code, unicode, control bytes and odd whitespace', () => {
    const texts = [
      'static int parse_header(const char *buf, size_t len)\n{\n\tchar local[64];\n\tmemcpy(local, buf, len);\n}\n',
      'überprüfen — 长度未检查 😀 \u0000\u0001\u007f\r\n\r\n   \t',
      '{"verdict":"vulnerable","findings":[{"cwe":"CWE-787"}]}',
      '\uFEFFstarts with a byte-order mark',
      '',
    ];
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
  });

  it('compresses text it was trained on', () => {
    const text = tinyCorpusText(5, 50);
    expect(tok.encode(text).length).toBeLessThan(Buffer.byteLength(text) / 2.5);
  });

  it('applies merges by rank, leftmost first, like llama.cpp', () => {
    const v = {
      tokens: [...'abcdĠ'].concat(['ab', 'bc', 'abc', 'aa', 'aaa']),
      merges: [['b', 'c'], ['a', 'b'], ['a', 'bc'], ['a', 'a'], ['aa', 'a']] as Array<[string, string]>,
      special: [],
    };
    const t = new BpeTokenizer(v);
    // (b,c) has the lower rank than (a,b), so "abc" is a + bc, then (a, bc) -> abc.
    expect(t.encode('abc').map((id) => v.tokens[id])).toEqual(['abc']);
    // "aaaa": (a,a) merges at 0 first, then at 2 -> aa, aa; (aa, aa) has no rank.
    expect(t.encode('aaaa').map((id) => v.tokens[id])).toEqual(['aa', 'aa']);
    // "aaa": a a a -> aa a -> aaa
    expect(t.encode('aaa').map((id) => v.tokens[id])).toEqual(['aaa']);
  });

  it('matches special tokens only when asked', () => {
    const ids = chatmlIds(vocab);
    const text = '<|im_start|>user\nhi<|im_end|>\n';
    const withSpecial = tok.encode(text, { special: true });
    expect(withSpecial[0]).toBe(ids.imStart);
    expect(withSpecial).toContain(ids.imEnd);
    expect(tok.encode(text)).not.toContain(ids.imStart);
    expect(tok.decode(withSpecial)).toBe('user\nhi\n');
    expect(tok.decode(withSpecial, { special: true })).toBe(text);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('renders ChatML as the template does', () => {
    expect(renderChatML([{ role: 'user', content: 'hi' }], true)).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    expect(CHATML_TEMPLATE).toContain("'<|im_start|>' + message['role']");
  });
});

describe('vocabulary in GGUF metadata', () => {
  it('writes the keys llama.cpp reads and reads them back unchanged', () => {
    const { vocab } = trainBpe(counted(tinyCorpusText(2, 100)), { vocabSize: 600 });
    const metadata = vocabToGgufMetadata(vocab);
    const path = join(tmp.dir, 'vocab.gguf');
    writeGguf(path, { metadata, tensors: [] });
    const file = readGguf(path);
    const get = (k: string): unknown => file.metadata.get(k)?.value;
    expect(get('tokenizer.ggml.model')).toBe('gpt2');
    expect(get('tokenizer.ggml.pre')).toBe('qwen2');
    expect(get('tokenizer.ggml.add_bos_token')).toBe(false);
    expect(get('tokenizer.ggml.eos_token_id')).toBe(599);
    expect(get('tokenizer.ggml.bos_token_id')).toBe(597);
    expect((get('tokenizer.ggml.token_type') as number[]).slice(-4)).toEqual([TokenType.NORMAL, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]);
    expect(get('tokenizer.chat_template')).toBe(CHATML_TEMPLATE);
    expect(vocabFromGgufMetadata(file.metadata, path)).toEqual(vocab);
  });

  it('refuses a non-BPE tokenizer with a one-line error naming the file', () => {
    const metadata = vocabToGgufMetadata(trainBpe(counted('ab ab'), { vocabSize: 260 }).vocab);
    metadata.set('tokenizer.ggml.model', { type: 8, value: 'llama' });
    expect(() => vocabFromGgufMetadata(metadata, 'm.gguf')).toThrow(/^m.gguf: tokenizer.ggml.model is llama, finesec reads only gpt2/);
  });
});

describe('corpus files', () => {
  it('reads a file or a folder (sorted) in chunks, counting the same words as one pass', () => {
    const dir = join(tmp.dir, 'corpus');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const text = tinyCorpusText(9, 3000); // > 1 MB: crosses a chunk boundary
    writeFileSync(join(dir, 'b.txt'), text);
    writeFileSync(join(dir, 'sub', 'a.c'), 'int x;\n');
    const fromFolder = new WordCounter();
    const stats = countCorpusPath(dir, fromFolder);
    expect(stats.documents).toBe(2);
    expect(stats.bytes).toBe(Buffer.byteLength(text) + 7);
    const direct = counted(text, 'int x;\n');
    expect(Object.fromEntries(fromFolder.counts)).toEqual(Object.fromEntries(direct.counts));
  });

  it('names a missing or empty corpus', () => {
    expect(() => countCorpusPath(join(tmp.dir, 'nope.txt'), new WordCounter())).toThrow(/nope.txt: cannot read tokenizer corpus/);
    writeFileSync(join(tmp.dir, 'empty.txt'), '');
    expect(() => countCorpusPath(join(tmp.dir, 'empty.txt'), new WordCounter())).toThrow(/empty.txt: tokenizer corpus is empty/);
  });
});
