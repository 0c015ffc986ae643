/**
 * Near-duplicate clustering of a dataset's samples: MinHash signatures, LSH candidate pairs,
 * verification by estimated Jaccard, single-linkage clusters by union-find. The result is stored
 * in samples.near_dup_cluster (the smallest sample id of the cluster; NULL for a sample without
 * near-duplicates) and cached: it is recomputed only when the dataset's samples or the settings change.
 */
import type { Db } from '../kb/db.js';
import { nowIso } from '../kb/db.js';
import type { FinesecConfig } from '../config/schema.js';
import { normalizeCode } from './normalize.js';
import {
  MinHasher,
  TOKENIZER_VERSION,
  bandKeys,
  collidedBefore,
  forEachBucket,
  reachesThreshold,
  shingleHashes,
  tokenHashes,
  type IdentifierMode,
} from './minhash.js';
import { InputError } from '../util/errors.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { Progress } from '../util/progress.js';
import type { Logger } from '../util/log.js';

export interface NearDupSettings {
  threshold: number;
  shingle: number;
  permutations: number;
  bands: number;
  identifiers: IdentifierMode;
}

/** Identifiers are abstracted so renamed-variable clones count as near-duplicates (see minhash.ts). */
export const DEFAULT_IDENTIFIER_MODE: IdentifierMode = 'abstract';

export function nearDupSettings(config: FinesecConfig): NearDupSettings {
  const s = config.corpus.near_duplicates;
  if (s.permutations % s.bands !== 0) {
    throw new InputError(
      `finesec.yaml: corpus.near_duplicates.permutations (${s.permutations}) must be a multiple of corpus.near_duplicates.bands (${s.bands})`,
    );
  }
  return { threshold: s.threshold, shingle: s.shingle, permutations: s.permutations, bands: s.bands, identifiers: DEFAULT_IDENTIFIER_MODE };
}

/** Disjoint sets over 0..n-1 with path halving and union by size. */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }

  find(x: number): number {
    const parent = this.parent;
    while (parent[x]! !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  }

  /** Joins the sets of a and b; returns false when they were already one set. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
    return true;
  }

  setSize(x: number): number {
    return this.size[this.find(x)]!;
  }
}

export interface ClusterStats {
  samples: number;
  /** Clusters with at least two members. */
  clusters: number;
  /** Samples that belong to such a cluster. */
  clusteredSamples: number;
  largestCluster: number;
  /** Candidate pairs from LSH buckets that were verified (pairs already in one cluster are not). */
  verifiedPairs: number;
  /** Verified pairs whose estimated Jaccard reached the threshold. */
  similarPairs: number;
  /** Samples with no tokens (never clustered). */
  emptySamples: number;
}

/** Incremental signature computation: add documents one by one, then cluster. */
export class NearDupIndex {
  private readonly hasher: MinHasher;
  private signatures: Int32Array;
  private empty: Uint8Array;
  private count = 0;

  constructor(
    private readonly settings: NearDupSettings,
    expected = 1024,
  ) {
    if (settings.permutations % settings.bands !== 0) {
      throw new InputError(`near-duplicates: permutations (${settings.permutations}) must be a multiple of bands (${settings.bands})`);
    }
    this.hasher = new MinHasher(settings.permutations);
    this.signatures = new Int32Array(Math.max(1, expected) * settings.permutations);
    this.empty = new Uint8Array(Math.max(1, expected));
  }

  get size(): number {
    return this.count;
  }

  /** Adds one document (raw code; it is normalised here) and returns its index. */
  add(code: string): number {
    const P = this.settings.permutations;
    if ((this.count + 1) * P > this.signatures.length) {
      const bigger = new Int32Array(this.signatures.length * 2);
      bigger.set(this.signatures);
      this.signatures = bigger;
      const biggerEmpty = new Uint8Array(this.empty.length * 2);
      biggerEmpty.set(this.empty);
      this.empty = biggerEmpty;
    }
    const shingles = shingleHashes(tokenHashes(normalizeCode(code), this.settings.identifiers), this.settings.shingle);
    this.hasher.signInto(shingles, this.signatures, this.count * P);
    this.empty[this.count] = shingles.length === 0 ? 1 : 0;
    return this.count++;
  }

  /** Single-linkage clusters: returns each document's set representative and the statistics. */
  cluster(onBand?: () => void): { sets: UnionFind; stats: ClusterStats } {
    const { permutations: P, bands, threshold } = this.settings;
    const n = this.count;
    const sets = new UnionFind(n);
    const signatures = this.signatures;
    const empty = this.empty;
    const keys = bandKeys(signatures, n, P, bands);
    let verifiedPairs = 0;
    let similarPairs = 0;
    for (let band = 0; band < bands; band++) {
      forEachBucket(keys, n, bands, band, (members) => {
        for (let i = 0; i < members.length; i++) {
          const a = members[i]!;
          if (empty[a]) continue;
          for (let j = i + 1; j < members.length; j++) {
            const b = members[j]!;
            // A pair that shared a bucket in an earlier band was verified there already.
            if (empty[b] || sets.find(a) === sets.find(b) || collidedBefore(keys, bands, a, b, band)) continue;
            verifiedPairs++;
            if (reachesThreshold(signatures, a, b, P, threshold)) {
              similarPairs++;
              sets.union(a, b);
            }
          }
        }
      });
      onBand?.();
    }
    let clusters = 0;
    let clusteredSamples = 0;
    let largestCluster = n > 0 ? 1 : 0;
    let emptySamples = 0;
    for (let d = 0; d < n; d++) {
      if (empty[d]) emptySamples++;
      const size = sets.setSize(d);
      if (size > 1) {
        clusteredSamples++;
        if (sets.find(d) === d) clusters++;
        if (size > largestCluster) largestCluster = size;
      }
    }
    return { sets, stats: { samples: n, clusters, clusteredSamples, largestCluster, verifiedPairs, similarPairs, emptySamples } };
  }
}

