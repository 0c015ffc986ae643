/**
 * PEFT export/import: safetensors I/O, Hugging Face names and config, the Q/K row permutation
 * checked against llama.cpp's converter formula evaluated by numpy (Debian python3), and exact
 * round trips GGUF -> PEFT -> GGUF and PEFT -> GGUF -> PEFT through the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAdapterGguf, writeAdapterGguf, adapterFromEngine, type AdapterData } from '../../../src/engine/adapter/lora-file.js';
import { permuteQkRows } from '../../../src/engine/adapter/peft.js';
import { readSafetensors, writeSafetensors } from '../../../src/engine/adapter/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../../../src/engine/gguf/quant.js';
import { readGguf } from '../../../src/engine/gguf/reader.js';
import { modelConfig } from '../../../src/engine/model/config.js';
import { createLora } from '../../../src/engine/model/lora.js';
import { mulberry32 } from '../../../src/util/random.js';
import { runCli, tempDir } from '../../helpers/cli.js';
import { tinyModel } from '../../helpers/tiny-model.js';
import { writeExamples } from '../train/fixtures.js';

const tmp = tempDir('finesec-peft-');
afterAll(() => tmp.cleanup());

async function cli(args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  const r = await runCli([...args, '--json', '--quiet', '--workspace', join(tmp.dir, 'ws')]);
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, any> };
}

function randomAdapter(basePath: string, options: { rsLora: boolean; targets?: Array<'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down'> }): AdapterData {
  const c = modelConfig(readGguf(basePath));
  const lora = createLora(c, { rank: 4, alpha: 12, dropout: 0.05, rsLora: options.rsLora, ...(options.targets ? { targets: options.targets } : {}), seed: 2 });
  const rand = mulberry32(8);
  for (const m of lora.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = rand() - 0.5;
  return { ...adapterFromEngine(lora, c.arch), name: 'unit adapter' };
}

function sameTensors(a: AdapterData, b: AdapterData): void {
  expect(b.pairs.map((p) => [p.target, p.rank, p.inFeatures, p.outFeatures])).toEqual(a.pairs.map((p) => [p.target, p.rank, p.inFeatures, p.outFeatures]));
  a.pairs.forEach((p, i) => {
    expect(Buffer.from(b.pairs[i]!.a.buffer, b.pairs[i]!.a.byteOffset, b.pairs[i]!.a.byteLength).equals(Buffer.from(p.a.buffer, p.a.byteOffset, p.a.byteLength))).toBe(true);
    expect(Buffer.from(b.pairs[i]!.b.buffer, b.pairs[i]!.b.byteOffset, b.pairs[i]!.b.byteLength).equals(Buffer.from(p.b.buffer, p.b.byteOffset, p.b.byteLength))).toBe(true);
  });
}

describe('safetensors', () => {
  it('round-trips F32 tensors and metadata', () => {
    const path = join(tmp.dir, 'x.safetensors');
    writeSafetensors(path, [{ name: 'b', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -0]) }, { name: 'a', shape: [1], data: Float32Array.from([0.1]) }], { format: 'pt' });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect(JSON.parse(bytes.toString('utf8', 8, 8 + n))).toEqual({
      __metadata__: { format: 'pt' },
      b: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
      a: { dtype: 'F32', shape: [1], data_offsets: [24, 28] },
    });
    const back = readSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(Array.from(back.tensors.get('b')!.data)).toEqual([1, 2, 3, 4, 5, -0]);
    expect(back.tensors.get('a')!.shape).toEqual([1]);
  });

  it('reads F16 and BF16 (as PEFT saves half-precision adapters)', () => {
    const values = [1.5, -2, 0.25, 65504];
    const f16 = Buffer.from(Uint16Array.from(values.map(f32ToF16Bits)).buffer);
    const bf16 = Buffer.from(Uint16Array.from(values.map(f32ToBf16Bits)).buffer);
    const json = JSON.stringify({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, g: { dtype: 'BF16', shape: [2, 2], data_offsets: [8, 16] } });
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    const path = join(tmp.dir, 'half.safetensors');
    writeFileSync(path, Buffer.concat([head, Buffer.from(json), f16, bf16]));
    const back = readSafetensors(path);
    expect(Array.from(back.tensors.get('h')!.data)).toEqual([1.5, -2, 0.25, 65504]);
    expect(Array.from(back.tensors.get('g')!.data)).toEqual([1.5, -2, 0.25, 65536]);
  });

  it('names the file and the tensor for a broken header or size', () => {
    const path = join(tmp.dir, 'bad.safetensors');
    const write = (header: object, dataBytes: number): void => {
      const json = JSON.stringify(header);
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.length));
      writeFileSync(path, Buffer.concat([head, Buffer.from(json), Buffer.alloc(dataBytes)]));
    };
    write({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8);
    expect(() => readSafetensors(path)).toThrow(`${path}: tensor w: holds 8 bytes, but shape 3 of F32 needs 12`);
    write({ w: { dtype: 'I8', shape: [3], data_offsets: [0, 3] } }, 3);
    expect(() => readSafetensors(path)).toThrow(`${path}: tensor w: dtype "I8" is not supported (F32, F16 or BF16)`);
    writeFileSync(path, Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
    expect(() => readSafetensors(path)).toThrow(`${path}: not a safetensors file (header length 200 does not fit the file)`);
  });
});

describe('Q/K row permutation (llama)', () => {
  it('permuting and un-permuting are inverse; other heads are left in place', () => {
    const m = Float32Array.from({ length: 8 * 3 }, (_, i) => i);
    const hf = permuteQkRows(m, 8, 3, 2, true);
    expect(Array.from(permuteQkRows(hf, 8, 3, 2, false))).toEqual(Array.from(m));
    // head size 4: GGUF rows (0,1,2,3) = HF rows (0,2,1,3) of the head
    expect(Array.from(hf.subarray(0, 12))).toEqual([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
  });
});

describe('PEFT export and import', () => {
  let llamaBase: string;
  let qwenBase: string;

  beforeAll(async () => {
    llamaBase = await tinyModel({ arch: 'llama', type: 'q8_0', initStd: 0.2, seed: 4 });
    qwenBase = await tinyModel({ arch: 'qwen2', type: 'f32' });
  });

  it('writes Hugging Face names and config, with lora_B of q/k in Hugging Face row order (numpy oracle)', async () => {
    const adapter = randomAdapter(llamaBase, { rsLora: false });
    const gguf = join(tmp.dir, 'llama.gguf');
    writeAdapterGguf(gguf, adapter);
    const dir = join(tmp.dir, 'llama-peft');
    const r = await cli(['adapters', 'export', gguf, '--format', 'peft', '--base', llamaBase, '--out', dir, '--base-name', 'finesec/tiny']);
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 12, lora_dropout: 0.05, use_rslora: false, bias: 'none',
      base_model_name_or_path: 'finesec/tiny', target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      layers_to_transform: null, rank_pattern: {},
    });
    const st = readSafetensors(join(dir, 'adapter_model.safetensors'));
    expect([...st.tensors.keys()].slice(0, 4)).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight',
    ]);
    expect(st.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')!.shape).toEqual([64, 4]);

    // llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute) applied by numpy to the
    // exported HF lora_B must give back the GGUF lora_B.
    const c = modelConfig(readGguf(llamaBase));
    const script = [
      'import json, struct, sys, numpy as np',
      'raw = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", raw[:8])[0]',
      'hdr = json.loads(raw[8:8 + n]); data = raw[8 + n:]',
      'def get(name):',
      '    h = hdr[name]; b, e = h["data_offsets"]',
      '    return np.frombuffer(data[b:e], dtype="<f4").reshape(h["shape"])',
      'def to_gguf(w, heads):',
      '    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)',
      'out = {}',
      'for name in hdr:',
      '    if name.endswith("q_proj.lora_B.weight"): out[name] = to_gguf(get(name), int(sys.argv[2]))',
      '    if name.endswith("k_proj.lora_B.weight"): out[name] = to_gguf(get(name), int(sys.argv[3]))',
      'print(json.dumps({k: v.astype(float).ravel().tolist() for k, v in out.items()}))',
    ].join('\n');
    const py = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'adapter_model.safetensors'), String(c.heads), String(c.kvHeads)], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const permuted = JSON.parse(py.stdout) as Record<string, number[]>;
    expect(Object.keys(permuted)).toHaveLength(4);
    for (const [name, values] of Object.entries(permuted)) {
      const [, layer, proj] = /layers\.(\d+)\.self_attn\.(q|k)_proj/.exec(name)!;
      const pair = adapter.pairs.find((p) => p.target === `blk.${layer}.attn_${proj}.weight`)!;
      expect(values).toEqual(Array.from(pair.b));
      const hf = st.tensors.get(name)!.data;
      expect(Array.from(hf)).not.toEqual(Array.from(pair.b));
    }
    // v/o/mlp rows are not permuted.
    expect(Array.from(st.tensors.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight')!.data)).toEqual(
      Array.from(adapter.pairs.find((p) => p.target === 'blk.0.attn_v.weight')!.b),
    );
  });

  for (const [label, rsLora, targets] of [['llama', false, undefined], ['qwen2 rsLoRA', true, ['q', 'v', 'down']]] as const) {
    it(`${label}: GGUF -> PEFT -> GGUF and PEFT -> GGUF -> PEFT are exact`, async () => {
      const base = label.startsWith('llama') ? llamaBase : qwenBase;
      const adapter = randomAdapter(base, { rsLora, ...(targets ? { targets: [...targets] } : {}) });
      const a = join(tmp.dir, `${label}-a.gguf`);
      writeAdapterGguf(a, adapter);
      const peft1 = join(tmp.dir, `${label}-peft1`);
      const b = join(tmp.dir, `${label}-b.gguf`);
      const peft2 = join(tmp.dir, `${label}-peft2`);
      expect((await cli(['adapters', 'export', a, '--format', 'peft', '--base', base, '--out', peft1])).code).toBe(0);
      const imported = await cli(['adapters', 'import', peft1, '--base', base, '--out', b]);
      expect(imported.code).toBe(0);
      expect(imported.json).toMatchObject({ pairs: adapter.pairs.length, alpha: 12, rsLora });
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
      sameTensors(adapter, readAdapterGguf(b));
      // --register also puts it in the workspace registry, byte for byte, for adapter:ID specs.
      const id = `imported-${label.replace(/\W+/g, '-')}`;
      const registered = await cli(['adapters', 'import', peft1, '--base', base, '--out', join(tmp.dir, `${label}-r.gguf`), '--register', '--id', id]);
      expect(registered.code).toBe(0);
      expect(registered.json.registered).toBe(id);
      expect(readFileSync(join(tmp.dir, 'ws', 'adapters', id, 'adapter.gguf')).equals(readFileSync(a))).toBe(true);
      expect((await cli(['adapters', 'export', b, '--format', 'peft', '--base', base, '--out', peft2])).code).toBe(0);
      for (const f of ['adapter_config.json', 'adapter_model.safetensors']) expect(readFileSync(join(peft2, f)).equals(readFileSync(join(peft1, f)))).toBe(true);
      if (rsLora) {
        // llama.cpp sees alpha * sqrt(r) so that its alpha / r equals rsLoRA's alpha / sqrt(r).
        expect(readGguf(b).metadata.get('adapter.lora.alpha')!.value).toBe(Math.fround(12 * 2));
        expect(JSON.parse(readFileSync(join(peft1, 'adapter_config.json'), 'utf8')).target_modules).toEqual(['q_proj', 'v_proj', 'down_proj']);
      }
    });
  }

  it('exports a training checkpoint like the adapter the run wrote, and refuses it for another base', async () => {
    const data = writeExamples(join(tmp.dir, 'train.jsonl'), 0, 9);
    const out = join(tmp.dir, 'run');
    const trained = await cli(['train', '--base', llamaBase, '--data', data, '--out', out, '--max-steps', '3', '--rank', '4', '--batch-tokens', '512', '--export-peft']);
    expect(trained.code).toBe(0);
    const fromCkpt = join(tmp.dir, 'from-ckpt.gguf');
    expect((await cli(['adapters', 'export', join(out, 'checkpoint.bin'), '--base', llamaBase, '--out', fromCkpt])).code).toBe(0);
    sameTensors(readAdapterGguf(join(out, 'adapter.gguf')), readAdapterGguf(fromCkpt));
    const peft = join(tmp.dir, 'from-ckpt-peft');
    expect((await cli(['adapters', 'export', join(out, 'checkpoint.bin'), '--format', 'peft', '--base', llamaBase, '--out', peft])).code).toBe(0);
    expect(readFileSync(join(peft, 'adapter_model.safetensors')).equals(readFileSync(join(out, 'peft', 'adapter_model.safetensors')))).toBe(true);
    const wrong = await cli(['adapters', 'export', join(out, 'checkpoint.bin'), '--base', qwenBase, '--out', join(tmp.dir, 'x.gguf')]);
    expect(wrong.code).toBe(2);
    expect(wrong.json.error.message).toContain('(wrong base model?)');
  });

  it('refuses adapters that do not fit the base or cannot be expressed in GGUF, naming the problem', async () => {
    const adapter = randomAdapter(llamaBase, { rsLora: false });
    const a = join(tmp.dir, 'fit.gguf');
    writeAdapterGguf(a, adapter);
    const dir = join(tmp.dir, 'fit-peft');
    expect((await cli(['adapters', 'export', a, '--format', 'peft', '--base', llamaBase, '--out', dir])).code).toBe(0);
    const bigger = await tinyModel({ arch: 'llama', type: 'f32', embd: 128, ff: 256 });
    const wrong = await cli(['adapters', 'import', dir, '--base', bigger, '--out', join(tmp.dir, 'w.gguf')]);
    expect(wrong.code).toBe(2);
    expect(wrong.json.error.message).toMatch(/adapter does not fit base .*: blk\.0\.attn_q\.weight is 128->128 in the base but the adapter expects 64->64 \(wrong base model\?\)$/);
    const wrongExport = await cli(['adapters', 'export', a, '--format', 'peft', '--base', bigger, '--out', join(tmp.dir, 'w-peft')]);
    expect(wrongExport.json.error.message).toContain('(wrong base model?)');

    const variant = (name: string, edit: (cfg: Record<string, unknown>) => void, dropTensor?: string): string => {
      const d = join(tmp.dir, name);
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d);
      cpSync(join(dir, 'adapter_model.safetensors'), join(d, 'adapter_model.safetensors'));
      const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
      edit(cfg);
      writeFileSync(join(d, 'adapter_config.json'), JSON.stringify(cfg));
      if (dropTensor) {
        const st = readSafetensors(join(d, 'adapter_model.safetensors'));
        writeSafetensors(join(d, 'adapter_model.safetensors'), [...st.tensors].filter(([n]) => n !== dropTensor).map(([n, t]) => ({ name: n, shape: t.shape, data: t.data })));
      }
      return d;
    };
    const message = async (d: string): Promise<string> => (await cli(['adapters', 'import', d, '--base', llamaBase, '--out', join(tmp.dir, 'v.gguf')])).json.error.message;
    expect(await message(variant('dora', (c) => (c.use_dora = true)))).toMatch(/adapter_config\.json: DoRA adapters \(use_dora\) cannot be converted/);
    expect(await message(variant('alpha-pattern', (c) => (c.alpha_pattern = { q_proj: 3 })))).toMatch(/alpha_pattern is not supported/);
    expect(await message(variant('half', () => undefined, 'base_model.model.model.layers.1.mlp.up_proj.lora_A.weight'))).toMatch(
      /adapter_model\.safetensors: layer 1 up_proj is missing its lora_A tensor$/,
    );
    const noWeights = variant('no-weights', () => undefined);
    rmSync(join(noWeights, 'adapter_model.safetensors'));
    expect(await message(noWeights)).toBe(`${noWeights}: no adapter_model.safetensors`);
    expect(existsSync(join(tmp.dir, 'v.gguf'))).toBe(false);
  });
});
