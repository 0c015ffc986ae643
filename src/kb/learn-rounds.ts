import type { Db } from './db.js';
import { nowIso } from './db.js';

export type RoundDecision = 'promoted' | 'rejected' | 'stopped';

export interface LearnRoundRow {
  id: number;
  run_id: string;
  round: number;
  parent_id: string;
  candidate_id: string | null;
  decision: RoundDecision;
  reason: string;
  summary: string;
  created_at: string;
}

export function saveLearnRound(
  db: Db,
  r: { runId: string; round: number; parentId: string; candidateId: string | null; decision: RoundDecision; reason: string; summary: unknown },
): void {
  db.prepare(
    `INSERT INTO learn_rounds (run_id, round, parent_id, candidate_id, decision, reason, summary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, round) DO UPDATE SET candidate_id = excluded.candidate_id, decision = excluded.decision, reason = excluded.reason, summary = excluded.summary`,
  ).run(r.runId, r.round, r.parentId, r.candidateId, r.decision, r.reason, JSON.stringify(r.summary), nowIso());
}

export function listLearnRounds(db: Db, filter: { runId?: string; candidateId?: string } = {}): LearnRoundRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.runId) {
    where.push('run_id = ?');
    args.push(filter.runId);
  }
  if (filter.candidateId) {
    where.push('candidate_id = ?');
    args.push(filter.candidateId);
  }
  return db.prepare(`SELECT * FROM learn_rounds ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...args) as LearnRoundRow[];
}
