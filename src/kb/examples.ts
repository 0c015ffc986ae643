import type { Db } from './db.js';
import { nowIso } from './db.js';
import type { ExampleLine, PairInfo } from '../distill/types.js';
import type { SplitSelection } from '../distill/select.js';

interface ExampleRow {
  example_id: string;
  dataset: string;
  selection: string;
  position: number;
  knowledge_id: number;
  sample_id: number;
  task: ExampleLine['task'];
  prompt_version: string;
  prompt_hash: string;
  teacher: string;
  label: ExampleLine['label'];
  cwe: string | null;
  messages: string;
  meta: string;
  tokens: number | null;
  split: string | null;
  content_hash: string;
  run_id: string;
}

interface StoredMeta {
  pair: PairInfo | null;
  code_lines: number;
}

/** Replaces the examples of (dataset, selection) with these, in this order, in one transaction. */
export function replaceExamples(db: Db, datasetId: number, selection: SplitSelection, examples: ExampleLine[]): void {
  const insert = db.prepare(`
    INSERT INTO examples (example_id, dataset_id, selection, position, knowledge_id, sample_id, task, prompt_version, prompt_hash,
      teacher, label, cwe, messages, meta, tokens, split, content_hash, run_id, created_at)
    VALUES (@example_id, @dataset_id, @selection, @position, @knowledge_id, @sample_id, @task, @prompt_version, @prompt_hash,
      @teacher, @label, @cwe, @messages, @meta, @tokens, @split, @content_hash, @run_id, @created_at)`);
  const now = nowIso();
  db.transaction(() => {
    db.prepare('DELETE FROM examples WHERE dataset_id = ? AND selection = ?').run(datasetId, selection);
    examples.forEach((e, position) => {
      const meta: StoredMeta = { pair: e.pair, code_lines: e.code_lines };
      insert.run({
        example_id: e.id,
        dataset_id: datasetId,
        selection,
        position,
        knowledge_id: e.knowledge_id,
        sample_id: e.sample_id,
        task: e.task,
        prompt_version: e.prompt_version,
        prompt_hash: e.prompt_hash,
        teacher: e.teacher,
        label: e.label,
        cwe: e.cwe,
        messages: JSON.stringify(e.messages),
        meta: JSON.stringify(meta),
        tokens: e.tokens,
        split: e.split,
        content_hash: e.content_hash,
        run_id: e.run_id,
        created_at: now,
      });
    });
  })();
}

/**
 * The stored examples of (dataset, selection) in training order, as the JSONL lines they were
 * written as. Without messages (for statistics), every example's messages are empty.
 */
export function loadExamples(db: Db, datasetId: number, selection: SplitSelection, options: { messages?: boolean } = {}): ExampleLine[] {
  const withMessages = options.messages ?? true;
  const columns = withMessages ? 'e.*' : "e.example_id, e.position, e.knowledge_id, e.sample_id, e.task, e.prompt_version, e.prompt_hash, e.teacher, e.label, e.cwe, '[]' AS messages, e.meta, e.tokens, e.split, e.content_hash, e.run_id";
  const rows = db
    .prepare(
      `SELECT ${columns}, d.name AS dataset FROM examples e JOIN datasets d ON d.id = e.dataset_id
       WHERE e.dataset_id = ? AND e.selection = ? ORDER BY e.position`,
    )
    .all(datasetId, selection) as ExampleRow[];
  return rows.map((r) => {
    const meta = JSON.parse(r.meta) as StoredMeta;
    return {
      messages: JSON.parse(r.messages) as ExampleLine['messages'],
      id: r.example_id,
      task: r.task,
      dataset: r.dataset,
      split: r.split,
      sample_id: r.sample_id,
      knowledge_id: r.knowledge_id,
      teacher: r.teacher,
      prompt_version: r.prompt_version,
      prompt_hash: r.prompt_hash,
      label: r.label,
      cwe: r.cwe,
      pair: meta.pair,
      code_lines: meta.code_lines,
      tokens: r.tokens,
      content_hash: r.content_hash,
      run_id: r.run_id,
    };
  });
}

export function countExamples(db: Db, datasetId: number, selection: SplitSelection, runId?: string): number {
  const sql = `SELECT COUNT(*) AS n FROM examples WHERE dataset_id = ? AND selection = ?${runId ? ' AND run_id = ?' : ''}`;
  const args: unknown[] = [datasetId, selection];
  if (runId) args.push(runId);
  return (db.prepare(sql).get(...args) as { n: number }).n;
}

/** (dataset, selection) pairs that hold examples. */
export function exampleSets(db: Db, datasetId?: number): Array<{ datasetId: number; dataset: string; selection: SplitSelection; examples: number }> {
  const rows = db
    .prepare(
      `SELECT e.dataset_id AS datasetId, d.name AS dataset, e.selection AS selection, COUNT(*) AS examples
       FROM examples e JOIN datasets d ON d.id = e.dataset_id
       ${datasetId !== undefined ? 'WHERE e.dataset_id = ?' : ''}
       GROUP BY e.dataset_id, e.selection ORDER BY d.name, e.selection`,
    )
    .all(...(datasetId !== undefined ? [datasetId] : [])) as Array<{ datasetId: number; dataset: string; selection: SplitSelection; examples: number }>;
  return rows;
}
