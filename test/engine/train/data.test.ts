/**
 * Training sequences agree with inference: the prompt part is exactly the tokens node-llama-cpp
 * feeds when generating (LocalStudent.promptTokens), the answer part is the answer's own
 * tokenization followed by the end-of-turn token generation stops on, and the loss mask covers
 * exactly those answer tokens (every assistant turn), nothing of the system or user turns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatTokenizer, prepareExamples } from '../../../src/engine/train/data.js';
import { LocalStudent } from '../../../src/runtime/local-student.js';
import type { ChatMessage } from '../../../src/runtime/chat-types.js';
import { renderChatML, IM_END } from '../../../src/tokenizer/chatml.js';
import { tinyModel } from '../../helpers/tiny-model.js';

let tokenizer: ChatTokenizer;
let student: LocalStudent;

beforeAll(async () => {
  const path = await tinyModel();
  tokenizer = await ChatTokenizer.load(path);
  student = await LocalStudent.load({ model: path, contextSize: 512 });
});

afterAll(async () => {
  await tokenizer?.close();
  await student?.close();
});

const single: ChatMessage[] = [
  { role: 'system', content: 'You audit C code for memory safety bugs.' },
  { role: 'user', content: 'static int f(char *s) { char b[8]; strcpy(b, s); return 0; }' },
  { role: 'assistant', content: '{"verdict":"vulnerable","cwe":"CWE-121"}' },
];

function ranges(mask: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && (i === 0 || !mask[i - 1])) out.push([i, i]);
    if (mask[i]) out[out.length - 1]![1] = i + 1;
  }
  return out;
}

describe('chat examples as training tokens (through node-llama-cpp)', () => {
  it('resolves the same chat format inference uses', () => {
    expect(tokenizer.chatFormat).toBe(student.chatFormat);
    expect(tokenizer.chatFormat).toBe('ChatML');
  });

  it('prompt = the generation prompt, answer = its tokens + <|im_end|>, mask = exactly the answer', () => {
    const { tokens, mask } = tokenizer.tokenizeChat(single);
    const prompt = student.promptTokens(single.slice(0, -1));
    const answer = student.tokenize(single[2]!.content);
    const imEnd = tokenizer.model.tokenize(IM_END, true);
    expect(imEnd).toHaveLength(1);
    expect(tokens).toEqual([...prompt, ...answer, imEnd[0]]);
    expect(ranges(mask)).toEqual([[prompt.length, tokens.length]]);
    // And the whole sequence is the ChatML text of the conversation.
    const text = student.detokenize(tokens, true);
    expect(text.endsWith(renderChatML(single, false).trimEnd())).toBe(true);
  });

  it('masks every assistant turn of a multi-turn conversation and none of the others', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Is gets() safe?' },
      { role: 'assistant', content: 'No: CWE-242.' },
      { role: 'user', content: 'And fgets()?' },
      { role: 'assistant', content: 'Yes, with the buffer size.' },
    ];
    const { tokens, mask } = tokenizer.tokenizeChat(messages);
    const firstPrompt = student.promptTokens(messages.slice(0, 1));
    const secondPrompt = student.promptTokens(messages.slice(0, 3));
    const a1 = student.tokenize(messages[1]!.content);
    const a2 = student.tokenize(messages[3]!.content);
    expect(ranges(mask)).toEqual([
      [firstPrompt.length, firstPrompt.length + a1.length + 1],
      [secondPrompt.length, secondPrompt.length + a2.length + 1],
    ]);
    expect(tokens.slice(0, secondPrompt.length)).toEqual(secondPrompt);
    const masked = tokens.filter((_, i) => mask[i]);
    expect(student.detokenize(masked, true)).toBe(`No: CWE-242.${IM_END}Yes, with the buffer size.${IM_END}`);
  });

  it('skips or truncates examples longer than --seq-len, and counts them', () => {
    const long: ChatMessage[] = [{ role: 'user', content: 'x '.repeat(200) }, { role: 'assistant', content: 'short answer' }];
    const fits = tokenizer.tokenizeChat(single).tokens.length;
    const examples = [{ messages: single }, { messages: long }];
    const skip = prepareExamples(tokenizer, examples, [1, 2], { seqLen: fits, long: 'skip' });
    expect(skip.sequences).toHaveLength(1);
    expect(skip.lines).toEqual([1]);
    expect(skip.skippedLong).toEqual([2]);
    // Truncating the long one keeps no answer token (its answer comes after the cut): skipped as such.
    const cut = prepareExamples(tokenizer, examples, [1, 2], { seqLen: fits, long: 'truncate' });
    expect(cut.truncated).toBe(1);
    expect(cut.noAnswer).toEqual([2]);
    // A cut inside the answer keeps the answer's beginning.
    const partial = prepareExamples(tokenizer, [{ messages: single }], [7], { seqLen: fits - 3, long: 'truncate' });
    expect(partial.sequences[0]!.tokens).toHaveLength(fits - 3);
    expect(partial.trainedTokens).toBeGreaterThan(0);
    expect(partial.trainedTokens).toBe(skip.trainedTokens - 3);
  });
});
