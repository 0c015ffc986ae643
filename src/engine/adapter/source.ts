/**
 * Where an adapter to export can come from: a GGUF LoRA file, or a finesec training checkpoint
 * (e.g. of an interrupted run), whose LoRA is rebuilt for its base model.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../../util/errors.js';
import { readGguf } from '../gguf/reader.js';
import { modelConfig, type ModelConfig } from '../model/config.js';
import { createLora } from '../model/lora.js';
import { looksLikeCheckpoint, readCheckpoint } from '../train/checkpoint.js';
import type { TrainSettings } from '../train/settings.js';
import { adapterFromEngine, readAdapterGguf, type AdapterData } from './lora-file.js';

export function readBaseConfig(basePath: string): ModelConfig {
  return modelConfig(readGguf(basePath));
}

/** An adapter from a GGUF LoRA file or a LoRA checkpoint (which needs its base model). */
export function readAdapterSource(path: string, basePath: string | undefined): AdapterData {
  if (!looksLikeCheckpoint(path)) return readAdapterGguf(path);
  const ckpt = readCheckpoint(path);
  const config = ckpt.header.config as { settings?: TrainSettings; base?: { sha256?: string } };
  const s = config.settings;
  if (!s) throw new InputError(`${path}: checkpoint has no training settings`);
  if (s.full) throw new InputError(`${path}: a --full checkpoint holds a whole model, not an adapter`);
  if (!basePath) throw new InputError(`${path}: exporting from a checkpoint needs --base (the model it was trained on)`);
  const sha = createHash('sha256').update(readFileSync(basePath)).digest('hex');
  if (config.base?.sha256 && config.base.sha256 !== sha) {
    throw new InputError(`${path}: checkpoint was trained on another base than ${basename(basePath)} (wrong base model?)`);
  }
  const c = readBaseConfig(basePath);
  const lora = createLora(c, { rank: s.rank, alpha: s.alpha, dropout: s.dropout, targets: s.targets, rsLora: s.rsLora });
  const params = ckpt.arrays.get('params');
  if (!params || params.length !== lora.params.length) {
    throw new InputError(`${path}: checkpoint parameters do not match a rank-${s.rank} LoRA of ${basename(basePath)} (wrong base model?)`);
  }
  lora.params.set(params);
  return adapterFromEngine(lora, c.arch);
}
