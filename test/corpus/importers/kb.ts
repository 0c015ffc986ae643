import { join } from 'node:path';
import { openKb, type Db } from '../../../src/kb/db.js';
import { loadImporter } from '../../../src/corpus/importers/index.js';
import { runImport, type ImportSummary } from '../../../src/corpus/importers/runner.js';
import type { ImportSettings } from '../../../src/corpus/importers/types.js';
import { decodeSample, type Sample, type SampleRow } from '../../../src/kb/samples.js';
import { SilentLogger } from '../../../src/util/log.js';

/** A real knowledge base in a temporary directory, and imports into it as the CLI runs them. */
export interface TestKb {
  db: Db;
  logger: SilentLogger;
  ingest(format: string, path: string, settings?: Partial<ImportSettings>): Promise<ImportSummary>;
  samples(dataset?: string): Sample[];
  sources(dataset?: string): Array<{ source_key: string; sample_id: number; label: number | null; pair_id: string | null; group_id: string | null }>;
  rejections(): Array<{ source: string; line: number | null; reason: string }>;
  close(): void;
}

export function openTestKb(dir: string): TestKb {
  const db = openKb(join(dir, 'kb.sqlite'));
  const logger = new SilentLogger();
  return {
    db,
    logger,
    async ingest(format, path, settings = {}) {
      const importer = await loadImporter(format);
      return runImport(db, importer, {
        path,
        dataset: 'd',
        batchSize: 3,
        maxFileBytes: 1_000_000,
        maxFunctionLines: 2_000,
        ...settings,
      }, logger);
    },
    samples(dataset = 'd') {
      return (db.prepare('SELECT s.* FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE d.name = ? ORDER BY s.id').all(dataset) as SampleRow[]).map(decodeSample);
    },
    sources(dataset = 'd') {
      return db
        .prepare('SELECT s.source_key, s.sample_id, s.label, s.pair_id, s.group_id FROM sample_sources s JOIN datasets d ON d.id = s.dataset_id WHERE d.name = ? ORDER BY s.id')
        .all(dataset) as ReturnType<TestKb['sources']>;
    },
    rejections() {
      return db.prepare('SELECT source, line, reason FROM rejections ORDER BY id').all() as ReturnType<TestKb['rejections']>;
    },
    close: () => db.close(),
  };
}
