import type { Db } from './db.js';
import { nowIso } from './db.js';

export type AdapterStatus = 'candidate' | 'promoted' | 'rejected';
export type AdapterEventAction = 'register' | 'promote' | 'reject' | 'rollback';

export interface AdapterRow {
  id: string;
  /** Relative to the workspace when the file lives in it, else absolute. */
  path: string;
  sha256: string;
  base_path: string;
  base_sha256: string;
  parent_id: string | null;
  data_sha256: string | null;
  train_run_id: string | null;
  eval_run_ids: string;
  status: AdapterStatus;
  metrics: string;
  note: string | null;
  created_at: string;
  updated_at: string;
}

export interface AdapterInput {
  id: string;
  path: string;
  sha256: string;
  basePath: string;
  baseSha256: string;
  parentId: string | null;
  dataSha256: string | null;
  trainRunId: string | null;
  evalRunIds: string[];
  status: AdapterStatus;
  metrics: Record<string, unknown>;
  note: string | null;
}

export function insertAdapter(db: Db, a: AdapterInput): void {
  const now = nowIso();
  db.prepare(
    `INSERT INTO adapters (id, path, sha256, base_path, base_sha256, parent_id, data_sha256, train_run_id, eval_run_ids, status, metrics, note, created_at, updated_at)
     VALUES (@id, @path, @sha256, @base_path, @base_sha256, @parent_id, @data_sha256, @train_run_id, @eval_run_ids, @status, @metrics, @note, @now, @now)`,
  ).run({
    id: a.id,
    path: a.path,
    sha256: a.sha256,
    base_path: a.basePath,
    base_sha256: a.baseSha256,
    parent_id: a.parentId,
    data_sha256: a.dataSha256,
    train_run_id: a.trainRunId,
    eval_run_ids: JSON.stringify(a.evalRunIds),
    status: a.status,
    metrics: JSON.stringify(a.metrics),
    note: a.note,
    now,
  });
}

export function getAdapter(db: Db, id: string): AdapterRow | undefined {
  return db.prepare('SELECT * FROM adapters WHERE id = ?').get(id) as AdapterRow | undefined;
}

export function listAdapters(db: Db, filter: { status?: AdapterStatus; baseSha256?: string } = {}): AdapterRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.status) {
    where.push('status = ?');
    args.push(filter.status);
  }
  if (filter.baseSha256) {
    where.push('base_sha256 = ?');
    args.push(filter.baseSha256);
  }
  return db
    .prepare(`SELECT * FROM adapters ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, rowid`)
    .all(...args) as AdapterRow[];
}

export function setAdapterStatus(db: Db, id: string, status: AdapterStatus): void {
  db.prepare('UPDATE adapters SET status = ?, updated_at = ? WHERE id = ?').run(status, nowIso(), id);
}

/** Merges these keys into the adapter's metrics and appends eval run ids (kept unique, in order). */
export function updateAdapterEvaluation(db: Db, id: string, metrics: Record<string, unknown>, evalRunIds: string[]): void {
  const row = getAdapter(db, id);
  if (!row) return;
  const merged = { ...(JSON.parse(row.metrics) as Record<string, unknown>), ...metrics };
  const runs = [...new Set([...(JSON.parse(row.eval_run_ids) as string[]), ...evalRunIds])];
  db.prepare('UPDATE adapters SET metrics = ?, eval_run_ids = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(merged), JSON.stringify(runs), nowIso(), id);
}

/** The adapter in use for a base model, if any. */
export function currentAdapterId(db: Db, baseSha256: string): string | undefined {
  const row = db.prepare('SELECT adapter_id FROM adapter_current WHERE base_sha256 = ?').get(baseSha256) as { adapter_id: string } | undefined;
  return row?.adapter_id;
}

export function allCurrentAdapters(db: Db): Array<{ base_sha256: string; adapter_id: string; updated_at: string }> {
  return db.prepare('SELECT * FROM adapter_current ORDER BY updated_at, base_sha256').all() as Array<{ base_sha256: string; adapter_id: string; updated_at: string }>;
}

export function setCurrentAdapter(db: Db, baseSha256: string, adapterId: string | null): void {
  if (adapterId === null) {
    db.prepare('DELETE FROM adapter_current WHERE base_sha256 = ?').run(baseSha256);
    return;
  }
  db.prepare(
    `INSERT INTO adapter_current (base_sha256, adapter_id, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (base_sha256) DO UPDATE SET adapter_id = excluded.adapter_id, updated_at = excluded.updated_at`,
  ).run(baseSha256, adapterId, nowIso());
}

export interface AdapterEventRow {
  id: number;
  base_sha256: string;
  adapter_id: string;
  action: AdapterEventAction;
  previous_id: string | null;
  reason: string | null;
  created_at: string;
}

export function recordAdapterEvent(
  db: Db,
  e: { baseSha256: string; adapterId: string; action: AdapterEventAction; previousId: string | null; reason: string | null },
): void {
  db.prepare('INSERT INTO adapter_events (base_sha256, adapter_id, action, previous_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    e.baseSha256,
    e.adapterId,
    e.action,
    e.previousId,
    e.reason,
    nowIso(),
  );
}

export function adapterEvents(db: Db, filter: { baseSha256?: string; adapterId?: string } = {}): AdapterEventRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.baseSha256) {
    where.push('base_sha256 = ?');
    args.push(filter.baseSha256);
  }
  if (filter.adapterId) {
    where.push('adapter_id = ?');
    args.push(filter.adapterId);
  }
  return db.prepare(`SELECT * FROM adapter_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...args) as AdapterEventRow[];
}
