/**
 * PEFT (Hugging Face) LoRA adapters: a folder with adapter_config.json and
 * adapter_model.safetensors holding, per adapted projection,
 *   base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight  [r, in]
 *   base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight  [out, r]
 * (mlp.gate_proj / up_proj / down_proj likewise).
 *
 * For `llama`, llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute) reorders the
 * rows of q_proj and k_proj so its RoPE can rotate adjacent pairs: within each head of size d,
 * GGUF row 2i + j holds HF row j * d/2 + i (k_proj with the kv head count). A LoRA pair's product
 * B·A has the rows of B, so only lora_B's rows move. qwen2 uses NeoX RoPE and is not permuted.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, InputError } from '../../util/errors.js';
import type { ModelConfig, Projection } from '../model/config.js';
import { PROJECTION_STEM, PROJECTIONS } from '../model/config.js';
import { checkPairsFit, shortestF32, type AdapterData } from './lora-file.js';
import type { LoraPair } from './gguf-lora.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

export const PEFT_CONFIG = 'adapter_config.json';
export const PEFT_WEIGHTS = 'adapter_model.safetensors';

const HF_MODULE: Record<Projection, string> = {
  q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
};
const HF_SHORT: Record<Projection, string> = {
  q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj', gate: 'gate_proj', up: 'up_proj', down: 'down_proj',
};

export function peftTensorName(layer: number, p: Projection, half: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${HF_MODULE[p]}.lora_${half}.weight`;
}

/** Heads whose rows llama.cpp permuted for this projection (0: not permuted). */
function permutedHeads(c: ModelConfig, p: Projection): number {
  if (c.arch !== 'llama') return 0;
  if (p === 'q') return c.heads;
  if (p === 'k') return c.kvHeads;
  return 0;
}

/**
 * Reorders the rows of a row-major [rows, cols] matrix between llama.cpp's and Hugging Face's
 * Q/K layouts. toHf: GGUF -> HF (undo); otherwise HF -> GGUF (what the converter does).
 */
export function permuteQkRows(m: Float32Array, rows: number, cols: number, heads: number, toHf: boolean): Float32Array {
  const d = rows / heads;
  if (!Number.isInteger(d) || d % 2 !== 0) throw new RangeError(`cannot permute ${rows} rows into ${heads} heads of even size`);
  const out = new Float32Array(m.length);
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const gguf = h * d + 2 * i + j;
        const hf = h * d + j * half + i;
        const [from, to] = toHf ? [gguf, hf] : [hf, gguf];
        out.set(m.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

export interface PeftExportOptions {
  /** base_model_name_or_path in adapter_config.json. */
  baseModelName: string;
  /** The base model's file name, for messages. */
  baseName: string;
  /** Where the adapter came from, for messages. */
  source: string;
}

/** Writes DIR/adapter_config.json and DIR/adapter_model.safetensors. */
export function exportPeft(data: AdapterData, c: ModelConfig, dir: string, options: PeftExportOptions): { tensors: number; files: string[] } {
  if (data.architecture !== c.arch) {
    throw new InputError(`${options.source}: adapter does not fit base ${options.baseName}: adapter architecture ${data.architecture}, base ${c.arch} (wrong base model?)`);
  }
  const placed = checkPairsFit(c, data.pairs, options.source, options.baseName);
  placed.sort((x, y) => x.layer - y.layer || PROJECTIONS.indexOf(x.projection) - PROJECTIONS.indexOf(y.projection));
  const ranks = new Set(placed.map((p) => p.pair.rank));
  const rank = placed[0]!.pair.rank;
  const tensors: Array<{ name: string; shape: number[]; data: Float32Array }> = [];
  const rankPattern: Record<string, number> = {};
  for (const { layer, projection, pair } of placed) {
    const heads = permutedHeads(c, projection);
    const b = heads ? permuteQkRows(pair.b, pair.outFeatures, pair.rank, heads, true) : pair.b;
    tensors.push({ name: peftTensorName(layer, projection, 'A'), shape: [pair.rank, pair.inFeatures], data: pair.a });
    tensors.push({ name: peftTensorName(layer, projection, 'B'), shape: [pair.outFeatures, pair.rank], data: b });
    if (ranks.size > 1 && pair.rank !== rank) rankPattern[`model.layers.${layer}.${HF_MODULE[projection]}`] = pair.rank;
  }
  const layersPresent = [...new Set(placed.map((p) => p.layer))].sort((a, b) => a - b);
  const config = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModelName,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: layersPresent.length === c.layers ? null : layersPresent,
    lora_alpha: shortestF32(data.alpha),
    lora_dropout: shortestF32(data.dropout),
    modules_to_save: null,
    peft_type: 'LORA',
    r: rank,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: PROJECTIONS.filter((p) => placed.some((x) => x.projection === p)).map((p) => HF_SHORT[p]),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: data.rsLora,
  };
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, PEFT_WEIGHTS), tensors, { format: 'pt', ...(data.name ? { name: data.name } : {}) });
  writeFileSync(join(dir, PEFT_CONFIG), JSON.stringify(config, null, 2) + '\n');
  return { tensors: tensors.length, files: [join(dir, PEFT_CONFIG), join(dir, PEFT_WEIGHTS)] };
}

