/**
 * Training examples as token sequences, exactly as inference will see them: each conversation is
 * rendered by node-llama-cpp with the chat wrapper it resolves for the base model (the one
 * LocalStudent generates with) and tokenized by the model's own tokenizer (the GGUF loaded
 * vocabulary-only). The loss mask covers each assistant answer plus the token that closes its
 * turn (e.g. <|im_end|>), so the student learns to stop where generation stops.
 */
import { resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type LlamaModel } from 'node-llama-cpp';
import { getSharedLlama, llamaLogMark, llamaLogSince } from '../../runtime/llama.js';
import { toHistory } from '../../runtime/local-student.js';
import type { ChatMessage } from '../../runtime/chat-types.js';
import { errorMessage, InputError } from '../../util/errors.js';
import type { TokenizedSequence } from './batching.js';

export const LONG_POLICIES = ['skip', 'truncate'] as const;
export type LongPolicy = (typeof LONG_POLICIES)[number];

export class ChatTokenizer {
  private constructor(
    readonly path: string,
    readonly model: LlamaModel,
    readonly wrapper: ChatWrapper,
  ) {}

  static async load(path: string): Promise<ChatTokenizer> {
    const llama = await getSharedLlama();
    const mark = llamaLogMark();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: 0, vocabOnly: true });
    } catch (err) {
      throw new InputError(`${path}: llama.cpp could not load the base model's tokenizer (${llamaLogSince(mark) || errorMessage(err)})`, err);
    }
    return new ChatTokenizer(path, model, resolveChatWrapper(model));
  }

  /** The chat format node-llama-cpp resolved (e.g. "ChatML"). */
  get chatFormat(): string {
    return this.wrapper.wrapperName;
  }

  /** Tokens of a chat history rendered by the wrapper (a trailing model turn is left open). */
  render(history: ChatHistoryItem[]): number[] {
    const { contextText } = this.wrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.model.tokenizer).map(Number);
  }

  /**
   * The whole conversation's tokens and its loss mask (1 on every assistant answer token and the
   * token closing that turn). Throws when the template does not render prefixes consistently
   * (the mask could not be placed exactly).
   */
  tokenizeChat(messages: ChatMessage[]): { tokens: number[]; mask: Uint8Array } {
    const history = toHistory(messages);
    const open = this.render(history);
    // A following user turn makes the template close the last answer; its first token is the close.
    const closed = this.render([...history, { type: 'user', text: '.' }]);
    if (!startsWith(closed, open) || closed.length === open.length) throw this.inconsistent('closing the last answer');
    const tokens = [...open, closed[open.length]!];
    const mask = new Uint8Array(tokens.length);
    history.forEach((item, k) => {
      if (item.type !== 'model') return;
      const prompt = this.render([...history.slice(0, k), { type: 'model', response: [] }]);
      const answered = this.render(history.slice(0, k + 1));
      if (!startsWith(answered, prompt) || !startsWith(tokens, answered) || answered.length >= tokens.length) {
        throw this.inconsistent(`answer ${k + 1}`);
      }
      mask.fill(1, prompt.length, answered.length + 1);
    });
    return { tokens, mask };
  }

  private inconsistent(where: string): Error {
    return new InputError(`${this.path}: the ${this.chatFormat} chat template does not render a conversation as a prefix of its continuation (${where}); cannot place the loss mask`);
  }

  async close(): Promise<void> {
    await this.model.dispose();
  }
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export interface PreparedExamples {
  sequences: TokenizedSequence[];
  /** File line of each sequence. */
  lines: number[];
  /** Longer than seqLen and skipped (policy skip), with their lines. */
  skippedLong: number[];
  /** Cut to seqLen (policy truncate). */
  truncated: number;
  /** Nothing left to learn within seqLen (the answer starts after the cut), skipped. */
  noAnswer: number[];
  /** Tokens of the kept sequences, and how many of them are trained on. */
  tokens: number;
  trainedTokens: number;
  chatFormat: string;
}

/** Tokenizes every example and applies the length policy. */
export function prepareExamples(
  tokenizer: ChatTokenizer,
  examples: ReadonlyArray<{ messages: ChatMessage[] }>,
  lineNumbers: readonly number[],
  options: { seqLen: number; long: LongPolicy },
): PreparedExamples {
  const out: PreparedExamples = {
    sequences: [], lines: [], skippedLong: [], truncated: 0, noAnswer: [], tokens: 0, trainedTokens: 0, chatFormat: tokenizer.chatFormat,
  };
  examples.forEach((e, i) => {
    const line = lineNumbers[i]!;
    let { tokens, mask } = tokenizer.tokenizeChat(e.messages);
    if (tokens.length > options.seqLen) {
      if (options.long === 'skip') {
        out.skippedLong.push(line);
        return;
      }
      tokens = tokens.slice(0, options.seqLen);
      mask = mask.slice(0, options.seqLen);
      out.truncated++;
    }
    // Position 0 is never a target (nothing precedes it).
    let trained = 0;
    for (let t = 1; t < mask.length; t++) trained += mask[t]!;
    if (trained === 0) {
      out.noAnswer.push(line);
      return;
    }
    out.sequences.push({ tokens: Int32Array.from(tokens), mask });
    out.lines.push(line);
    out.tokens += tokens.length;
    out.trainedTokens += trained;
  });
  return out;
}
