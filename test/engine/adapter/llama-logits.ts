/**
 * Next-token log-probabilities from llama.cpp (node-llama-cpp, CPU, one thread, F32 KV cache, no
 * flash attention) for a model with optional LoRA adapters, and the agreement measures the
 * engine-parity tests use: logits compared after centring each row (log-softmax differs from
 * the logits by a per-row constant), relative L2 over all positions, and top-1 agreement.
 */
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';

export async function llamaLogProbs(llama: Llama, model: LlamaModel, tokens: number[], lora: Array<{ filePath: string; scale?: number }> = []): Promise<Float64Array[]> {
  const context = await model.createContext({
    contextSize: 256,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    ...(lora.length ? { lora: { adapters: lora.map((a) => ({ filePath: a.filePath, scale: a.scale ?? 1 })) } } : {}),
  });
  try {
    const results = await context.getSequence().controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { probabilities: true } }]));
    return results.map((r) => {
      const probs = r!.next.probabilities!;
      const out = new Float64Array(model.tokens.length ?? probs.size).fill(-Infinity);
      for (const [token, p] of probs) out[token] = Math.log(p);
      return out;
    });
  } finally {
    await context.dispose();
  }
}

function centred(row: ArrayLike<number>): Float64Array {
  let mean = 0;
  for (let i = 0; i < row.length; i++) mean += row[i]!;
  mean /= row.length;
  return Float64Array.from(row, (x) => x - mean);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface Agreement {
  relL2: number;
  top1: number;
}

export function agreement(a: ArrayLike<number>[], reference: ArrayLike<number>[]): Agreement {
  let num = 0;
  let den = 0;
  let same = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = centred(a[i]!);
    const r = centred(reference[i]!);
    for (let j = 0; j < r.length; j++) {
      num += (e[j]! - r[j]!) ** 2;
      den += r[j]! ** 2;
    }
    if (argmax(e) === argmax(r)) same++;
  }
  return { relL2: Math.sqrt(num / den), top1: same / reference.length };
}
