import type { Db } from './db.js';
import { nowIso } from './db.js';
import { InputError } from '../util/errors.js';

export interface DatasetRow {
  id: number;
  name: string;
  format: string;
  source: string | null;
  created_at: string;
  meta: string;
}

export function getDataset(db: Db, name: string): DatasetRow | undefined {
  return db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as DatasetRow | undefined;
}

export function requireDataset(db: Db, name: string): DatasetRow {
  const row = getDataset(db, name);
  if (!row) {
    const names = listDatasets(db).map((d) => d.name);
    throw new InputError(`no dataset named "${name}"${names.length ? ` (have: ${names.join(', ')})` : ' (the knowledge base has none yet; see finesec ingest / synth)'}`);
  }
  return row;
}

/** Returns the dataset, creating it on first use. A name already used by another format is an error. */
export function ensureDataset(db: Db, name: string, format: string, source: string | null, meta: Record<string, unknown> = {}): DatasetRow {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new InputError(`dataset name "${name}": expected letters, digits, '.', '_' or '-' (at most 64)`);
  }
  const existing = getDataset(db, name);
  if (existing) {
    if (existing.format !== format) {
      throw new InputError(`dataset "${name}" already exists with format ${existing.format}, not ${format}; choose another --name`);
    }
    return existing;
  }
  db.prepare('INSERT INTO datasets (name, format, source, created_at, meta) VALUES (?, ?, ?, ?, ?)').run(
    name,
    format,
    source,
    nowIso(),
    JSON.stringify(meta),
  );
  return getDataset(db, name)!;
}

export function listDatasets(db: Db): DatasetRow[] {
  return db.prepare('SELECT * FROM datasets ORDER BY name').all() as DatasetRow[];
}
