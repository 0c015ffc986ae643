import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readGgufLora, readGgufLoraInfo, writeGgufLora, type LoraAdapter } from '../../../src/engine/adapter/gguf-lora.js';
import { readGguf } from '../../../src/engine/gguf/reader.js';
import { writeGguf } from '../../../src/engine/gguf/writer.js';
import { gv } from '../../../src/engine/gguf/metadata.js';
import { GgmlType } from '../../../src/engine/gguf/types.js';
import { InputError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/cli.js';

const tmp = tempDir('finesec-lora-');
afterAll(() => tmp.cleanup());

const adapter: LoraAdapter = {
  architecture: 'llama',
  alpha: 16,
  name: 'test adapter',
  pairs: [
    {
      target: 'blk.0.attn_q.weight',
      rank: 2,
      inFeatures: 3,
      outFeatures: 4,
      a: Float32Array.from([1, 2, 3, 4, 5, 6]),
      b: Float32Array.from([0.5, -0.5, 0.25, -0.25, 1, 2, -1, -2]),
    },
  ],
};

describe('GGUF LoRA adapters (llama.cpp format)', () => {
  it('writes the metadata and A/B layout llama.cpp reads, and reads them back', () => {
    const path = join(tmp.dir, 'a.gguf');
    writeGgufLora(path, adapter);
    const file = readGguf(path);
    expect(file.metadata.get('general.type')).toEqual(gv.str('adapter'));
    expect(file.metadata.get('adapter.type')).toEqual(gv.str('lora'));
    expect(file.metadata.get('adapter.lora.alpha')).toEqual(gv.f32(16));
    expect(file.metadata.get('general.architecture')).toEqual(gv.str('llama'));
    expect(file.tensors.map((t) => [t.name, t.dims, t.type])).toEqual([
      ['blk.0.attn_q.weight.lora_a', [3, 2], GgmlType.F32],
      ['blk.0.attn_q.weight.lora_b', [2, 4], GgmlType.F32],
    ]);
    expect(readGgufLora(path)).toEqual(adapter);

    const half = join(tmp.dir, 'h.gguf');
    writeGgufLora(half, adapter, { type: 'f16' });
    const back = readGgufLora(half);
    expect(back.pairs[0]!.a).toEqual(adapter.pairs[0]!.a);
    expect(readGguf(half).tensors[0]!.type).toBe(GgmlType.F16);
  });

  it('refuses inconsistent pairs when writing', () => {
    const p = adapter.pairs[0]!;
    expect(() => writeGgufLora(join(tmp.dir, 'x.gguf'), { ...adapter, pairs: [{ ...p, a: new Float32Array(5) }] })).toThrow(/A has 5 values, expected rank\*in = 6/);
    expect(() => writeGgufLora(join(tmp.dir, 'x.gguf'), { ...adapter, pairs: [p, p] })).toThrow(/appears twice/);
    expect(() => writeGgufLora(join(tmp.dir, 'x.gguf'), { ...adapter, pairs: [{ ...p, target: 'token_embd.weight' }] })).toThrow(/not supported/);
  });

  it('names the file and the problem for a half pair, a rank mismatch or a non-adapter', () => {
    const write = (name: string, tensors: Array<{ name: string; dims: number[] }>, type = 'adapter'): string => {
      const path = join(tmp.dir, name);
      writeGguf(path, {
        metadata: new Map([
          ['general.architecture', gv.str('llama')],
          ['general.type', gv.str(type)],
          ['adapter.type', gv.str('lora')],
        ]),
        tensors: tensors.map((t) => ({ ...t, type: GgmlType.F32, data: new Uint8Array(4 * t.dims[0]! * t.dims[1]!) })),
      });
      return path;
    };
    const half = write('half.gguf', [{ name: 'blk.0.attn_k.weight.lora_a', dims: [4, 2] }]);
    const rank = write('rank.gguf', [
      { name: 'blk.0.attn_k.weight.lora_a', dims: [4, 2] },
      { name: 'blk.0.attn_k.weight.lora_b', dims: [3, 4] },
    ]);
    const model = write('model.gguf', [{ name: 'blk.0.attn_k.weight', dims: [4, 4] }], 'model');
    const message = (path: string): string => {
      try {
        readGgufLoraInfo(path);
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message(half)).toBe(`${half}: LoRA pair for blk.0.attn_k.weight is missing its lora_b tensor`);
    expect(message(rank)).toBe(`${rank}: blk.0.attn_k.weight has rank 2 in lora_a but 3 in lora_b`);
    expect(message(model)).toBe(`${model}: not a LoRA adapter (general.type is "model", expected "adapter")`);
  });
});
