/**
 * Token counts with the student's own tokenizer: the base GGUF loaded vocabulary-only through
 * node-llama-cpp, its chat template applied to the whole conversation (what training sees), then
 * tokenized by the model. Nothing here tokenizes by itself.
 */
import { ChatTokenizer } from '../engine/train/data.js';
import { toHistory } from '../runtime/local-student.js';
import type { ChatMessage, ExampleLine } from './types.js';

/** Counts tokens exactly as the trainer tokenizes (the same ChatTokenizer), so a kept example fits. */
export class TokenCounter {
  private constructor(private readonly tokenizer: ChatTokenizer) {}

  static async load(path: string): Promise<TokenCounter> {
    return new TokenCounter(await ChatTokenizer.load(path));
  }

  get path(): string {
    return this.tokenizer.path;
  }

  /** The chat format node-llama-cpp resolved from the model (e.g. "ChatML"). */
  get chatFormat(): string {
    return this.tokenizer.chatFormat;
  }

  /**
   * Tokens of the conversation with the chat template applied, plus the end-of-turn token the
   * answer is trained to end with (the template leaves the last turn open).
   */
  count(messages: ChatMessage[]): number {
    return this.tokenizer.render(toHistory(messages)).length + 1;
  }

  /** Tokens of plain text (no template, no special tokens). */
  countText(text: string): number {
    return this.tokenizer.model.tokenize(text).length;
  }

  async close(): Promise<void> {
    await this.tokenizer.close();
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
