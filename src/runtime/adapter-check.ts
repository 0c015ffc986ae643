import { basename } from 'node:path';
import { loraInfoOf } from '../engine/adapter/gguf-lora.js';
import { MetadataView } from '../engine/gguf/metadata.js';
import { readGguf } from '../engine/gguf/reader.js';
import type { GgufFile } from '../engine/gguf/types.js';
import { InputError } from '../util/errors.js';

/**
 * Checks, before llama.cpp sees them, that a base file is a model and that each adapter was made
 * for it: same architecture, every adapted tensor present in the base with matching shapes
 * (llama.cpp's own check reports only "wrong base model?" without naming the file).
 */
export function readBaseModel(path: string): GgufFile {
  const file = readGguf(path);
  const meta = new MetadataView(file.metadata, path);
  if (meta.string('general.type') === 'adapter') {
    throw new InputError(`${path}: this is a LoRA adapter, not a base model (pass it with --lora)`);
  }
  meta.requireString('general.architecture');
  return file;
}

export function checkAdapterFitsBase(adapterPath: string, base: GgufFile): void {
  const info = loraInfoOf(readGguf(adapterPath));
  const baseArch = new MetadataView(base.metadata, base.path).requireString('general.architecture');
  const where = `${adapterPath}: adapter does not fit base ${basename(base.path)}`;
  if (info.architecture !== baseArch) {
    throw new InputError(`${where}: adapter architecture ${info.architecture}, base ${baseArch} (wrong base model?)`);
  }
  const tensors = new Map(base.tensors.map((t) => [t.name, t]));
  for (const p of info.pairs) {
    const w = tensors.get(p.target);
    if (!w) throw new InputError(`${where}: base has no tensor ${p.target} (wrong base model?)`);
    const [inBase, outBase] = [w.dims[0], w.dims[1] ?? 1];
    if (p.inFeatures !== inBase || p.outFeatures !== outBase) {
      throw new InputError(
        `${where}: ${p.target} is ${inBase}->${outBase} in the base but the adapter expects ${p.inFeatures}->${p.outFeatures} (wrong base model?)`,
      );
    }
  }
}