const NAME_PATTERN = /^(?:base_model\.model\.)?model\.layers\.(\d+)\.(self_attn\.(?:q|k|v|o)_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;
const MODULE_TO_PROJECTION = new Map(PROJECTIONS.map((p) => [HF_MODULE[p], p]));

interface PeftConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  use_rslora?: boolean;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  bias?: string;
  modules_to_save?: string[] | null;
  alpha_pattern?: Record<string, number>;
}

/** Reads a PEFT LoRA folder as an adapter for a model of this config (Q/K rows permuted for llama). */
export function importPeft(dir: string, c: ModelConfig, baseName: string): AdapterData {
  const configPath = join(dir, PEFT_CONFIG);
  const weightsPath = join(dir, PEFT_WEIGHTS);
  if (!existsSync(configPath)) throw new InputError(`${dir}: no ${PEFT_CONFIG} (not a PEFT adapter folder)`);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(join(dir, 'adapter_model.bin')) ? ' (only adapter_model.bin: save the adapter with safe_serialization=True)' : '';
    throw new InputError(`${dir}: no ${PEFT_WEIGHTS}${bin}`);
  }
  let cfg: PeftConfig;
  try {
    cfg = JSON.parse(readFileSync(configPath, 'utf8')) as PeftConfig;
  } catch (err) {
    throw new InputError(`${configPath}: not valid JSON (${errorMessage(err)})`, err);
  }
  const unsupported = (why: string): InputError => new InputError(`${configPath}: ${why}`);
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA') throw unsupported(`peft_type ${JSON.stringify(cfg.peft_type)} is not LORA`);
  if (typeof cfg.lora_alpha !== 'number' || !Number.isFinite(cfg.lora_alpha)) throw unsupported('lora_alpha must be a number');
  if (cfg.use_dora) throw unsupported('DoRA adapters (use_dora) cannot be converted to llama.cpp LoRA');
  if (cfg.fan_in_fan_out) throw unsupported('fan_in_fan_out adapters are not supported');
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw unsupported(`bias "${cfg.bias}" is not supported (only "none": llama.cpp LoRA has no bias terms)`);
  if (cfg.modules_to_save && cfg.modules_to_save.length > 0) throw unsupported(`modules_to_save (${cfg.modules_to_save.join(', ')}) cannot be expressed as a LoRA adapter`);
  if (cfg.alpha_pattern && Object.keys(cfg.alpha_pattern).length > 0) throw unsupported('alpha_pattern is not supported (llama.cpp has one alpha per adapter)');

  const file = readSafetensors(weightsPath);
  const halves = new Map<string, { layer: number; projection: Projection; A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>();
  for (const [name, t] of file.tensors) {
    const m = NAME_PATTERN.exec(name);
    if (!m) throw new InputError(`${weightsPath}: tensor ${name} is not a LoRA A/B weight of a llama/qwen2 projection`);
    const layer = Number(m[1]);
    const projection = MODULE_TO_PROJECTION.get(m[2]!)!;
    const key = `${layer}.${projection}`;
    const entry = halves.get(key) ?? { layer, projection };
    entry[m[3] as 'A' | 'B'] = t;
    halves.set(key, entry);
  }
  if (halves.size === 0) throw new InputError(`${weightsPath}: no LoRA tensors`);
  const pairs: LoraPair[] = [];
  const entries = [...halves.values()].sort((x, y) => x.layer - y.layer || PROJECTIONS.indexOf(x.projection) - PROJECTIONS.indexOf(y.projection));
  for (const { layer, projection, A, B } of entries) {
    const label = `layer ${layer} ${HF_SHORT[projection]}`;
    if (!A || !B) throw new InputError(`${weightsPath}: ${label} is missing its lora_${A ? 'B' : 'A'} tensor`);
    if (A.shape.length !== 2 || B.shape.length !== 2 || A.shape[0] !== B.shape[1]) {
      throw new InputError(`${weightsPath}: ${label}: lora_A ${A.shape.join('x')} and lora_B ${B.shape.join('x')} are not [r, in] and [out, r]`);
    }
    const [rank, inFeatures] = A.shape as [number, number];
    const outFeatures = B.shape[0]!;
    const target = `blk.${layer}.${PROJECTION_STEM[projection]}.weight`;
    const pair: LoraPair = { target, rank, inFeatures, outFeatures, a: A.data, b: B.data };
    const fit = checkPairsFit(c, [pair], dir, baseName)[0]!;
    const heads = permutedHeads(c, fit.projection);
    if (heads) pair.b = permuteQkRows(pair.b, outFeatures, rank, heads, false);
    pairs.push(pair);
  }
  return {
    architecture: c.arch,
    alpha: cfg.lora_alpha,
    rsLora: cfg.use_rslora === true,
    dropout: typeof cfg.lora_dropout === 'number' ? cfg.lora_dropout : 0,
    ...(file.metadata.name ? { name: file.metadata.name } : {}),
    pairs,
  };
}
