import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblems, readDistilledExamples, readExamples } from '../../src/distill/read-examples.js';
import { synthWorkspace, type DistillFixture } from './fixtures.js';

let fx: DistillFixture;
let distilled: string;

beforeAll(async () => {
  fx = await synthWorkspace({ count: 20, seed: 4 });
  distilled = join(fx.dir, 'train.jsonl');
  expect((await fx.cli('distill', '--dataset', 'syn', '--out', distilled)).code).toBe(0);
}, 60_000);
afterAll(() => fx?.cleanup());

describe('the trainer\'s example reader', () => {
  it('reads distill\'s output as is: every line is a valid example, no conversion', async () => {
    const text = readFileSync(distilled, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const read = await readExamples(distilled);
    expect(read.problems).toEqual([]);
    expect(read.lines).toBe(lines.length);
    expect(read.examples.length).toBe(lines.length);
    read.examples.forEach((e, i) => expect(e).toEqual(JSON.parse(lines[i]!)));
    const distilledRead = await readDistilledExamples(distilled);
    expect(distilledRead.problems).toEqual([]);
    expect(distilledRead.examples.length).toBe(lines.length);
  });

  it('reports every malformed line with its line number and keeps the good ones', async () => {
    const good = readFileSync(distilled, 'utf8').split('\n')[0]!;
    const msg = (role: string, content = 'x') => ({ role, content });
    const bad = [
      good, // 1
      '', // 2: blank, ignored
      '{"messages": [', // 3
      JSON.stringify({ text: 'no messages' }), // 4
      JSON.stringify({ messages: [msg('user'), msg('user')] }), // 5
      JSON.stringify({ messages: [msg('user'), msg('assistant'), msg('system')] }), // 6
      JSON.stringify({ messages: [msg('system'), msg('user')] }), // 7
      JSON.stringify({ messages: [msg('user', ''), msg('assistant')] }), // 8
      JSON.stringify({ messages: [msg('tool'), msg('assistant')] }), // 9
      JSON.stringify({ ...JSON.parse(good), task: 'summarise' }), // 10
      JSON.stringify({ messages: [msg('user'), msg('assistant')] }), // 11: valid chat, not a distill line
      good, // 12
    ];
    const path = join(fx.dir, 'bad.jsonl');
    writeFileSync(path, bad.join('\n') + '\n');
    const read = await readExamples(path);
    expect(read.examples.length).toBe(3);
    expect(read.lineNumbers).toEqual([1, 11, 12]);
    expect(read.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const byLine = new Map(read.problems.map((p) => [p.line, p.message]));
    expect(byLine.get(3)).toMatch(/^not valid JSON/);
    expect(byLine.get(4)).toMatch(/^messages: /);
    expect(byLine.get(5)).toMatch(/message 2 is from user, expected assistant/);
    expect(byLine.get(6)).toMatch(/system message may only come first/);
    expect(byLine.get(7)).toMatch(/last message must be the assistant/);
    expect(byLine.get(8)).toMatch(/empty message content/);
    expect(byLine.get(9)).toMatch(/^messages\[0\]\.role: /);
    expect(byLine.get(10)).toMatch(/^task: /);
    expect(formatProblems(path, read.problems, 2)).toBe(`${path}:3: ${byLine.get(3)}\n${path}:4: ${byLine.get(4)}\n... and 6 more`);
    const strict = await readDistilledExamples(path);
    expect(strict.examples.length).toBe(2);
    expect(strict.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(strict.problems.at(-1)!.message).toMatch(/^not a finesec distill line: missing id, task/);
  });

  it('says which file cannot be read', async () => {
    await expect(readExamples(join(fx.dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: cannot read examples/);
  });
});
