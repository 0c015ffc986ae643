import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Db } from './db.js';
import { nowIso } from './db.js';

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function newRunId(stage: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${stage}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Records a stage execution (provenance); returns its id. */
export function startRun(db: Db, stage: string, config: unknown, inputs: unknown): string {
  const id = newRunId(stage);
  db.prepare('INSERT INTO runs (id, stage, config, inputs, tool_version, started_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    id,
    stage,
    JSON.stringify(config ?? {}),
    JSON.stringify(inputs ?? {}),
    toolVersion(),
    nowIso(),
  );
  return id;
}

export function finishRun(db: Db, id: string, status: 'done' | 'failed' | 'interrupted', stats: unknown): void {
  db.prepare('UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?').run(nowIso(), status, JSON.stringify(stats ?? {}), id);
}
