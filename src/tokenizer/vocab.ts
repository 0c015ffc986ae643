import { InputError } from '../util/errors.js';
import { gv, MetadataView } from '../engine/gguf/metadata.js';
import type { GgufMetadata } from '../engine/gguf/types.js';
import { CHATML_TEMPLATE, ENDOFTEXT, IM_END, IM_START } from './chatml.js';

/**
 * A byte-level BPE vocabulary: tokens are byte-level strings (see byte-level.ts); merges are in
 * rank order; `special` lists the ids of control tokens (matched whole in text, never merged).
 */
export interface BpeVocab {
  tokens: string[];
  merges: Array<[string, string]>;
  special: number[];
}

/** llama.cpp's token types (tokenizer.ggml.token_type). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SpecialTokenIds {
  endoftext: number;
  imStart: number;
  imEnd: number;
}

export function chatmlIds(vocab: BpeVocab, source = 'vocabulary'): SpecialTokenIds {
  const find = (text: string): number => {
    const id = vocab.special.find((i) => vocab.tokens[i] === text);
    if (id === undefined) throw new InputError(`${source}: special token ${text} is missing`);
    return id;
  };
  return { endoftext: find(ENDOFTEXT), imStart: find(IM_START), imEnd: find(IM_END) };
}

/**
 * The tokenizer.* metadata llama.cpp reads for a GPT-2 style BPE with the qwen2 pre-tokenizer.
 * BOS is <|endoftext|> but never added (add_bos_token false, as Qwen2 ships); <|im_end|> ends a
 * turn and generation (eos and eot); <|endoftext|> pads.
 */
export function vocabToGgufMetadata(vocab: BpeVocab, chatTemplate: string = CHATML_TEMPLATE): GgufMetadata {
  const ids = chatmlIds(vocab);
  const special = new Set(vocab.special);
  const types = vocab.tokens.map((_, i) => (special.has(i) ? TokenType.CONTROL : TokenType.NORMAL));
  return new Map([
    ['tokenizer.ggml.model', gv.str('gpt2')],
    ['tokenizer.ggml.pre', gv.str('qwen2')],
    ['tokenizer.ggml.tokens', gv.strArray(vocab.tokens)],
    ['tokenizer.ggml.token_type', gv.i32Array(types)],
    ['tokenizer.ggml.merges', gv.strArray(vocab.merges.map(([a, b]) => `${a} ${b}`))],
    ['tokenizer.ggml.bos_token_id', gv.u32(ids.endoftext)],
    ['tokenizer.ggml.eos_token_id', gv.u32(ids.imEnd)],
    ['tokenizer.ggml.eot_token_id', gv.u32(ids.imEnd)],
    ['tokenizer.ggml.padding_token_id', gv.u32(ids.endoftext)],
    ['tokenizer.ggml.add_bos_token', gv.bool(false)],
    ['tokenizer.ggml.add_eos_token', gv.bool(false)],
    ['tokenizer.chat_template', gv.str(chatTemplate)],
  ]);
}

/** Reads a gpt2-style BPE vocabulary back from GGUF metadata; CONTROL and USER_DEFINED tokens are special. */
export function vocabFromGgufMetadata(metadata: GgufMetadata, source: string): BpeVocab {
  const m = new MetadataView(metadata, source);
  const model = m.requireString('tokenizer.ggml.model');
  if (model !== 'gpt2') throw new InputError(`${source}: tokenizer.ggml.model is ${model}, finesec reads only gpt2 (byte-level BPE)`);
  const tokens = (m.array('tokenizer.ggml.tokens') ?? []).map(String);
  if (tokens.length === 0) throw new InputError(`${source}: tokenizer.ggml.tokens is missing or empty`);
  const types = (m.array('tokenizer.ggml.token_type') ?? []).map(Number);
  const merges = (m.array('tokenizer.ggml.merges') ?? []).map((raw, i): [string, string] => {
    const s = String(raw);
    const space = s.indexOf(' ', 1);
    if (space < 0) throw new InputError(`${source}: tokenizer.ggml.merges[${i}] "${s}" has no space`);
    return [s.slice(0, space), s.slice(space + 1)];
  });
  const special: number[] = [];
  types.forEach((t, i) => {
    if (t === TokenType.CONTROL || t === TokenType.USER_DEFINED) special.push(i);
  });
  return { tokens, merges, special };
}
