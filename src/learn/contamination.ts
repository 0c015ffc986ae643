/**
 * Nothing from an evaluation split is ever learned: every feedback item's code is checked against
 * the valid and test splits of every dataset in the knowledge base, exactly (normalised code hash)
 * and as a near duplicate (the corpus MinHash settings), with distill's own decontamination.
 * A hit refuses the item with a reason that names the evaluation sample it matched.
 */
import type { FinesecConfig } from '../config/schema.js';
import { nearDupSettings } from '../corpus/dedup.js';
import { codeHash } from '../corpus/normalize.js';
import { decontaminate, loadEvalSet, type CodeItem, type EvalSample } from '../distill/decontaminate.js';
import type { Db } from '../kb/db.js';
import type { Sample } from '../kb/samples.js';

/** The code a feedback item is about; sample when it is a knowledge-base sample. */
export interface CodeUnderCheck {
  code: string;
  sample?: Pick<Sample, 'id' | 'dataset_id' | 'split'>;
}

export class EvalSetGuard {
  private readonly evalSet: EvalSample[];
  private readonly datasetNames: Map<number, string>;

  constructor(
    db: Db,
    private readonly config: FinesecConfig,
  ) {
    this.evalSet = loadEvalSet(db, { evalDatasets: [], exclude: new Set() });
    this.datasetNames = new Map((db.prepare('SELECT id, name FROM datasets').all() as Array<{ id: number; name: string }>).map((d) => [d.id, d.name]));
  }

  get size(): number {
    return this.evalSet.length;
  }

  /** For each item, in order: null when it may be learned, else why not. */
  check(items: readonly CodeUnderCheck[]): Array<string | null> {
    const reasons: Array<string | null> = items.map((item) => {
      const s = item.sample;
      if (s && (s.split === 'valid' || s.split === 'test')) {
        return `sample ${s.id} is in the ${s.split} split of dataset ${this.datasetNames.get(s.dataset_id) ?? s.dataset_id}: nothing from an evaluation split is learned`;
      }
      return null;
    });
    const pending = items.map((item, index) => ({ item, index })).filter(({ index }) => reasons[index] === null);
    const probes = pending.map(({ item, index }) => probe(index, item.code));
    const result = decontaminate(probes, this.evalSet, nearDupSettings(this.config));
    for (const d of result.dropped) {
      const m = d.matched;
      const where = `sample ${m.sample_id} (${m.split ?? 'no'} split of dataset ${m.dataset})`;
      reasons[d.knowledge_id] =
        d.kind === 'exact'
          ? `exact duplicate of evaluation ${where}: nothing from an evaluation split is learned`
          : `near duplicate (estimated Jaccard ${m.similarity.toFixed(2)}) of evaluation ${where}: nothing from an evaluation split is learned`;
    }
    return reasons;
  }
}

/** Decontamination reads the code, its hash and an id to report; the item's index travels as that id. */
function probe(index: number, code: string): CodeItem {
  return { knowledgeId: index, sample: { id: -1 - index, code, code_hash: codeHash(code) } };
}
