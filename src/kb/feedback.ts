import type { Db } from './db.js';
import { nowIso } from './db.js';

export const FEEDBACK_KINDS = ['false_positive', 'false_negative', 'wrong_cwe', 'ungrounded'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];
export type FeedbackSource = 'user' | 'sarif' | 'eval';
export type FeedbackStatus = 'accepted' | 'refused';

export function isFeedbackKind(value: string): value is FeedbackKind {
  return (FEEDBACK_KINDS as readonly string[]).includes(value);
}

/** One feedback item as it is about to be stored (status decided by the contamination check). */
export interface FeedbackInput {
  source: FeedbackSource;
  /** Eval run and model, SARIF file and result index; null for a user's item. */
  sourceRef: string | null;
  kind: FeedbackKind;
  sampleId: number | null;
  file: string | null;
  functionName: string | null;
  /** A scan finding's fingerprint. */
  finding: string | null;
  startLine: number | null;
  /** The CWE the student reported. */
  reportedCwe: string | null;
  /** The right CWE, when known (wrong_cwe, false_negative). */
  expectedCwe: string | null;
  note: string | null;
  codeHash: string | null;
  status: FeedbackStatus;
  reason: string | null;
  /** Identity of the item: storing the same key again is a no-op. */
  key: string;
}

export interface FeedbackRow {
  id: number;
  source: FeedbackSource;
  source_ref: string | null;
  kind: FeedbackKind;
  sample_id: number | null;
  file: string | null;
  function_name: string | null;
  finding: string | null;
  start_line: number | null;
  reported_cwe: string | null;
  expected_cwe: string | null;
  note: string | null;
  code_hash: string | null;
  status: FeedbackStatus;
  reason: string | null;
  key: string;
  created_at: string;
  updated_at: string;
}

/** Stores an item unless one with the same key exists; returns the stored row and whether it is new. */
export function saveFeedback(db: Db, f: FeedbackInput): { row: FeedbackRow; created: boolean } {
  const existing = db.prepare('SELECT * FROM feedback WHERE key = ?').get(f.key) as FeedbackRow | undefined;
  if (existing) return { row: existing, created: false };
  const now = nowIso();
  const info = db
    .prepare(
      `INSERT INTO feedback (source, source_ref, kind, sample_id, file, function_name, finding, start_line, reported_cwe, expected_cwe,
         note, code_hash, status, reason, key, created_at, updated_at)
       VALUES (@source, @source_ref, @kind, @sample_id, @file, @function_name, @finding, @start_line, @reported_cwe, @expected_cwe,
         @note, @code_hash, @status, @reason, @key, @now, @now)`,
    )
    .run({
      source: f.source,
      source_ref: f.sourceRef,
      kind: f.kind,
      sample_id: f.sampleId,
      file: f.file,
      function_name: f.functionName,
      finding: f.finding,
      start_line: f.startLine,
      reported_cwe: f.reportedCwe,
      expected_cwe: f.expectedCwe,
      note: f.note,
      code_hash: f.codeHash,
      status: f.status,
      reason: f.reason,
      key: f.key,
      now,
    });
  return { row: getFeedback(db, Number(info.lastInsertRowid))!, created: true };
}

export function getFeedback(db: Db, id: number): FeedbackRow | undefined {
  return db.prepare('SELECT * FROM feedback WHERE id = ?').get(id) as FeedbackRow | undefined;
}

export interface FeedbackFilter {
  status?: FeedbackStatus;
  kind?: FeedbackKind;
  source?: FeedbackSource;
  sourceRef?: string;
  ids?: readonly number[];
}

export function listFeedback(db: Db, filter: FeedbackFilter = {}): FeedbackRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.status) {
    where.push('status = ?');
    args.push(filter.status);
  }
  if (filter.kind) {
    where.push('kind = ?');
    args.push(filter.kind);
  }
  if (filter.source) {
    where.push('source = ?');
    args.push(filter.source);
  }
  if (filter.sourceRef) {
    where.push('source_ref = ?');
    args.push(filter.sourceRef);
  }
  if (filter.ids) {
    if (filter.ids.length === 0) return [];
    where.push(`id IN (${filter.ids.map(() => '?').join(', ')})`);
    args.push(...filter.ids);
  }
  return db.prepare(`SELECT * FROM feedback ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...args) as FeedbackRow[];
}

/** Refuses an item that was accepted (e.g. its code entered an evaluation split since), keeping the reason. */
export function refuseFeedback(db: Db, id: number, reason: string): void {
  db.prepare("UPDATE feedback SET status = 'refused', reason = ?, updated_at = ? WHERE id = ?").run(reason, nowIso(), id);
}

export function linkKnowledge(db: Db, feedbackId: number, knowledgeId: number, runId: string | null, reused: boolean): void {
  db.prepare(
    'INSERT OR IGNORE INTO feedback_knowledge (feedback_id, knowledge_id, run_id, reused, created_at) VALUES (?, ?, ?, ?, ?)',
  ).run(feedbackId, knowledgeId, runId, reused ? 1 : 0, nowIso());
}

/** Knowledge ids linked to each feedback item, in link order. */
export function linkedKnowledge(db: Db, feedbackIds: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (feedbackIds.length === 0) return out;
  const rows = db
    .prepare(
      `SELECT feedback_id, knowledge_id FROM feedback_knowledge WHERE feedback_id IN (${feedbackIds.map(() => '?').join(', ')})
       ORDER BY created_at, knowledge_id`,
    )
    .all(...feedbackIds) as Array<{ feedback_id: number; knowledge_id: number }>;
  for (const r of rows) {
    const list = out.get(r.feedback_id) ?? [];
    list.push(r.knowledge_id);
    out.set(r.feedback_id, list);
  }
  return out;
}

export function feedbackCounts(db: Db): Array<{ status: FeedbackStatus; kind: FeedbackKind; source: FeedbackSource; n: number }> {
  return db
    .prepare('SELECT status, kind, source, COUNT(*) AS n FROM feedback GROUP BY status, kind, source ORDER BY status, kind, source')
    .all() as Array<{ status: FeedbackStatus; kind: FeedbackKind; source: FeedbackSource; n: number }>;
}
