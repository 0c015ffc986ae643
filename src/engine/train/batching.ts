/**
 * Batches by token budget. Each epoch visits the examples in a seeded shuffle and packs them, in
 * that order, into micro-batches of B sequences padded to a common length T with B * T at most
 * the budget (an example longer than the budget gets a micro-batch of its own). An optimizer step
 * takes `accum` consecutive micro-batches from the endless stream epoch 0, epoch 1, ...; so the
 * whole data order is a pure function of (lengths, budget, seed) and a resumed run only needs the
 * index of the next micro-batch.
 */
import { mulberry32 } from '../../util/random.js';
import { maskedTargets } from '../model/loss.js';

export interface TokenizedSequence {
  tokens: Int32Array;
  /** 1 where the token is the assistant's (predicted and counted in the loss). */
  mask: Uint8Array;
}

export interface MicroBatch {
  /** Example indices, in order. */
  examples: number[];
  /** Padded length of every row. */
  T: number;
}

export interface BatchingOptions {
  /** Upper bound of B * T per micro-batch. */
  batchTokens: number;
  /** Longest row (sequences are at most this long). */
  seqLen: number;
  seed: number;
  /** Rows are padded to a multiple of this (fewer distinct shapes to allocate for). */
  padMultiple?: number;
}

/** Fisher-Yates shuffle of 0..n-1 from a seed derived from (seed, epoch). */
export function shuffledOrder(n: number, seed: number, epoch: number): number[] {
  const rand = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export function paddedLength(length: number, multiple: number, cap: number): number {
  return Math.min(cap, Math.ceil(length / multiple) * multiple);
}

/** Greedy packing of `order` into micro-batches whose B * T stays within the budget. */
export function packMicroBatches(lengths: readonly number[], order: readonly number[], o: BatchingOptions): MicroBatch[] {
  const multiple = o.padMultiple ?? 16;
  const out: MicroBatch[] = [];
  let current: number[] = [];
  let T = 0;
  for (const i of order) {
    const len = lengths[i]!;
    if (len < 2 || len > o.seqLen) throw new RangeError(`example ${i} has ${len} tokens (expected 2..${o.seqLen})`);
    const t = Math.max(T, paddedLength(len, multiple, o.seqLen));
    if (current.length > 0 && (current.length + 1) * t > o.batchTokens) {
      out.push({ examples: current, T });
      current = [];
      T = 0;
    }
    current.push(i);
    T = Math.max(T, paddedLength(len, multiple, o.seqLen));
  }
  if (current.length > 0) out.push({ examples: current, T });
  return out;
}

/** The endless micro-batch stream over epochs (each epoch's packing computed on demand). */
export class BatchStream {
  private readonly cache = new Map<number, MicroBatch[]>();
  /** starts[e] = index of epoch e's first micro-batch in the stream. */
  private readonly starts: number[] = [0];

  constructor(
    private readonly lengths: readonly number[],
    private readonly options: BatchingOptions,
  ) {
    if (lengths.length === 0) throw new RangeError('no examples to batch');
  }

  /** Micro-batches in epoch e (different shuffles can pack into different counts). */
  countIn(e: number): number {
    return this.epoch(e).length;
  }

  /** Micro-batches in the first `epochs` passes (a fraction takes that share of the last one, rounded up). */
  microBatchesIn(epochs: number): number {
    const whole = Math.floor(epochs);
    let n = 0;
    for (let e = 0; e < whole; e++) n += this.countIn(e);
    const frac = epochs - whole;
    if (frac > 0) n += Math.ceil(frac * this.countIn(whole));
    return n;
  }

  /** Micro-batch number `index` (0-based, over all epochs). */
  at(index: number): { batch: MicroBatch; epoch: number; indexInEpoch: number } {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`micro-batch index must be an integer >= 0, got ${index}`);
    let e = 0;
    for (;;) {
      while (this.starts.length <= e + 1) {
        const last = this.starts.length - 1;
        this.starts.push(this.starts[last]! + this.countIn(last));
      }
      if (index < this.starts[e + 1]!) break;
      e++;
    }
    const indexInEpoch = index - this.starts[e]!;
    return { batch: this.epoch(e)[indexInEpoch]!, epoch: e, indexInEpoch };
  }

  private epoch(e: number): MicroBatch[] {
    let batches = this.cache.get(e);
    if (!batches) {
      batches = packMicroBatches(this.lengths, shuffledOrder(this.lengths.length, this.options.seed, e), this.options);
      this.cache.set(e, batches);
      while (this.cache.size > 3) this.cache.delete(this.cache.keys().next().value!);
    }
    return batches;
  }
}

/** Optimizer steps for a run: --max-steps, or enough to cover `epochs` passes (at least 1). */
export function totalSteps(stream: BatchStream, accum: number, limit: { epochs?: number; maxSteps?: number }): number {
  if (limit.maxSteps !== undefined) return limit.maxSteps;
  return Math.max(1, Math.ceil(stream.microBatchesIn(limit.epochs ?? 1) / accum));
}

export interface AssembledBatch {
  B: number;
  T: number;
  tokens: Int32Array;   // [B, T], padding 0
  targets: Int32Array;  // [B, T], IGNORE where nothing is predicted
  /** Positions that count in the loss. */
  count: number;
  /** Tokens of the sequences themselves (without padding). */
  realTokens: number;
}

/** Rows of one micro-batch, padded after the end (causal attention: padding never reaches real tokens). */
export function assembleBatch(batch: MicroBatch, sequences: readonly TokenizedSequence[]): AssembledBatch {
  const B = batch.examples.length;
  const T = batch.T;
  const tokens = new Int32Array(B * T);
  const mask = new Uint8Array(B * T);
  let realTokens = 0;
  batch.examples.forEach((e, b) => {
    const s = sequences[e]!;
    tokens.set(s.tokens, b * T);
    mask.set(s.mask, b * T);
    realTokens += s.tokens.length;
  });
  const targets = maskedTargets(tokens, mask, B, T);
  let count = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i]! >= 0) count++;
  return { B, T, tokens, targets, count, realTokens };
}