export interface NearDupOutcome extends ClusterStats {
  /** True when the stored clusters were still valid and nothing was computed. */
  cached: boolean;
  seconds: number;
  settings: NearDupSettings;
}

interface StateRow {
  signature: string;
  stats: string;
}

function settingsKey(settings: NearDupSettings): Record<string, unknown> {
  return { ...settings, tokenizer: TOKENIZER_VERSION };
}

/** Identity of what the clusters depend on: every sample's id and code hash, and the settings. */
function contentSignature(db: Db, datasetId: number, settings: NearDupSettings): string {
  const rows = db.prepare('SELECT id, code_hash FROM samples WHERE dataset_id = ? ORDER BY id').raw().all(datasetId) as Array<[number, string]>;
  const parts = [canonicalJson(settingsKey(settings)), String(rows.length)];
  for (const [id, hash] of rows) parts.push(`${id}:${hash}`);
  return sha256(parts.join('\n'));
}

/** The stored clustering statistics of a dataset, when its clusters are up to date. */
export function currentNearDuplicates(db: Db, datasetId: number, settings: NearDupSettings): ClusterStats | undefined {
  const state = db.prepare('SELECT signature, stats FROM near_dup_state WHERE dataset_id = ?').get(datasetId) as StateRow | undefined;
  if (!state || state.signature !== contentSignature(db, datasetId, settings)) return undefined;
  return JSON.parse(state.stats) as ClusterStats;
}

/**
 * Brings samples.near_dup_cluster of a dataset up to date (computing only when the samples or the
 * settings changed since the last time) and returns the clustering statistics.
 */
export function updateNearDuplicates(
  db: Db,
  datasetId: number,
  settings: NearDupSettings,
  options: { logger?: Logger; force?: boolean } = {},
): NearDupOutcome {
  const started = Date.now();
  // One read transaction: the signature and the codes come from the same snapshot of the samples.
  const read = db.transaction(() => {
    const signature = contentSignature(db, datasetId, settings);
    if (!options.force) {
      const state = db.prepare('SELECT signature, stats FROM near_dup_state WHERE dataset_id = ?').get(datasetId) as StateRow | undefined;
      if (state && state.signature === signature) return { cached: true as const, stats: JSON.parse(state.stats) as ClusterStats };
    }
    const total = (db.prepare('SELECT COUNT(*) AS n FROM samples WHERE dataset_id = ?').get(datasetId) as { n: number }).n;
    const index = new NearDupIndex(settings, total);
    const ids = new Int32Array(total);
    const progress = options.logger ? new Progress(options.logger, 'near-duplicates', total, 'samples') : undefined;
    const rows = db.prepare('SELECT id, code FROM samples WHERE dataset_id = ? ORDER BY id').raw().iterate(datasetId) as IterableIterator<[number, string]>;
    for (const [id, code] of rows) {
      ids[index.add(code)] = id;
      progress?.tick();
    }
    progress?.finish();
    return { cached: false as const, signature, index, ids };
  })();
  if (read.cached) return { ...read.stats, cached: true, seconds: (Date.now() - started) / 1000, settings };
  const { signature, index, ids } = read;
  const total = index.size;
  const clustering = options.logger ? new Progress(options.logger, 'near-duplicate clusters', settings.bands, 'LSH bands') : undefined;
  const { sets, stats } = index.cluster(() => clustering?.tick());
  clustering?.finish();

  // The cluster id is the smallest sample id in the cluster: stable across recomputations.
  const smallest = new Map<number, number>();
  for (let d = 0; d < total; d++) {
    if (sets.setSize(d) < 2) continue;
    const root = sets.find(d);
    const have = smallest.get(root);
    if (have === undefined || ids[d]! < have) smallest.set(root, ids[d]!);
  }
  const clear = db.prepare('UPDATE samples SET near_dup_cluster = NULL WHERE dataset_id = ? AND near_dup_cluster IS NOT NULL');
  const setCluster = db.prepare('UPDATE samples SET near_dup_cluster = ? WHERE id = ?');
  const saveState = db.prepare(
    `INSERT INTO near_dup_state (dataset_id, signature, settings, stats, computed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (dataset_id) DO UPDATE SET signature = excluded.signature, settings = excluded.settings,
       stats = excluded.stats, computed_at = excluded.computed_at`,
  );
  db.transaction(() => {
    clear.run(datasetId);
    for (let d = 0; d < total; d++) {
      if (sets.setSize(d) < 2) continue;
      setCluster.run(smallest.get(sets.find(d))!, ids[d]!);
    }
    saveState.run(datasetId, signature, canonicalJson(settingsKey(settings)), JSON.stringify(stats), nowIso());
  })();
  return { ...stats, cached: false, seconds: (Date.now() - started) / 1000, settings };
}
