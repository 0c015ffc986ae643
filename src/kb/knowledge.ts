import type { Db } from './db.js';
import { nowIso } from './db.js';

/** Why an answer was rejected: a stable code for grouping plus a one-line detail. */
export interface RejectionReason {
  code: string;
  detail: string;
}

/** What one attempt gave (kept for every attempt of a record). */
export interface AttemptSummary {
  attempt: number;
  temperature: number;
  status: 'accepted' | 'rejected';
  reasons: RejectionReason[];
  cached: boolean;
  repaired: boolean;
}

export interface KnowledgeInput {
  sampleId: number;
  datasetId: number;
  teacher: string;
  teacherProvider: string;
  teacherModel: string;
  promptVersion: string;
  promptHash: string;
  hinted: boolean;
  isLlm: boolean;
  status: 'accepted' | 'rejected';
  verified: boolean;
  reasons: RejectionReason[];
  report: unknown | null;
  rawOutput: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  attempt: number;
  attempts: AttemptSummary[];
  meta?: Record<string, unknown>;
  runId: string | null;
}

export interface KnowledgeRow {
  id: number;
  sample_id: number;
  dataset_id: number;
  teacher: string;
  teacher_provider: string;
  teacher_model: string;
  prompt_version: string;
  prompt_hash: string;
  hinted: number;
  is_llm: number;
  status: 'accepted' | 'rejected';
  verified: number;
  reasons: string;
  report: string | null;
  raw_output: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  attempt: number;
  attempts: string;
  meta: string;
  created_at: string;
  run_id: string | null;
}

/**
 * Writes one record. A record for the same (sample, teacher, prompt version) is replaced only when
 * `replace` is set (--refresh); otherwise the first one stays, so a resumed run never duplicates.
 */
export function saveKnowledge(db: Db, k: KnowledgeInput, replace = false): void {
  const columns = [
    'sample_id', 'dataset_id', 'teacher', 'teacher_provider', 'teacher_model', 'prompt_version', 'prompt_hash', 'hinted', 'is_llm',
    'status', 'verified', 'reasons', 'report', 'raw_output', 'prompt_tokens', 'completion_tokens', 'cost_usd', 'attempt', 'attempts',
    'meta', 'created_at', 'run_id',
  ];
  const key = new Set(['sample_id', 'teacher', 'prompt_version']);
  // An upsert keeps the record's id when --refresh replaces its content.
  const onConflict = replace
    ? `DO UPDATE SET ${columns.filter((c) => !key.has(c)).map((c) => `${c} = excluded.${c}`).join(', ')}`
    : 'DO NOTHING';
  db.prepare(
    `INSERT INTO knowledge (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})
     ON CONFLICT (sample_id, teacher, prompt_version) ${onConflict}`,
  ).run({
    sample_id: k.sampleId,
    dataset_id: k.datasetId,
    teacher: k.teacher,
    teacher_provider: k.teacherProvider,
    teacher_model: k.teacherModel,
    prompt_version: k.promptVersion,
    prompt_hash: k.promptHash,
    hinted: k.hinted ? 1 : 0,
    is_llm: k.isLlm ? 1 : 0,
    status: k.status,
    verified: k.verified ? 1 : 0,
    reasons: JSON.stringify(k.reasons),
    report: k.report === null ? null : JSON.stringify(k.report),
    raw_output: k.rawOutput,
    prompt_tokens: k.promptTokens,
    completion_tokens: k.completionTokens,
    cost_usd: k.costUsd,
    attempt: k.attempt,
    attempts: JSON.stringify(k.attempts),
    meta: JSON.stringify(k.meta ?? {}),
    created_at: nowIso(),
    run_id: k.runId,
  });
}

/** Sample ids (among `candidates`) that already have a record from this teacher and prompt version. */
export function samplesWithKnowledge(db: Db, datasetId: number, teacher: string, promptVersion: string): Set<number> {
  const rows = db
    .prepare('SELECT sample_id FROM knowledge WHERE dataset_id = ? AND teacher = ? AND prompt_version = ?')
    .all(datasetId, teacher, promptVersion) as Array<{ sample_id: number }>;
  return new Set(rows.map((r) => r.sample_id));
}

export function getKnowledge(db: Db, id: number): KnowledgeRow | undefined {
  return db.prepare('SELECT * FROM knowledge WHERE id = ?').get(id) as KnowledgeRow | undefined;
}

export function listKnowledge(db: Db, filter: { datasetId?: number; sampleId?: number; teacher?: string } = {}): KnowledgeRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.datasetId !== undefined) {
    where.push('dataset_id = ?');
    args.push(filter.datasetId);
  }
  if (filter.sampleId !== undefined) {
    where.push('sample_id = ?');
    args.push(filter.sampleId);
  }
  if (filter.teacher !== undefined) {
    where.push('teacher = ?');
    args.push(filter.teacher);
  }
  return db.prepare(`SELECT * FROM knowledge ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...args) as KnowledgeRow[];
}
