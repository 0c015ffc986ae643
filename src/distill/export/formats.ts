/**
 * Conversions of one distilled example to the record shapes other trainers read. They are
 * lossless for the conversation: system, user and assistant texts are carried over unchanged.
 */
import type { ChatMessage, ExampleLine } from '../types.js';

export const EXPORT_FORMATS = ['messages', 'sharegpt', 'alpaca', 'trl', 'axolotl', 'llamafactory'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Only the conversation (what trainers load; metadata columns would only get in their way). */
export function toMessagesOnly(e: Pick<ExampleLine, 'messages'>): { messages: ChatMessage[] } {
  return { messages: e.messages.map((m) => ({ role: m.role, content: m.content })) };
}

const SHAREGPT_ROLE = { system: 'system', user: 'human', assistant: 'gpt' } as const;

export interface SharegptRecord {
  conversations: Array<{ from: 'system' | 'human' | 'gpt'; value: string }>;
}

export function toSharegpt(e: Pick<ExampleLine, 'messages'>): SharegptRecord {
  return { conversations: e.messages.map((m) => ({ from: SHAREGPT_ROLE[m.role], value: m.content })) };
}

export interface AlpacaRecord {
  instruction: string;
  input: string;
  output: string;
  system?: string;
}

/**
 * Alpaca holds one exchange: the user message is the instruction (it carries the code), the
 * assistant's answer the output, the system message the system prompt. Distill writes one
 * exchange per example, so nothing is lost; a longer conversation is refused.
 */
export function toAlpaca(e: Pick<ExampleLine, 'messages'>): AlpacaRecord {
  const system = e.messages[0]?.role === 'system' ? e.messages[0].content : undefined;
  const turns = system === undefined ? e.messages : e.messages.slice(1);
  if (turns.length !== 2 || turns[0]!.role !== 'user' || turns[1]!.role !== 'assistant') {
    throw new Error(`alpaca holds one user/assistant exchange; this example has ${turns.length} turns`);
  }
  return { instruction: turns[0]!.content, input: '', output: turns[1]!.content, ...(system !== undefined ? { system } : {}) };
}
