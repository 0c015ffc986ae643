/**
 * A LoRA adapter with PEFT's meaning of alpha, as finesec keeps it in GGUF files, and its
 * conversion to and from the engine's LoRA.
 *
 * llama.cpp scales every pair by adapter.lora.alpha / rank. PEFT's rsLoRA scales by
 * lora_alpha / sqrt(rank), so for rsLoRA the GGUF alpha is written as alpha * sqrt(rank) (what
 * llama.cpp needs to compute the same scale) and the original alpha and the rsLoRA flag are kept
 * in finesec.lora.* keys, so an export to PEFT gives back exactly what was trained or imported.
 */
import { basename } from 'node:path';
import { InputError } from '../../util/errors.js';
import { gv, MetadataView } from '../gguf/metadata.js';
import { readGguf, readTensorF32 } from '../gguf/reader.js';
import type { GgufMetadata } from '../gguf/types.js';
import { PROJECTION_STEM, PROJECTIONS, projectionShape, type ModelConfig, type Projection } from '../model/config.js';
import { createLora, type LoraAdapter as EngineLora } from '../model/lora.js';
import type { EngineModel } from '../model/weights.js';
import { loraInfoOf, writeGgufLora, type LoraPair } from './gguf-lora.js';

export interface AdapterData {
  architecture: string;
  /** PEFT's lora_alpha. */
  alpha: number;
  rsLora: boolean;
  /** LoRA dropout used in training (informational; 0 when unknown). */
  dropout: number;
  pairs: LoraPair[];
  name?: string;
}

export const META_ALPHA = 'finesec.lora.alpha';
export const META_RSLORA = 'finesec.lora.rslora';
export const META_DROPOUT = 'finesec.lora.dropout';

/** The alpha llama.cpp must see so that its alpha / rank equals the adapter's scale. */
export function ggufAlpha(data: Pick<AdapterData, 'alpha' | 'rsLora' | 'pairs'>, source: string): number {
  if (!data.rsLora) return data.alpha;
  const ranks = new Set(data.pairs.map((p) => p.rank));
  if (ranks.size > 1) throw new InputError(`${source}: rsLoRA with different ranks per module cannot be expressed in one GGUF alpha`);
  return data.alpha * Math.sqrt(data.pairs[0]!.rank);
}

export function writeAdapterGguf(path: string, data: AdapterData, extra: GgufMetadata = new Map()): void {
  const metadata: GgufMetadata = new Map([
    [META_ALPHA, gv.f32(data.alpha)],
    [META_RSLORA, gv.bool(data.rsLora)],
    [META_DROPOUT, gv.f32(data.dropout)],
  ]);
  for (const [k, v] of extra) metadata.set(k, v);
  writeGgufLora(
    path,
    { architecture: data.architecture, alpha: ggufAlpha(data, path), pairs: data.pairs, ...(data.name ? { name: data.name } : {}) },
    { metadata },
  );
}

export function readAdapterGguf(path: string): AdapterData {
  const file = readGguf(path);
  const info = loraInfoOf(file);
  const meta = new MetadataView(file.metadata, path);
  const name = meta.string('general.name');
  return {
    architecture: info.architecture,
    alpha: meta.number(META_ALPHA) ?? info.alpha,
    rsLora: meta.boolean(META_RSLORA) ?? false,
    dropout: meta.number(META_DROPOUT) ?? 0,
    ...(name !== undefined ? { name } : {}),
    pairs: info.pairs.map((p) => ({
      target: p.target,
      rank: p.rank,
      inFeatures: p.inFeatures,
      outFeatures: p.outFeatures,
      a: readTensorF32(file, p.a),
      b: readTensorF32(file, p.b),
    })),
  };
}

/** Scale applied to B·A of a pair, as llama.cpp computes it (alpha 0 means 1). */
export function pairScale(ggufAlphaValue: number, rank: number, adapterScale = 1): number {
  return ggufAlphaValue ? (adapterScale * ggufAlphaValue) / rank : adapterScale;
}

