/**
 * Decontamination: no training example may show code that an evaluation split already holds.
 * Exact duplicates share the normalised code hash (the samples' code_hash, as ingest computes it);
 * near duplicates are found with the corpus MinHash machinery under the same settings the
 * clustering uses (tokens, shingles, permutations, bands, threshold), then verified.
 */
import type { Db } from '../kb/db.js';
import type { NearDupSettings } from '../corpus/dedup.js';
import { normalizeCode } from '../corpus/normalize.js';
import { MinHasher, bandKeys, estimatedJaccard, reachesThreshold, shingleHashes, tokenHashes } from '../corpus/minhash.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import type { KnowledgeItem } from './types.js';

export interface EvalSample {
  id: number;
  dataset: string;
  split: string | null;
  code: string;
  code_hash: string;
}

export interface EvalSetOptions {
  /** Datasets whose every sample counts as evaluation data (--eval-dataset). */
  evalDatasets: number[];
  /** Samples being distilled: never their own contamination. */
  exclude: ReadonlySet<number>;
}

/** The valid and test splits of every dataset in the KB, plus every sample of the eval datasets. */
export function loadEvalSet(db: Db, options: EvalSetOptions): EvalSample[] {
  const extra = options.evalDatasets.length ? ` OR s.dataset_id IN (${options.evalDatasets.map(() => '?').join(', ')})` : '';
  const rows = db
    .prepare(
      `SELECT s.id, d.name AS dataset, s.split, s.code, s.code_hash FROM samples s JOIN datasets d ON d.id = s.dataset_id
       WHERE s.split IN ('valid', 'test')${extra} ORDER BY s.id`,
    )
    .all(...options.evalDatasets) as EvalSample[];
  return rows.filter((r) => !options.exclude.has(r.id));
}

/** Identity of the evaluation set (for the distill cache): ids, hashes and the near-dup settings. */
export function evalSetSignature(evalSet: EvalSample[], settings: NearDupSettings): string {
  return sha256(canonicalJson({ settings, samples: evalSet.map((e) => `${e.id}:${e.code_hash}`) }));
}

export interface ContaminationMatch {
  kind: 'exact' | 'near';
  sample_id: number;
  knowledge_id: number;
  matched: { sample_id: number; dataset: string; split: string | null; similarity: number };
}

/** What decontamination reads of an item: its code, the code's hash, and the ids a drop reports. */
export interface CodeItem {
  knowledgeId: number;
  sample: Pick<KnowledgeItem['sample'], 'id' | 'code' | 'code_hash'>;
}

export interface DecontaminationResult<T extends CodeItem = KnowledgeItem> {
  clean: T[];
  dropped: ContaminationMatch[];
  evalSamples: number;
}

/**
 * Splits items into clean ones and ones whose code duplicates an evaluation sample (exactly, or
 * with estimated Jaccard at or above the threshold); each drop names the sample it matched.
 */
export function decontaminate<T extends CodeItem>(items: T[], evalSet: EvalSample[], settings: NearDupSettings): DecontaminationResult<T> {
  const exact = new Map<string, EvalSample>();
  for (const e of evalSet) if (!exact.has(e.code_hash)) exact.set(e.code_hash, e);

  const dropped: ContaminationMatch[] = [];
  const rest: T[] = [];
  for (const item of items) {
    const hit = exact.get(item.sample.code_hash);
    if (hit) dropped.push(match('exact', item, hit, 1));
    else rest.push(item);
  }
  const near = nearMatches(rest, evalSet, settings);
  const clean: T[] = [];
  for (const item of rest) {
    const hit = near.get(item);
    if (hit) dropped.push(match('near', item, hit.sample, hit.similarity));
    else clean.push(item);
  }
  return { clean, dropped, evalSamples: evalSet.length };
}

function match(kind: 'exact' | 'near', item: CodeItem, e: EvalSample, similarity: number): ContaminationMatch {
  return {
    kind,
    sample_id: item.sample.id,
    knowledge_id: item.knowledgeId,
    matched: { sample_id: e.id, dataset: e.dataset, split: e.split, similarity },
  };
}

/**
 * For each item, the most similar evaluation sample at or above the threshold. Signatures of the
 * evaluation samples come first in one array, the items' after; LSH band keys give candidates
 * (documents sharing any band), each verified on the full signature.
 */
function nearMatches<T extends CodeItem>(
  items: T[],
  evalSet: EvalSample[],
  settings: NearDupSettings,
): Map<T, { sample: EvalSample; similarity: number }> {
  const out = new Map<T, { sample: EvalSample; similarity: number }>();
  if (items.length === 0 || evalSet.length === 0) return out;
  const P = settings.permutations;
  const hasher = new MinHasher(P);
  const codes = [...evalSet.map((e) => e.code), ...items.map((i) => i.sample.code)];
  const signatures = new Int32Array(codes.length * P);
  const empty = new Uint8Array(codes.length);
  codes.forEach((code, d) => {
    const shingles = shingleHashes(tokenHashes(normalizeCode(code), settings.identifiers), settings.shingle);
    hasher.signInto(shingles, signatures, d * P);
    empty[d] = shingles.length === 0 ? 1 : 0;
  });
  const bands = settings.bands;
  const keys = bandKeys(signatures, codes.length, P, bands);
  const buckets = new Map<string, number[]>();
  for (let d = 0; d < evalSet.length; d++) {
    if (empty[d]) continue;
    for (let b = 0; b < bands; b++) {
      const key = `${b}:${keys[d * bands + b]}`;
      const list = buckets.get(key);
      if (list) list.push(d);
      else buckets.set(key, [d]);
    }
  }
  items.forEach((item, i) => {
    const d = evalSet.length + i;
    if (empty[d]) return;
    const candidates = new Set<number>();
    for (let b = 0; b < bands; b++) for (const e of buckets.get(`${b}:${keys[d * bands + b]}`) ?? []) candidates.add(e);
    let best: { sample: EvalSample; similarity: number } | undefined;
    for (const e of candidates) {
      if (!reachesThreshold(signatures, d, e, P, settings.threshold)) continue;
      const similarity = estimatedJaccard(signatures, d, e, P);
      if (!best || similarity > best.similarity) best = { sample: evalSet[e]!, similarity };
    }
    if (best) out.set(item, best);
  });
  return out;
}
