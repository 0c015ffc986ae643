import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations, type Migration } from './migrations.js';
import { InputError } from '../util/errors.js';

export type Db = Database.Database;

/** Opens (creating if needed) a knowledge base and brings its schema up to date. */
export function openKb(path: string, options: { readonly?: boolean } = {}): Db {
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new InputError(`${path}: cannot open knowledge base: ${(err as Error).message}`, err);
  }
  try {
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) migrate(db, migrations);
    else checkVersion(db, path);
  } catch (err) {
    db.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`${path}: not a finesec knowledge base (${(err as Error).message})`, err);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function checkVersion(db: Db, path: string): void {
  const latest = migrations[migrations.length - 1]!.version;
  const have = schemaVersion(db);
  if (have > latest) throw new InputError(`${path}: schema version ${have} is newer than this finesec (${latest}); upgrade finesec`);
}

export function migrate(db: Db, list: Migration[]): void {
  const have = schemaVersion(db);
  const latest = list[list.length - 1]?.version ?? 0;
  if (have > latest) {
    throw new InputError(`knowledge base schema version ${have} is newer than this finesec supports (${latest}); upgrade finesec`);
  }
  for (const m of list) {
    if (m.version <= have) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
