import type { TokenUsage } from './provider.js';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/** The configured per-model prices (teacher.prices); looked up by "kind:model", then by model. */
export class PriceTable {
  /** The "kind:model" key of the last lookup: callers ask about one model over and over. */
  private lastKind: string | undefined;
  private lastModel: string | undefined;
  private lastKey = '';
  constructor(private readonly prices: Record<string, Price>) {}

  priceOf(kind: string, model: string): Price | undefined {
    if (kind !== this.lastKind || model !== this.lastModel) {
      this.lastKey = `${kind}:${model}`;
      this.lastKind = kind;
      this.lastModel = model;
    }
    return this.prices[this.lastKey] ?? this.prices[model];
  }

  cost(kind: string, model: string, usage: Pick<TokenUsage, 'prompt' | 'completion'>): number {
    const price = this.priceOf(kind, model);
    if (!price) return 0;
    return (usage.prompt * price.input + usage.completion * price.output) / 1_000_000;
  }
}

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}
