import type { Db } from '../kb/db.js';
import type { RejectionReason } from '../kb/knowledge.js';

export interface KnowledgeStats {
  records: number;
  accepted: number;
  rejected: number;
  acceptanceRate: number;
  verified: number;
  hinted: number;
  llm: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  byCwe: Array<{ cwe: string; records: number; accepted: number; rate: number }>;
  rejectionReasons: Array<{ code: string; count: number }>;
  byTeacher: Array<{ teacher: string; promptVersion: string; records: number; accepted: number; costUsd: number }>;
}

/**
 * Acceptance by CWE uses the sample's ground truth (its first labelled CWE; "not vulnerable" or
 * "unlabelled" otherwise), so a teacher that answers the wrong CWE counts against the right one.
 */
export function knowledgeStats(db: Db, filter: { datasetId?: number; teacher?: string } = {}): KnowledgeStats {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.datasetId !== undefined) {
    where.push('k.dataset_id = ?');
    args.push(filter.datasetId);
  }
  if (filter.teacher !== undefined) {
    where.push('k.teacher = ?');
    args.push(filter.teacher);
  }
  const rows = db
    .prepare(
      `SELECT k.status, k.reasons, k.verified, k.hinted, k.is_llm, k.prompt_tokens, k.completion_tokens, k.cost_usd, k.teacher,
              k.prompt_version, s.label, s.cwes
       FROM knowledge k JOIN samples s ON s.id = k.sample_id ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`,
    )
    .all(...args) as Array<{
    status: string;
    reasons: string;
    verified: number;
    hinted: number;
    is_llm: number;
    prompt_tokens: number;
    completion_tokens: number;
    cost_usd: number;
    teacher: string;
    prompt_version: string;
    label: number | null;
    cwes: string;
  }>;
  const stats: KnowledgeStats = {
    records: rows.length,
    accepted: 0,
    rejected: 0,
    acceptanceRate: 0,
    verified: 0,
    hinted: 0,
    llm: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    byCwe: [],
    rejectionReasons: [],
    byTeacher: [],
  };
  const cwe = new Map<string, { records: number; accepted: number }>();
  const reasons = new Map<string, number>();
  const teachers = new Map<string, { teacher: string; promptVersion: string; records: number; accepted: number; costUsd: number }>();
  for (const r of rows) {
    const ok = r.status === 'accepted';
    if (ok) stats.accepted++;
    else stats.rejected++;
    stats.verified += r.verified;
    stats.hinted += r.hinted;
    stats.llm += r.is_llm;
    stats.promptTokens += r.prompt_tokens;
    stats.completionTokens += r.completion_tokens;
    stats.costUsd += r.cost_usd;
    const cwes = JSON.parse(r.cwes) as string[];
    const key = r.label === 0 ? 'not vulnerable' : (cwes[0] ?? (r.label === 1 ? 'vulnerable, no CWE' : 'unlabelled'));
    const c = cwe.get(key) ?? { records: 0, accepted: 0 };
    c.records++;
    if (ok) c.accepted++;
    cwe.set(key, c);
    for (const reason of JSON.parse(r.reasons) as RejectionReason[]) reasons.set(reason.code, (reasons.get(reason.code) ?? 0) + 1);
    const tkey = `${r.teacher}\u0000${r.prompt_version}`;
    const t = teachers.get(tkey) ?? { teacher: r.teacher, promptVersion: r.prompt_version, records: 0, accepted: 0, costUsd: 0 };
    t.records++;
    if (ok) t.accepted++;
    t.costUsd += r.cost_usd;
    teachers.set(tkey, t);
  }
  stats.acceptanceRate = rows.length ? stats.accepted / rows.length : 0;
  stats.byCwe = [...cwe.entries()]
    .map(([k, v]) => ({ cwe: k, records: v.records, accepted: v.accepted, rate: v.accepted / v.records }))
    .sort((a, b) => b.records - a.records || a.cwe.localeCompare(b.cwe));
  stats.rejectionReasons = [...reasons.entries()].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  stats.byTeacher = [...teachers.values()].sort((a, b) => b.records - a.records);
  return stats;
}
