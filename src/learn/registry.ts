/**
 * The adapter registry: every adapter finesec trains, imports or is given, with its lineage
 * (parent, data snapshot, training run, eval runs), a status (candidate, promoted, rejected) and,
 * per base model, the current adapter. A registered file is copied into the workspace
 * (adapters/<id>/adapter.gguf) and never written again, and its sha256 is checked on every use,
 * so promoting and rolling back only move a pointer: the bytes in use are exactly the registered ones.
 *
 * Promotion history is a stack per base model: promote pushes, rollback pops (the rolled-back
 * adapter becomes rejected, the one below becomes current again).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Db } from '../kb/db.js';
import {
  adapterEvents,
  allCurrentAdapters,
  currentAdapterId,
  getAdapter,
  insertAdapter,
  listAdapters,
  recordAdapterEvent,
  setAdapterStatus,
  setCurrentAdapter,
  updateAdapterEvaluation,
  type AdapterRow,
} from '../kb/adapters.js';
import type { WorkspacePaths } from '../config/workspace.js';
import { checkAdapterFitsBase, readBaseModel } from '../runtime/adapter-check.js';
import type { AdapterSpec } from '../runtime/local-student.js';
import { InputError, UsageError } from '../util/errors.js';
import { copyFileAtomic, fileSha256, newId } from './files.js';

export interface RegistryWorkspace {
  db: Db;
  paths: WorkspacePaths;
}

/** The id that names the current adapter (of the only base model that has one). */
export const CURRENT = 'current';
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RegisterOptions {
  /** The GGUF LoRA adapter; copied into the workspace. */
  file: string;
  /** The base model GGUF it was trained on. */
  base: string;
  id?: string;
  parentId?: string | null;
  dataSha256?: string | null;
  trainRunId?: string | null;
  evalRunIds?: string[];
  /** promoted also makes it the current adapter of its base. Default candidate. */
  status?: 'candidate' | 'promoted';
  metrics?: Record<string, unknown>;
  note?: string | null;
}

export function registerAdapter(ws: RegistryWorkspace, o: RegisterOptions): AdapterRow {
  const id = o.id ?? newId('ad');
  if (!ID.test(id) || id === CURRENT) throw new UsageError(`adapter id "${id}": expected letters, digits, '.', '_' or '-' (at most 64), and not "${CURRENT}"`);
  if (getAdapter(ws.db, id)) throw new UsageError(`adapter id "${id}" is already registered`);
  if (!existsSync(o.file)) throw new InputError(`${o.file}: no such adapter file`);
  if (!existsSync(o.base)) throw new InputError(`${o.base}: no such base model file`);
  if (o.parentId && !getAdapter(ws.db, o.parentId)) throw new InputError(`parent adapter "${o.parentId}" is not registered`);
  const base = readBaseModel(o.base);
  checkAdapterFitsBase(o.file, base);
  const baseSha256 = fileSha256(o.base);
  if (o.parentId) {
    const parent = getAdapter(ws.db, o.parentId)!;
    if (parent.base_sha256 !== baseSha256) throw new InputError(`adapter ${id}: its base differs from the base of its parent ${o.parentId} (sha256 ${parent.base_sha256.slice(0, 12)})`);
  }
  const target = join(ws.paths.adapters, id, 'adapter.gguf');
  copyFileAtomic(o.file, target);
  const sha256 = fileSha256(target);
  if (sha256 !== fileSha256(o.file)) throw new InputError(`${o.file}: changed while it was being copied; register it again`);
  ws.db.transaction(() => {
    insertAdapter(ws.db, {
      id,
      path: storedPath(ws.paths, target),
      sha256,
      basePath: resolve(o.base),
      baseSha256,
      parentId: o.parentId ?? null,
      dataSha256: o.dataSha256 ?? null,
      trainRunId: o.trainRunId ?? null,
      evalRunIds: o.evalRunIds ?? [],
      status: 'candidate',
      metrics: o.metrics ?? {},
      note: o.note ?? null,
    });
    recordAdapterEvent(ws.db, { baseSha256, adapterId: id, action: 'register', previousId: null, reason: o.note ?? null });
    if (o.status === 'promoted') promoteAdapter(ws.db, id, 'registered as promoted');
  })();
  return getAdapter(ws.db, id)!;
}

function storedPath(paths: WorkspacePaths, file: string): string {
  const rel = relative(paths.root, resolve(file));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(file) : rel;
}

export function adapterFilePath(paths: WorkspacePaths, row: Pick<AdapterRow, 'path'>): string {
  return isAbsolute(row.path) ? row.path : join(paths.root, row.path);
}

/** The adapter with this id (or `current`), or an error listing what exists. */
export function requireAdapter(db: Db, id: string): AdapterRow {
  if (id === CURRENT) {
    const current = allCurrentAdapters(db);
    if (current.length === 0) throw new InputError('no adapter is current yet (finesec adapters promote ID)');
    if (current.length > 1) {
      throw new UsageError(`several base models have a current adapter (${current.map((c) => c.adapter_id).join(', ')}); name one by its id`);
    }
    return getAdapter(db, current[0]!.adapter_id)!;
  }
  const row = getAdapter(db, id);
  if (!row) {
    const ids = listAdapters(db).map((a) => a.id);
    throw new InputError(`no adapter "${id}" in the registry${ids.length ? ` (have: ${ids.slice(-10).join(', ')})` : ' (finesec adapters register FILE --base BASE)'}`);
  }
  return row;
}

