import type { Db } from '../kb/db.js';
import { getCachedResponse, putCachedResponse } from '../kb/teacher-cache.js';
import { hashJson } from '../util/hash.js';
import type { CallContext, CallOptions, ProviderResponse, TeacherPrompt, TeacherProvider } from './provider.js';

/** Bumped when the key's ingredients or the stored response's shape change. */
export const cacheVersion = 'teacher-cache-v1';

/** Key: the provider (with its endpoint), the model, the prompt version and the full effective request. */
export function cacheKey(provider: TeacherProvider, prompt: TeacherPrompt, context: CallContext, options: CallOptions): string {
  return hashJson({
    v: cacheVersion,
    provider: provider.id(),
    model: provider.model,
    promptVersion: prompt.version,
    request: provider.request(prompt, context, options),
  });
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Calls that joined a fetch already in flight for the same key. */
  shared: number;
  stored: number;
}

/**
 * Wraps a provider with the knowledge-base cache. A hit costs nothing and says `cached: true`.
 * Concurrent misses for one key share a single fetch. Only successful answers are stored; an
 * error is returned to every waiter and the next call asks again. `refresh` skips reading (the
 * answer is fetched anew and replaces the stored one).
 */
export class CachedProvider implements TeacherProvider {
  readonly stats: CacheStats = { hits: 0, misses: 0, shared: 0, stored: 0 };
  private readonly inflight = new Map<string, Promise<ProviderResponse>>();

  constructor(
    private readonly inner: TeacherProvider,
    private readonly db: Db,
    private readonly options: { refresh?: boolean } = {},
  ) {}

  get kind() {
    return this.inner.kind;
  }
  get model() {
    return this.inner.model;
  }
  get isLlm() {
    return this.inner.isLlm;
  }
  get needsLabels() {
    return this.inner.needsLabels;
  }
  id(): string {
    return this.inner.id();
  }
  request(prompt: TeacherPrompt, context: CallContext, options: CallOptions): unknown {
    return this.inner.request(prompt, context, options);
  }

  async callApi(prompt: TeacherPrompt, context: CallContext, options: CallOptions): Promise<ProviderResponse> {
    const key = cacheKey(this.inner, prompt, context, options);
    const pending = this.inflight.get(key);
    if (pending) {
      this.stats.shared++;
      const shared = await pending;
      return shared.error ? shared : { ...shared, cost: 0, cached: true };
    }
    if (!this.options.refresh) {
      const row = getCachedResponse(this.db, key);
      if (row) {
        this.stats.hits++;
        const stored = JSON.parse(row.response) as ProviderResponse;
        return { ...stored, cost: 0, cached: true };
      }
    }
    this.stats.misses++;
    const fetch = this.fetchAndStore(key, prompt, context, options);
    this.inflight.set(key, fetch);
    try {
      return await fetch;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async fetchAndStore(key: string, prompt: TeacherPrompt, context: CallContext, options: CallOptions): Promise<ProviderResponse> {
    const response = await this.inner.callApi(prompt, context, options);
    if (!response.error && response.output !== undefined) {
      const { cached: _cached, ...stored } = response;
      putCachedResponse(this.db, { key, provider: this.inner.id(), model: this.inner.model, prompt_version: prompt.version, response: JSON.stringify(stored) });
      this.stats.stored++;
    }
    return response;
  }

  close(): void {
    this.inner.close?.();
  }
}
