import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface Rejection {
  stage: string;
  datasetId: number | null;
  /** File (or other source) the bad input came from. */
  source: string;
  /** 1-based line, when the input has lines. */
  line: number | null;
  reason: string;
}

export function recordRejection(db: Db, r: Rejection): void {
  db.prepare(
    `INSERT OR IGNORE INTO rejections (stage, dataset_id, source, line, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(r.stage, r.datasetId, r.source, r.line, r.reason, nowIso());
}

export function countRejections(db: Db, stage: string, datasetId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM rejections WHERE stage = ? AND dataset_id = ?').get(stage, datasetId) as { n: number }).n;
}

export function listRejections(db: Db, stage: string, datasetId: number, limit = 1000): Array<Rejection & { id: number }> {
  return (
    db
      .prepare('SELECT id, stage, dataset_id, source, line, reason FROM rejections WHERE stage = ? AND dataset_id = ? ORDER BY id LIMIT ?')
      .all(stage, datasetId, limit) as Array<{ id: number; stage: string; dataset_id: number; source: string; line: number | null; reason: string }>
  ).map((r) => ({ id: r.id, stage: r.stage, datasetId: r.dataset_id, source: r.source, line: r.line, reason: r.reason }));
}