/** Engine LoRA -> adapter (A and B copied). */
export function adapterFromEngine(lora: EngineLora, architecture: string, name?: string): AdapterData {
  return {
    architecture,
    alpha: lora.alpha,
    rsLora: lora.rsLora,
    dropout: lora.dropout,
    ...(name ? { name } : {}),
    pairs: lora.modules.map((m) => ({
      target: `${m.name}.weight`,
      rank: lora.rank,
      inFeatures: m.inDim,
      outFeatures: m.outDim,
      a: Float32Array.from(m.A),
      b: Float32Array.from(m.B),
    })),
  };
}

const STEM_TO_PROJECTION = new Map(PROJECTIONS.map((p) => [PROJECTION_STEM[p], p]));

/** "blk.3.attn_q.weight" -> { layer: 3, projection: 'q' } (undefined for anything else). */
export function parseTarget(target: string): { layer: number; projection: Projection } | undefined {
  const m = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(target);
  if (!m) return undefined;
  const projection = STEM_TO_PROJECTION.get(m[2]!);
  return projection ? { layer: Number(m[1]), projection } : undefined;
}

/** Checks each pair names a projection of this model with its shape; returns them by (layer, projection). */
export function checkPairsFit(c: ModelConfig, pairs: readonly LoraPair[], source: string, baseName: string): Array<{ layer: number; projection: Projection; pair: LoraPair }> {
  const where = `${source}: adapter does not fit base ${baseName}`;
  return pairs.map((pair) => {
    const t = parseTarget(pair.target);
    if (!t || t.layer >= c.layers) throw new InputError(`${where}: base has no projection ${pair.target} (wrong base model?)`);
    const [out, inp] = projectionShape(c, t.projection);
    if (pair.inFeatures !== inp || pair.outFeatures !== out) {
      throw new InputError(`${where}: ${pair.target} is ${inp}->${out} in the base but the adapter expects ${pair.inFeatures}->${pair.outFeatures} (wrong base model?)`);
    }
    return { ...t, pair };
  });
}

/**
 * Adapter -> engine LoRA for this model, after checking it fits: architecture, every target a
 * projection of the model with the right shape, one rank, the same targets in every layer.
 */
export function engineLoraFromAdapter(model: EngineModel, data: AdapterData, source: string): EngineLora {
  const c = model.config;
  const where = `${source}: adapter does not fit base ${basename(model.path)}`;
  if (data.architecture !== c.arch) throw new InputError(`${where}: adapter architecture ${data.architecture}, base ${c.arch} (wrong base model?)`);
  const ranks = new Set(data.pairs.map((p) => p.rank));
  if (ranks.size !== 1) throw new InputError(`${source}: the engine needs one rank for every module, found ${[...ranks].join(', ')}`);
  const rank = data.pairs[0]!.rank;
  const byLayer = new Map<number, Map<Projection, LoraPair>>();
  for (const { layer, projection, pair } of checkPairsFit(c, data.pairs, source, basename(model.path))) {
    const inLayer = byLayer.get(layer) ?? new Map<Projection, LoraPair>();
    inLayer.set(projection, pair);
    byLayer.set(layer, inLayer);
  }
  const targets = PROJECTIONS.filter((p) => byLayer.get(0)?.has(p));
  for (let l = 0; l < c.layers; l++) {
    const have = PROJECTIONS.filter((p) => byLayer.get(l)?.has(p));
    if (have.join() !== targets.join()) {
      throw new InputError(`${source}: layer ${l} adapts ${have.join(',') || 'nothing'} but layer 0 adapts ${targets.join(',') || 'nothing'}; the engine needs the same targets in every layer`);
    }
  }
  // alpha 0 in a plain GGUF adapter means scale 1 in llama.cpp: alpha = rank gives the same.
  const alpha = data.alpha === 0 && !data.rsLora ? rank : data.alpha;
  const lora = createLora(c, { rank, alpha, rsLora: data.rsLora, targets, dropout: 0 });
  for (const m of lora.modules) {
    const p = byLayer.get(m.layer)!.get(m.target)!;
    m.A.set(p.a);
    m.B.set(p.b);
  }
  return lora;
}

/** Shortest decimal that reads back as the same f32 (for JSON written from f32 metadata). */
export function shortestF32(x: number): number {
  const f = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
