import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openKb, type Db } from '../kb/db.js';
import { loadConfig } from './load.js';
import { configTemplate } from './template.js';
import type { FinesecConfig } from './schema.js';
import type { Logger } from '../util/log.js';
import { InputError } from '../util/errors.js';

export interface WorkspacePaths {
  root: string;
  kb: string;
  config: string;
  runs: string;
  adapters: string;
  exports: string;
}

export function workspacePaths(dir: string): WorkspacePaths {
  const root = resolve(dir);
  return {
    root,
    kb: join(root, 'kb.sqlite'),
    config: join(root, 'finesec.yaml'),
    runs: join(root, 'runs'),
    adapters: join(root, 'adapters'),
    exports: join(root, 'exports'),
  };
}

/** Creates the workspace folders, the commented config and the knowledge base. Idempotent. */
export function initWorkspace(dir: string): { paths: WorkspacePaths; created: boolean } {
  const paths = workspacePaths(dir);
  const created = !existsSync(paths.kb);
  for (const d of [paths.root, paths.runs, paths.adapters, paths.exports]) mkdirSync(d, { recursive: true });
  if (!existsSync(paths.config)) writeFileSync(paths.config, configTemplate);
  openKb(paths.kb).close();
  return { paths, created };
}

export interface Workspace {
  paths: WorkspacePaths;
  config: FinesecConfig;
  db: Db;
  close(): void;
}

/**
 * Opens a workspace for a command. Commands that write create it on first use (saying so);
 * read-only commands fail with a hint instead.
 */
export function openWorkspace(dir: string, options: { create: boolean; logger?: Logger }): Workspace {
  const paths = workspacePaths(dir);
  if (!existsSync(paths.kb)) {
    if (!options.create) throw new InputError(`no workspace at ${paths.root} (run: finesec init ${dir === '.finesec' ? '' : dir})`.trim());
    initWorkspace(dir);
    options.logger?.info(`created workspace ${paths.root}`);
  }
  const config = loadConfig(paths.config);
  const db = openKb(paths.kb);
  return { paths, config, db, close: () => db.close() };
}
