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
  {
    version: 2,
    name: 'corpus: near-duplicate clustering state per dataset (cache signature)',
    sql: `
      -- What samples.near_dup_cluster was computed from: recomputed only when the signature
      -- (samples' ids and code hashes, the MinHash settings, the tokenizer version) changes.
      CREATE TABLE near_dup_state (
        dataset_id INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
        signature TEXT NOT NULL,
        settings TEXT NOT NULL,
        stats TEXT NOT NULL DEFAULT '{}',
        computed_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'teacher: knowledge records and the teacher response cache',
    sql: `
      -- One teacher answer per (sample, teacher, prompt version), accepted or rejected with its
      -- reasons; rejected records are kept (never trained on) so failures can be inspected.
      CREATE TABLE knowledge (
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        teacher TEXT NOT NULL,
        teacher_provider TEXT NOT NULL,
        teacher_model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        hinted INTEGER NOT NULL CHECK (hinted IN (0, 1)),
        is_llm INTEGER NOT NULL CHECK (is_llm IN (0, 1)),
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        -- 1 when the answer was checked against the sample's ground truth (label, CWE).
        verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
        reasons TEXT NOT NULL DEFAULT '[]',
        report TEXT,
        raw_output TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        -- The attempt (1-based) whose answer this record holds, and what every attempt gave.
        attempt INTEGER NOT NULL,
        attempts TEXT NOT NULL DEFAULT '[]',
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        run_id TEXT REFERENCES runs(id),
        UNIQUE (sample_id, teacher, prompt_version)
      );
      CREATE INDEX knowledge_dataset_status ON knowledge (dataset_id, status);

      -- Successful teacher responses keyed by a hash of the full effective request, the provider
      -- and the model; errors are never stored here.
      CREATE TABLE teacher_cache (
        key TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'distill: training examples',
    sql: `
      -- The examples of the latest distill run per (dataset, selection), in training order.
      -- selection is the split that was distilled (train, valid, test or all); split is the sample's.
      CREATE TABLE examples (
        id INTEGER PRIMARY KEY,
        example_id TEXT NOT NULL,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        selection TEXT NOT NULL CHECK (selection IN ('train', 'valid', 'test', 'all')),
        position INTEGER NOT NULL,
        knowledge_id INTEGER NOT NULL REFERENCES knowledge(id) ON DELETE CASCADE,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        task TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        teacher TEXT NOT NULL,
        label TEXT NOT NULL CHECK (label IN ('vulnerable', 'not_vulnerable')),
        cwe TEXT,
        messages TEXT NOT NULL,
        -- The rest of the example's metadata (pair, code lines), as written to the JSONL.
        meta TEXT NOT NULL DEFAULT '{}',
        tokens INTEGER,
        split TEXT,
        content_hash TEXT NOT NULL,
        run_id TEXT NOT NULL REFERENCES runs(id),
        created_at TEXT NOT NULL,
        UNIQUE (dataset_id, selection, example_id)
      );
      CREATE INDEX examples_order ON examples (dataset_id, selection, position);
    `,
  },
  {
    version: 5,
    name: 'scan: per-function report cache and model file hashes',
    sql: `
      -- One student answer per (normalised function code, model, adapters, prompt version, rest of
      -- the request: language, hints, max tokens). line_map holds the original line of each
      -- normalised line, so a hit on code that differs only in comments or layout can move the
      -- report's line numbers onto the new text. status 'split' / 'too_long' record that the code
      -- did not fit the context (report holds the parts / error the reason). Errors are never stored.
      CREATE TABLE scan_cache (
        code_hash TEXT NOT NULL,
        model_id TEXT NOT NULL,
        adapter_hash TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        code_sha TEXT NOT NULL,
        line_map TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('grounded', 'ungrounded', 'invalid', 'truncated', 'split', 'too_long')),
        report TEXT,
        error TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        PRIMARY KEY (code_hash, model_id, adapter_hash, prompt_version, request_hash)
      );

      -- Content hashes of model and adapter files (the cache's model identity), valid while the
      -- file's size and modification time are unchanged.
      CREATE TABLE scan_file_hashes (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        sha256 TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'eval: per-sample predictions of every eval run',
    sql: `
      -- What each model or baseline answered for each sample of an eval run, and whether it was
      -- right: the continual-learning stage harvests its errors from here. model is the run's
      -- display name, spec the --model SPEC (or the baseline's name).
      CREATE TABLE eval_predictions (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        spec TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('model', 'baseline')),
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        label INTEGER NOT NULL CHECK (label IN (0, 1)),
        predicted INTEGER NOT NULL CHECK (predicted IN (0, 1)),
        correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
        -- 1 when a predicted CWE matches a true one (exact or related in the catalog), null when not scored.
        cwe_correct INTEGER CHECK (cwe_correct IN (0, 1)),
        verdict TEXT CHECK (verdict IN ('vulnerable', 'not_vulnerable')),
        cwes TEXT NOT NULL DEFAULT '[]',
        lines TEXT NOT NULL DEFAULT '[]',
        score REAL NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        raw_output TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, model, sample_id)
      );
      CREATE INDEX eval_predictions_sample ON eval_predictions (sample_id);
      CREATE INDEX eval_predictions_run_model ON eval_predictions (run_id, model, correct);
    `,
  },
  {
    version: 7,
    name: 'learn: feedback, the adapter registry and continual-learning rounds',
    sql: `
      -- Something the student got wrong: from a user, a triaged SARIF file or an eval run. Every
      -- item is checked against every evaluation split; a refused one keeps its reason and is
      -- never learned. key is the item's identity, so adding, importing or harvesting it again
      -- changes nothing.
      CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('user', 'sarif', 'eval')),
        source_ref TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('false_positive', 'false_negative', 'wrong_cwe', 'ungrounded')),
        sample_id INTEGER REFERENCES samples(id) ON DELETE SET NULL,
        file TEXT,
        function_name TEXT,
        finding TEXT,
        start_line INTEGER,
        reported_cwe TEXT,
        expected_cwe TEXT,
        note TEXT,
        code_hash TEXT,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'refused')),
        reason TEXT,
        key TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX feedback_status ON feedback (status, kind);

      -- Knowledge the teacher wrote (or had written) because of a feedback item.
      CREATE TABLE feedback_knowledge (
        feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
        knowledge_id INTEGER NOT NULL REFERENCES knowledge(id) ON DELETE CASCADE,
        run_id TEXT REFERENCES runs(id),
        reused INTEGER NOT NULL CHECK (reused IN (0, 1)),
        created_at TEXT NOT NULL,
        PRIMARY KEY (feedback_id, knowledge_id)
      );

      -- Registered LoRA adapters with their lineage. path is relative to the workspace when the
      -- file lives in it; sha256 is checked whenever the adapter is used.
      CREATE TABLE adapters (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        base_path TEXT NOT NULL,
        base_sha256 TEXT NOT NULL,
        parent_id TEXT REFERENCES adapters(id),
        data_sha256 TEXT,
        train_run_id TEXT,
        eval_run_ids TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL CHECK (status IN ('candidate', 'promoted', 'rejected')),
        metrics TEXT NOT NULL DEFAULT '{}',
        note TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX adapters_base ON adapters (base_sha256, status);

      -- The adapter in use for each base model (adapter:current).
      CREATE TABLE adapter_current (
        base_sha256 TEXT PRIMARY KEY,
        adapter_id TEXT NOT NULL REFERENCES adapters(id),
        updated_at TEXT NOT NULL
      );

      -- Every change of status or of the current adapter, with the one it replaced: rollback
      -- walks back through this history.
      CREATE TABLE adapter_events (
        id INTEGER PRIMARY KEY,
        base_sha256 TEXT NOT NULL,
        adapter_id TEXT NOT NULL REFERENCES adapters(id),
        action TEXT NOT NULL CHECK (action IN ('register', 'promote', 'reject', 'rollback')),
        previous_id TEXT REFERENCES adapters(id),
        reason TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX adapter_events_base ON adapter_events (base_sha256, id);

      -- One round of finesec learn: the candidate it trained, the gate's decision and its figures.
      CREATE TABLE learn_rounds (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id),
        round INTEGER NOT NULL,
        parent_id TEXT NOT NULL REFERENCES adapters(id),
        candidate_id TEXT REFERENCES adapters(id),
        decision TEXT NOT NULL CHECK (decision IN ('promoted', 'rejected', 'stopped')),
        reason TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (run_id, round)
      );
    `,
  },
];
