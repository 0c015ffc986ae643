import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface CachedResponseRow {
  key: string;
  provider: string;
  model: string;
  prompt_version: string;
  response: string;
  created_at: string;
}

export function getCachedResponse(db: Db, key: string): CachedResponseRow | undefined {
  return db.prepare('SELECT * FROM teacher_cache WHERE key = ?').get(key) as CachedResponseRow | undefined;
}

export function putCachedResponse(db: Db, row: Omit<CachedResponseRow, 'created_at'>): void {
  db.prepare('INSERT OR REPLACE INTO teacher_cache (key, provider, model, prompt_version, response, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    row.key,
    row.provider,
    row.model,
    row.prompt_version,
    row.response,
    nowIso(),
  );
}

export function countCachedResponses(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM teacher_cache').get() as { n: number }).n;
}
