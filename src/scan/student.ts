import { openModel, type ResolvedModelSpec } from '../eval/model-spec.js';
import { checkAdapterFitsBase, readBaseModel } from '../runtime/adapter-check.js';
import type { ChatBackend, ChatMessage } from '../runtime/chat-types.js';
import { canonicalJson, sha256 } from '../util/hash.js';

/**
 * The scan's student, opened only when the first cache miss needs it (a warm scan never loads
 * the model), with the identity the cache keys on: the content hash of the base GGUF and of each
 * adapter with its scale, or the endpoint's model and URL.
 */
export interface StudentIdentity {
  modelId: string;
  /** '' without adapters. */
  adapterHash: string;
}

export interface StudentOptions {
  threads: number;
  contextSize?: number;
  apiKey?: string;
}

/** A backend that can measure a prompt (a local student). */
export interface TokenCounter {
  contextSize: number;
  countPromptTokens(messages: ChatMessage[]): number;
}

export function canCountTokens(backend: ChatBackend): backend is ChatBackend & TokenCounter {
  return typeof (backend as Partial<TokenCounter>).countPromptTokens === 'function' && typeof backend.contextSize === 'number';
}

export class LazyStudent {
  private opening: Promise<ChatBackend> | undefined;

  constructor(
    readonly spec: ResolvedModelSpec,
    private readonly options: StudentOptions,
  ) {
    // Fail before walking the tree, not at the first cache miss: the files must be a model and
    // adapters made for it.
    if (spec.kind === 'gguf') {
      const base = readBaseModel(spec.base);
      for (const a of spec.adapters) checkAdapterFitsBase(a.path, base);
    }
  }

  async identity(fileHash: (path: string) => Promise<string>): Promise<StudentIdentity> {
    if (this.spec.kind === 'openai') return { modelId: `openai:${this.spec.model}@${this.spec.baseURL}`, adapterHash: '' };
    const modelId = `gguf:${await fileHash(this.spec.base)}`;
    if (this.spec.adapters.length === 0) return { modelId, adapterHash: '' };
    const adapters = [];
    for (const a of this.spec.adapters) adapters.push({ sha256: await fileHash(a.path), scale: a.scale ?? 1 });
    return { modelId, adapterHash: sha256(canonicalJson(adapters)) };
  }

  get opened(): boolean {
    return this.opening !== undefined;
  }

  backend(): Promise<ChatBackend> {
    this.opening ??= openModel(this.spec, {
      threads: this.options.threads,
      ...(this.options.contextSize !== undefined ? { contextSize: this.options.contextSize } : {}),
      ...(this.options.apiKey ? { apiKey: this.options.apiKey } : {}),
    });
    return this.opening;
  }

  async close(): Promise<void> {
    if (!this.opening) return;
    const backend = await this.opening.catch(() => undefined);
    await backend?.close();
  }
}
