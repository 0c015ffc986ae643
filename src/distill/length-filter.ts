/**
 * Token counts with the student's own tokenizer: the base GGUF loaded vocabulary-only through
 * node-llama-cpp, its chat template applied to the whole conversation (what training sees), then
 * tokenized by the model. Nothing here tokenizes by itself.
 */
import { resolveChatWrapper, type ChatWrapper, type LlamaModel } from 'node-llama-cpp';
import { getSharedLlama, llamaLogMark, llamaLogSince } from '../runtime/llama.js';
import { toHistory } from '../runtime/local-student.js';
import { errorMessage, InputError } from '../util/errors.js';
import type { ChatMessage, ExampleLine } from './types.js';

export class TokenCounter {
  private constructor(
    readonly path: string,
    private readonly model: LlamaModel,
    private readonly wrapper: ChatWrapper,
  ) {}

  static async load(path: string): Promise<TokenCounter> {
    const llama = await getSharedLlama();
    const mark = llamaLogMark();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: 0, vocabOnly: true });
    } catch (err) {
      throw new InputError(`${path}: llama.cpp could not load the base model's tokenizer (${llamaLogSince(mark) || errorMessage(err)})`, err);
    }
    return new TokenCounter(path, model, resolveChatWrapper(model));
  }

  /** The chat format node-llama-cpp resolved from the model (e.g. "ChatML"). */
  get chatFormat(): string {
    return this.wrapper.wrapperName;
  }

  /**
   * Tokens of the conversation with the chat template applied, plus the end-of-turn token the
   * answer is trained to end with (the template leaves the last turn open).
   */
  count(messages: ChatMessage[]): number {
    const { contextText } = this.wrapper.generateContextState({ chatHistory: toHistory(messages) });
    return contextText.tokenize(this.model.tokenizer).length + 1;
  }

  /** Tokens of plain text (no template, no special tokens). */
  countText(text: string): number {
    return this.model.tokenize(text).length;
  }

  async close(): Promise<void> {
    await this.model.dispose();
  }
}

export interface LengthFilterResult {
  kept: ExampleLine[];
  dropped: Array<{ id: string; task: string; sample_id: number; tokens: number }>;
}

/** Records each example's token count and drops those over maxTokens. */
export function filterByLength(
  examples: ExampleLine[],
  counter: TokenCounter,
  maxTokens: number,
  onEach?: () => void,
): LengthFilterResult {
  const kept: ExampleLine[] = [];
  const dropped: LengthFilterResult['dropped'] = [];
  for (const e of examples) {
    const tokens = counter.count(e.messages);
    onEach?.();
    if (tokens > maxTokens) dropped.push({ id: e.id, task: e.task, sample_id: e.sample_id, tokens });
    else kept.push({ ...e, tokens });
  }
  return { kept, dropped };
}
