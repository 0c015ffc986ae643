import type { Clock } from './clock.js';
import type { PriceTable } from './cost.js';
import { RateLimiter } from './limits.js';
import {
  errorResponse,
  estimateTokens,
  type CallContext,
  type CallOptions,
  type ProviderResponse,
  type TeacherPrompt,
  type TeacherProvider,
} from './provider.js';

/** Completion tokens assumed before an answer exists (a typical report); also what --dry-run uses. */
export function expectedCompletionTokens(maxTokens: number): number {
  return Math.min(maxTokens, 700);
}

export function estimatePromptTokens(prompt: TeacherPrompt): number {
  let n = 0;
  for (const m of prompt.messages) n += estimateTokens(m.content) + 4;
  return n;
}

/**
 * Spend control for one run. A call may start only if what is spent, plus the estimates of calls
 * in flight, plus its own estimate stays within the limit; so a run stops before it overspends
 * (barring answers much longer than the estimate).
 */
export class Budget {
  spent = 0;
  private reserved = 0;
  constructor(readonly limitUsd: number | undefined) {}

  reserve(estimateUsd: number): boolean {
    if (this.limitUsd !== undefined && this.spent + this.reserved + estimateUsd > this.limitUsd) return false;
    this.reserved += estimateUsd;
    return true;
  }

  settle(estimateUsd: number, actualUsd: number): void {
    this.reserved -= estimateUsd;
    this.spent += actualUsd;
  }
}

export interface MeterOptions {
  clock: Clock;
  prices: PriceTable;
  budget: Budget;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * Wraps the real provider (below the cache, so hits are free and unthrottled): requests-per-minute
 * and tokens-per-minute limits, and the spend limit, which answers with a fatal 'budget' error.
 */
export class MeteredProvider implements TeacherProvider {
  private readonly rpm: RateLimiter | undefined;
  private readonly tpm: RateLimiter | undefined;
  calls = 0;

  constructor(
    private readonly inner: TeacherProvider,
    private readonly options: MeterOptions,
  ) {
    this.rpm = options.requestsPerMinute ? new RateLimiter(options.requestsPerMinute, options.clock) : undefined;
    this.tpm = options.tokensPerMinute ? new RateLimiter(options.tokensPerMinute, options.clock) : undefined;
  }

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
    const promptTokens = estimatePromptTokens(prompt);
    const completionTokens = expectedCompletionTokens(options.maxTokens);
    const estimateUsd = this.options.prices.cost(this.inner.kind, this.inner.model, { prompt: promptTokens, completion: completionTokens });
    if (!this.options.budget.reserve(estimateUsd)) {
      return errorResponse(`spend limit of $${this.options.budget.limitUsd} reached`, 'budget', true);
    }
    let actual = 0;
    try {
      if (this.rpm) await this.rpm.acquire(1);
      if (this.tpm) await this.tpm.acquire(promptTokens + completionTokens);
      this.calls++;
      const response = await this.inner.callApi(prompt, context, options);
      actual = response.cost;
      if (response.tokenUsage.total > 0) this.tpm?.adjust(response.tokenUsage.total - (promptTokens + completionTokens));
      return response;
    } finally {
      this.options.budget.settle(estimateUsd, actual);
    }
  }

  close(): void {
    this.inner.close?.();
  }
}
