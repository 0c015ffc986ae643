/**
 * What a finished run writes: the adapter (llama.cpp GGUF LoRA, deterministic metadata so the
 * same training gives the same bytes) or, in full mode, the whole model as an F32 GGUF.
 */
import { basename } from 'node:path';
import { gv } from '../gguf/metadata.js';
import { f32ArrayToBytes } from '../gguf/quant.js';
import { readGguf } from '../gguf/reader.js';
import { GgmlType, LlamaFileType, type GgufMetadata } from '../gguf/types.js';
import { writeGguf } from '../gguf/writer.js';
import type { EngineModel } from '../model/weights.js';

/** Deterministic provenance (no times or paths), so identical training gives identical files. */
export function provenance(base: string, seed: number, total: number): GgufMetadata {
  return new Map([
    ['finesec.train.base', gv.str(basename(base))],
    ['finesec.train.steps', gv.u32(total)],
    ['finesec.train.seed', gv.i32(seed)],
  ]);
}

/** Full mode: the trained weights as an F32 GGUF with the base's metadata (tokenizer, template). */
export function writeFullModel(model: EngineModel, basePath: string, out: string): void {
  const base = readGguf(basePath);
  const metadata: GgufMetadata = new Map(base.metadata);
  metadata.set('general.file_type', gv.u32(LlamaFileType.ALL_F32));
  metadata.delete('general.quantization_version');
  const trained = new Map(model.weights.tensors.map((t) => [t.name, t]));
  writeGguf(out, {
    metadata,
    // The base's tensor order, so the file differs from the base only in the values.
    tensors: base.tensors.map((info) => {
      const t = trained.get(info.name);
      if (!t || t.type !== 'f32') throw new Error(`internal: trained tensor ${info.name} is missing`);
      return { name: t.name, dims: [...t.shape].reverse(), type: GgmlType.F32, data: f32ArrayToBytes(t.data) };
    }),
  });
}

