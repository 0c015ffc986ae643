/**
 * Versioned schema migrations. Each entry runs once, in order, inside a transaction; later stages
 * append entries (never edit a released one). The applied version is PRAGMA user_version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'corpus: datasets, samples, sample sources, rejections, import progress, runs',
    sql: `
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        source TEXT,
        created_at TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
      );

      -- One row per distinct (normalised) function in a dataset. Exact duplicates are merged here;
      -- every input row that produced it is kept in sample_sources, so nothing read is lost.
      CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        language TEXT NOT NULL CHECK (language IN ('c', 'cpp')),
        label INTEGER CHECK (label IN (0, 1)),
        label_conflict INTEGER NOT NULL DEFAULT 0,
        cwes TEXT NOT NULL DEFAULT '[]',
        flaw_lines TEXT NOT NULL DEFAULT '[]',
        pair_id TEXT,
        group_id TEXT,
        project TEXT,
        commit_id TEXT,
        commit_time TEXT,
        file TEXT,
        function_name TEXT,
        signature TEXT,
        start_line INTEGER,
        end_line INTEGER,
        split TEXT CHECK (split IN ('train', 'valid', 'test')),
        near_dup_cluster INTEGER,
        occurrences INTEGER NOT NULL DEFAULT 1,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (dataset_id, code_hash)
      );
      CREATE INDEX samples_dataset_split ON samples (dataset_id, split);
      CREATE INDEX samples_pair ON samples (dataset_id, pair_id);
      CREATE INDEX samples_group ON samples (dataset_id, group_id);

      CREATE TABLE sample_sources (
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        source_key TEXT NOT NULL,
        label INTEGER,
        cwes TEXT NOT NULL DEFAULT '[]',
        pair_id TEXT,
        group_id TEXT,
        project TEXT,
        commit_id TEXT,
        file TEXT,
        function_name TEXT,
        meta TEXT NOT NULL DEFAULT '{}',
        UNIQUE (dataset_id, source_key)
      );
      CREATE INDEX sample_sources_sample ON sample_sources (sample_id);

      -- Input that could not be used: kept with where it came from and why.
      CREATE TABLE rejections (
        id INTEGER PRIMARY KEY,
        stage TEXT NOT NULL,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        line INTEGER,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (stage, dataset_id, source, line, reason)
      );

      -- How far an import of one input file got; lets an interrupted import resume.
      CREATE TABLE import_progress (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        units_done INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (dataset_id, path)
      );

      -- Provenance: every stage execution, its frozen config, inputs and outcome.
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        stage TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        inputs TEXT NOT NULL DEFAULT '{}',
        tool_version TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
        stats TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
];
