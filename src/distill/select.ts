import { normaliseCweId } from '../cwe/index.js';
import type { Db } from '../kb/db.js';
import type { DatasetRow } from '../kb/datasets.js';
import { recordRejection } from '../kb/rejections.js';
import { decodeSample, type SampleRow } from '../kb/samples.js';
import { parseReport } from '../report/validate.js';
import type { KnowledgeItem, PairInfo } from './types.js';

export type SplitSelection = 'train' | 'valid' | 'test' | 'all';

export interface SelectOptions {
  split: SplitSelection;
  /** Only knowledge from this teacher id (as stored, e.g. "reference"). */
  teacher?: string;
}

export interface Selection {
  items: KnowledgeItem[];
  /** Samples of the selection with at least one accepted record. */
  samplesWithKnowledge: number;
  /** Accepted records not used because the sample has a preferred one (another teacher or prompt). */
  alternatives: number;
  /** Accepted records whose stored report no longer parses (recorded as rejections). */
  invalid: number;
}

interface Row extends SampleRow {
  k_id: number;
  k_teacher: string;
  k_report: string | null;
}

/**
 * One accepted knowledge record per sample of the selection (never a rejected one): verified
 * records first, then the newest. Pairs are resolved on both sides; a twin outside the selection
 * is still named, with no knowledge id.
 */
export function selectKnowledge(db: Db, dataset: DatasetRow, options: SelectOptions): Selection {
  const where = ["k.dataset_id = ?", "k.status = 'accepted'"];
  const args: unknown[] = [dataset.id];
  if (options.split !== 'all') {
    where.push('s.split = ?');
    args.push(options.split);
  }
  if (options.teacher !== undefined) {
    where.push('k.teacher = ?');
    args.push(options.teacher);
  }
  const rows = db
    .prepare(
      `SELECT s.*, k.id AS k_id, k.teacher AS k_teacher, k.report AS k_report
       FROM knowledge k JOIN samples s ON s.id = k.sample_id
       WHERE ${where.join(' AND ')}
       ORDER BY k.sample_id, k.verified DESC, k.id DESC`,
    )
    .all(...args) as Row[];

  const items: KnowledgeItem[] = [];
  let alternatives = 0;
  let invalid = 0;
  let current = -1;
  let chosen = false;
  let samplesWithKnowledge = 0;
  for (const row of rows) {
    if (row.id !== current) {
      current = row.id;
      chosen = false;
      samplesWithKnowledge++;
    }
    if (chosen) {
      alternatives++;
      continue;
    }
    const parsed = parseReport(row.k_report ?? '');
    if (!parsed.ok) {
      invalid++;
      recordRejection(db, {
        stage: 'distill',
        datasetId: dataset.id,
        source: `knowledge:${row.k_id}`,
        line: null,
        reason: `accepted record has no valid report: ${parsed.problems[0]!.message}`,
      });
      continue;
    }
    const { k_id, k_teacher, k_report: _report, ...sampleRow } = row;
    const sample = decodeSample(sampleRow);
    const report = parsed.report;
    items.push({
      knowledgeId: k_id,
      teacher: k_teacher,
      report,
      sample,
      dataset: dataset.name,
      verdict: report.verdict,
      cwe: report.findings[0]?.cwe ?? sample.cwes.map((c) => normaliseCweId(c)).find((c) => c !== undefined) ?? null,
      pair: null,
    });
    chosen = true;
  }
  resolvePairs(db, dataset.id, items);
  return { items, samplesWithKnowledge, alternatives, invalid };
}

function resolvePairs(db: Db, datasetId: number, items: KnowledgeItem[]): void {
  const byPair = new Map<string, KnowledgeItem[]>();
  for (const item of items) {
    const id = item.sample.pair_id;
    if (!id) continue;
    const list = byPair.get(id);
    if (list) list.push(item);
    else byPair.set(id, [item]);
  }
  const others = db.prepare('SELECT id, label FROM samples WHERE dataset_id = ? AND pair_id = ? AND id != ? ORDER BY id');
  for (const [pairId, members] of byPair) {
    for (const item of members) {
      const role: PairInfo['role'] = item.verdict === 'vulnerable' ? 'vulnerable' : 'fixed';
      const twinItem = members.find((m) => m !== item && m.verdict !== item.verdict);
      let twinSample = twinItem?.sample.id ?? null;
      if (twinSample === null) {
        // The twin is not distilled (other split, no knowledge): name it from the samples table.
        const candidates = others.all(datasetId, pairId, item.sample.id) as Array<{ id: number; label: number | null }>;
        const wanted = role === 'vulnerable' ? 0 : 1;
        twinSample = (candidates.find((c) => c.label === wanted) ?? candidates[0])?.id ?? null;
      }
      item.pair = { id: pairId, role, twin_sample_id: twinSample, twin_knowledge_id: twinItem?.knowledgeId ?? null };
      // A negative is about the weakness its vulnerable twin has.
      if (item.verdict === 'not_vulnerable' && item.cwe === null && twinItem) item.cwe = twinItem.cwe;
    }
  }
}