/** The base model and adapter file of a registered adapter, after checking both are the registered bytes. */
export function resolveAdapter(ws: RegistryWorkspace, id: string): { row: AdapterRow; base: string; adapter: string } {
  const row = requireAdapter(ws.db, id);
  const adapter = adapterFilePath(ws.paths, row);
  if (!existsSync(adapter)) throw new InputError(`adapter ${row.id}: its file ${adapter} is missing`);
  if (fileSha256(adapter) !== row.sha256) throw new InputError(`adapter ${row.id}: ${adapter} changed since it was registered (sha256 differs)`);
  if (!existsSync(row.base_path)) throw new InputError(`adapter ${row.id}: its base model ${row.base_path} is missing`);
  if (fileSha256(row.base_path) !== row.base_sha256) {
    throw new InputError(`adapter ${row.id}: the base model ${row.base_path} changed since the adapter was registered (sha256 differs)`);
  }
  return { row, base: row.base_path, adapter };
}

/** What `adapter:ID` model specs resolve through (eval, scan). */
export function workspaceRegistry(ws: RegistryWorkspace): { resolve(id: string): { base: string; adapters: AdapterSpec[] } } {
  return {
    resolve(id: string) {
      const r = resolveAdapter(ws, id);
      return { base: r.base, adapters: [{ path: r.adapter, scale: 1 }] };
    },
  };
}

/** Promotion stack of a base model, oldest first: promote pushes, rollback pops. */
export function promotionStack(db: Db, baseSha256: string): string[] {
  const stack: string[] = [];
  for (const e of adapterEvents(db, { baseSha256 })) {
    if (e.action === 'promote') stack.push(e.adapter_id);
    else if (e.action === 'rollback') stack.pop();
  }
  return stack;
}

/** Makes an adapter promoted and current for its base model; the one it replaces is remembered. */
export function promoteAdapter(db: Db, id: string, reason: string | null): { adapter: AdapterRow; previous: string | null } {
  const row = requireAdapter(db, id);
  const previous = currentAdapterId(db, row.base_sha256) ?? null;
  if (previous === row.id && row.status === 'promoted') return { adapter: row, previous };
  db.transaction(() => {
    setAdapterStatus(db, row.id, 'promoted');
    setCurrentAdapter(db, row.base_sha256, row.id);
    recordAdapterEvent(db, { baseSha256: row.base_sha256, adapterId: row.id, action: 'promote', previousId: previous, reason });
  })();
  return { adapter: getAdapter(db, row.id)!, previous };
}

/** Keeps a candidate as rejected, with the numbers that decided it. The current adapter cannot be rejected (roll it back). */
export function rejectAdapter(db: Db, id: string, reason: string, metrics: Record<string, unknown> = {}): AdapterRow {
  const row = requireAdapter(db, id);
  if (currentAdapterId(db, row.base_sha256) === row.id) throw new UsageError(`adapter ${row.id} is current; roll it back instead (finesec adapters rollback)`);
  db.transaction(() => {
    setAdapterStatus(db, row.id, 'rejected');
    updateAdapterEvaluation(db, row.id, { ...metrics, rejected: { reason } }, []);
    recordAdapterEvent(db, { baseSha256: row.base_sha256, adapterId: row.id, action: 'reject', previousId: null, reason });
  })();
  return getAdapter(db, row.id)!;
}

export interface RollbackResult {
  /** The adapter that was current and is now rejected. */
  from: AdapterRow;
  /** The adapter current again. */
  to: AdapterRow;
}

/**
 * Makes the previously promoted adapter of a base model current again. adapterOrCurrent names any
 * adapter of that base (or is undefined when exactly one base model has a current adapter).
 */
export function rollbackAdapter(db: Db, adapterOrCurrent: string | undefined, reason: string | null): RollbackResult {
  const named = requireAdapter(db, adapterOrCurrent ?? CURRENT);
  const base = named.base_sha256;
  const currentId = currentAdapterId(db, base);
  if (!currentId) throw new InputError(`no adapter is current for the base model of ${named.id}`);
  const stack = promotionStack(db, base);
  if (stack[stack.length - 1] !== currentId || stack.length < 2) {
    throw new InputError(`adapter ${currentId} was the first one promoted for its base model: there is nothing to roll back to`);
  }
  const to = getAdapter(db, stack[stack.length - 2]!)!;
  db.transaction(() => {
    setAdapterStatus(db, currentId, 'rejected');
    updateAdapterEvaluation(db, currentId, { rolled_back: { to: to.id, reason } }, []);
    if (to.status !== 'promoted') setAdapterStatus(db, to.id, 'promoted');
    setCurrentAdapter(db, base, to.id);
    recordAdapterEvent(db, { baseSha256: base, adapterId: to.id, action: 'rollback', previousId: currentId, reason });
  })();
  return { from: getAdapter(db, currentId)!, to: getAdapter(db, to.id)! };
}

/** The chain of parents of an adapter, itself first. */
export function lineage(db: Db, id: string): AdapterRow[] {
  const out: AdapterRow[] = [];
  const seen = new Set<string>();
  let row = getAdapter(db, id);
  while (row && !seen.has(row.id)) {
    out.push(row);
    seen.add(row.id);
    row = row.parent_id ? getAdapter(db, row.parent_id) : undefined;
  }
  return out;
}
