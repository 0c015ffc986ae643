import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { writeGgufLora } from '../../src/engine/adapter/gguf-lora.js';
import { parseAdapterArgs } from '../../src/runtime/adapter-args.js';

const tmp = tempDir('finesec-generate-');
afterAll(() => tmp.cleanup());

const source = join(tmp.dir, 'copy.c');
writeFileSync(source, 'int copy(const char *p)\n{\n    char b[4];\n    strcpy(b, p);\n    return b[0];\n}\n');

interface GenerateJson {
  status: string;
  report: { verdict: string } | null;
  usage: { promptTokens: number; completionTokens: number };
  lines: { shown: number; total: number };
}

describe('finesec generate', () => {
  it('prints a validated report as JSON and exits 0 when grounded, 1 when not', async () => {
    const model = await tinyModel();
    const r = await runCli(['generate', '--model', model, '--file', source, '--ctx', '2048', '--temperature', '1', '--seed', '3', '--json']);
    const out = JSON.parse(r.stdout) as GenerateJson;
    expect(['grounded', 'ungrounded']).toContain(out.status);
    expect(r.code).toBe(out.status === 'grounded' ? 0 : 1);
    expect(['vulnerable', 'not_vulnerable']).toContain(out.report!.verdict);
    expect(out.usage.completionTokens).toBeGreaterThan(0);
    expect(out.lines).toEqual({ shown: 6, total: 6 });

    const text = await runCli(['generate', '--model', model, '--file', source, '--ctx', '2048', '--temperature', '1', '--seed', '3']);
    expect(text.stdout.startsWith('# Vulnerability report')).toBe(true);
  });

  it('applies --lora FILE:SCALE and refuses an adapter for another base', async () => {
    expect(parseAdapterArgs('generate', ['a.gguf', 'b.gguf:0.5', 'C:/x/c.gguf:2'])).toEqual([
      { path: 'a.gguf', scale: 1 },
      { path: 'b.gguf', scale: 0.5 },
      { path: 'C:/x/c.gguf', scale: 2 },
    ]);
    expect(() => parseAdapterArgs('generate', ['a.gguf:1.2.3'])).toThrow(/scale "1.2.3" is not a number/);

    const model = await tinyModel();
    const adapter = join(tmp.dir, 'qwen.lora.gguf');
    writeGgufLora(adapter, {
      architecture: 'qwen2',
      alpha: 1,
      pairs: [{ target: 'blk.0.attn_q.weight', rank: 1, inFeatures: 64, outFeatures: 64, a: new Float32Array(64).fill(0.1), b: new Float32Array(64).fill(0.1) }],
    });
    const r = await runCli(['generate', '--model', model, '--lora', `${adapter}:0.5`, '--file', source, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toBe(
      `${adapter}: adapter does not fit base ${model.split('/').pop()}: adapter architecture qwen2, base llama (wrong base model?)`,
    );
  });

  it('refuses a file too long for the context unless --truncate', async () => {
    const model = await tinyModel();
    const long = join(tmp.dir, 'long.c');
    writeFileSync(long, Array.from({ length: 150 }, (_, i) => `int value_${i} = compute_${i}(input, ${i});`).join('\n'));
    const refused = await runCli(['generate', '--model', model, '--file', long, '--ctx', '512', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/long\.c: prompt is \d+ tokens but the context holds 512 \(try --truncate or a larger --ctx\)$/);

    const cut = await runCli(['generate', '--model', model, '--file', long, '--ctx', '512', '--max-tokens', '200', '--truncate', '--json', '--temperature', '1', '--seed', '1']);
    const out = JSON.parse(cut.stdout) as GenerateJson;
    expect(out.lines.total).toBe(150);
    expect(out.lines.shown).toBeLessThan(150);
    expect(out.lines.shown).toBeGreaterThan(0);
  });

  it('needs exactly one of --model and --endpoint, and a --file', async () => {
    expect((await runCli(['generate', '--file', source])).code).toBe(2);
    expect((await runCli(['generate', '--model', 'x.gguf'])).code).toBe(2);
    expect((await runCli(['generate', '--model', 'x.gguf', '--endpoint', 'http://127.0.0.1:1/v1', '--file', source])).code).toBe(2);
  });
});
