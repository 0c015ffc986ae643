/** Chat examples for training tests, generated: a tiny audit task with three answer patterns. */
import { writeFileSync } from 'node:fs';
import type { ChatMessage } from '../../../src/runtime/chat-types.js';

export const SYSTEM = 'You audit C code.';
const CASES = [
  { code: 'strcpy(buf, src);', answer: '{"verdict":"vulnerable","cwe":"CWE-121"}' },
  { code: 'if (n < sizeof buf) memcpy(buf, src, n);', answer: '{"verdict":"not_vulnerable"}' },
  { code: 'p = malloc(n); p[0] = 1;', answer: '{"verdict":"vulnerable","cwe":"CWE-476"}' },
] as const;

export function prompt(i: number): ChatMessage[] {
  const c = CASES[i % CASES.length]!;
  return [{ role: 'system', content: SYSTEM }, { role: 'user', content: `Check function f${i}: ${c.code}` }];
}

export function answer(i: number): string {
  return CASES[i % CASES.length]!.answer;
}

export function example(i: number): { messages: ChatMessage[] } {
  return { messages: [...prompt(i), { role: 'assistant', content: answer(i) }] };
}

/** Examples from..to-1 as JSONL. */
export function writeExamples(path: string, from: number, to: number): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(example(i)));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
