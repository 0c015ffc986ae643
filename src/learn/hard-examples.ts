/**
 * Training examples for hard cases: the accepted knowledge linked to accepted feedback, built
 * into the chosen tasks' conversations by distill's own task builders (the same prompts the
 * student was first trained with and the runtime asks).
 */
import { normaliseCweId } from '../cwe/index.js';
import { makeExample } from '../distill/example.js';
import { taskBuilders } from '../distill/tasks/index.js';
import type { DistillTask, ExampleLine, KnowledgeItem } from '../distill/types.js';
import type { Db } from '../kb/db.js';
import { getKnowledge } from '../kb/knowledge.js';
import { getSample } from '../kb/samples.js';
import { parseReport } from '../report/validate.js';

export interface HardExamples {
  examples: ExampleLine[];
  /** Knowledge items the examples came from, one per sample. */
  items: KnowledgeItem[];
  /** Tasks whose builder could not express an item (e.g. a report over the student's limits). */
  skipped: Array<{ knowledgeId: number; task: DistillTask; reason: string }>;
}

/** One knowledge record as distill reads it; undefined when it is not accepted or no longer parses. */
export function knowledgeItem(db: Db, knowledgeId: number): KnowledgeItem | undefined {
  const k = getKnowledge(db, knowledgeId);
  if (!k || k.status !== 'accepted' || k.report === null) return undefined;
  const parsed = parseReport(k.report);
  if (!parsed.ok) return undefined;
  const sample = getSample(db, k.sample_id);
  if (!sample) return undefined;
  const dataset = (db.prepare('SELECT name FROM datasets WHERE id = ?').get(sample.dataset_id) as { name: string }).name;
  const report = parsed.report;
  return {
    knowledgeId: k.id,
    teacher: k.teacher,
    report,
    sample,
    dataset,
    verdict: report.verdict,
    cwe: report.findings[0]?.cwe ?? sample.cwes.map((c) => normaliseCweId(c)).find((c) => c !== undefined) ?? null,
    pair: null,
  };
}

/** Examples of every task for each sample's newest linked record (knowledge ids in link order). */
export function buildHardExamples(db: Db, knowledgeIds: readonly number[], tasks: readonly DistillTask[], runId: string): HardExamples {
  const bySample = new Map<number, KnowledgeItem>();
  for (const id of knowledgeIds) {
    const item = knowledgeItem(db, id);
    if (item) bySample.set(item.sample.id, item);
  }
  const items = [...bySample.values()].sort((a, b) => a.sample.id - b.sample.id);
  const examples: ExampleLine[] = [];
  const skipped: HardExamples['skipped'] = [];
  for (const item of items) {
    for (const task of tasks) {
      const builder = taskBuilders[task];
      if (!builder.appliesTo(item)) continue;
      const built = builder.build(item);
      if (!built.ok) {
        skipped.push({ knowledgeId: item.knowledgeId, task, reason: built.reason });
        continue;
      }
      examples.push(makeExample(item, task, built.messages, runId));
    }
  }
  return { examples, items, skipped };
}
