import { MetadataView } from './metadata.js';
import { fileTypeName, ggmlTypeName, type GgufFile } from './types.js';

export interface TensorTypeSummary {
  type: string;
  tensors: number;
  parameters: number;
  bytes: number;
}

export interface ModelInfo {
  path: string;
  fileSize: number;
  ggufVersion: number;
  architecture: string | undefined;
  name: string | undefined;
  fileType: string | undefined;
  parameters: number;
  tensorCount: number;
  tensorTypes: TensorTypeSummary[];
  vocabSize: number | undefined;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  blockCount: number | undefined;
  headCount: number | undefined;
  headCountKv: number | undefined;
  feedForwardLength: number | undefined;
  tokenizer: string | undefined;
  preTokenizer: string | undefined;
  chatTemplate: boolean;
  tiedOutput: boolean;
}

/** A summary of a GGUF model from its header alone (no tensor data is read). */
export function describeModel(file: GgufFile): ModelInfo {
  const m = new MetadataView(file.metadata, file.path);
  const arch = m.string('general.architecture');
  const hp = (key: string): number | undefined => (arch ? m.number(`${arch}.${key}`) : undefined);
  const byType = new Map<string, TensorTypeSummary>();
  let parameters = 0;
  for (const t of file.tensors) {
    parameters += t.elements;
    const type = ggmlTypeName(t.type);
    const entry = byType.get(type) ?? { type, tensors: 0, parameters: 0, bytes: 0 };
    entry.tensors++;
    entry.parameters += t.elements;
    entry.bytes += t.byteSize;
    byType.set(type, entry);
  }
  const fileType = m.number('general.file_type');
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  const tokenCount = tokens && 'itemType' in tokens ? tokens.value.length : undefined;
  const tensorNames = new Set(file.tensors.map((t) => t.name));
  return {
    path: file.path,
    fileSize: file.fileSize,
    ggufVersion: file.version,
    architecture: arch,
    name: m.string('general.name'),
    fileType: fileType === undefined ? undefined : fileTypeName(fileType),
    parameters,
    tensorCount: file.tensors.length,
    tensorTypes: [...byType.values()].sort((a, b) => b.parameters - a.parameters),
    vocabSize: tokenCount ?? hp('vocab_size'),
    contextLength: hp('context_length'),
    embeddingLength: hp('embedding_length'),
    blockCount: hp('block_count'),
    headCount: hp('attention.head_count'),
    headCountKv: hp('attention.head_count_kv'),
    feedForwardLength: hp('feed_forward_length'),
    tokenizer: m.string('tokenizer.ggml.model'),
    preTokenizer: m.string('tokenizer.ggml.pre'),
    chatTemplate: (m.string('tokenizer.chat_template') ?? '').length > 0,
    tiedOutput: tensorNames.has('token_embd.weight') && !tensorNames.has('output.weight'),
  };
}

export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function renderModelInfo(info: ModelInfo): string {
  const v = (x: unknown): string => (x === undefined ? '-' : String(x));
  const lines = [
    `${info.path}`,
    `  architecture     ${v(info.architecture)}${info.name ? ` (${info.name})` : ''}`,
    `  parameters       ${formatParameters(info.parameters)} (${info.parameters}) in ${info.tensorCount} tensors`,
    `  file type        ${v(info.fileType)}, GGUF v${info.ggufVersion}, ${(info.fileSize / 1e6).toFixed(2)} MB`,
    `  tensor types     ${info.tensorTypes.map((t) => `${t.type}: ${t.tensors} tensors, ${formatParameters(t.parameters)} params`).join('; ')}`,
    `  vocabulary       ${v(info.vocabSize)} tokens (${v(info.tokenizer)}, pre ${v(info.preTokenizer)})`,
    `  context          ${v(info.contextLength)}`,
    `  shape            ${v(info.blockCount)} layers, embd ${v(info.embeddingLength)}, heads ${v(info.headCount)}/${v(info.headCountKv)} kv, ff ${v(info.feedForwardLength)}${info.tiedOutput ? ', tied output' : ''}`,
    `  chat template    ${info.chatTemplate ? 'yes' : 'no'}`,
  ];
  return lines.join('\n');
}
