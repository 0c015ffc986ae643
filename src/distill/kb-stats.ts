import type { Db } from '../kb/db.js';
import { exampleSets, loadExamples } from '../kb/examples.js';
import type { DistillSummary } from './distill.js';
import type { SplitSelection } from './select.js';
import { exampleFigures, type ExampleFigures } from './stats.js';

export interface ExampleSetStats {
  dataset: string;
  selection: SplitSelection;
  /** Accepted knowledge records of the dataset (what distill can draw on). */
  acceptedKnowledge: number;
  figures: ExampleFigures;
  /** The distill run that wrote these examples (its filtering figures). */
  run: Pick<DistillSummary, 'run' | 'decontamination' | 'balance' | 'studentFormDropped' | 'length' | 'selection' | 'built' | 'written'> | null;
}

/** `finesec distill stats`: the data card's figures for every example set in the KB. */
export function distillStats(db: Db, datasetId?: number): ExampleSetStats[] {
  return exampleSets(db, datasetId).map((set) => {
    const examples = loadExamples(db, set.datasetId, set.selection, { messages: false });
    const accepted = (db.prepare("SELECT COUNT(*) AS n FROM knowledge WHERE dataset_id = ? AND status = 'accepted'").get(set.datasetId) as { n: number }).n;
    return { dataset: set.dataset, selection: set.selection, acceptedKnowledge: accepted, figures: exampleFigures(examples), run: runSummary(db, examples[0]?.run_id) };
  });
}

export function runSummary(db: Db, runId: string | undefined): ExampleSetStats['run'] {
  if (!runId) return null;
  const row = db.prepare("SELECT stats FROM runs WHERE id = ? AND stage = 'distill'").get(runId) as { stats: string } | undefined;
  if (!row) return null;
  const s = JSON.parse(row.stats) as Partial<DistillSummary>;
  if (!s.decontamination || !s.balance || !s.selection) return null;
  return {
    run: runId,
    decontamination: s.decontamination,
    balance: s.balance,
    studentFormDropped: s.studentFormDropped ?? 0,
    length: s.length ?? null,
    selection: s.selection,
    built: s.built ?? 0,
    written: s.written ?? 0,
  };
}

export function renderFigures(f: ExampleFigures): string[] {
  const lines: string[] = [];
  lines.push(`  examples ${f.examples} from ${f.samples} samples (${f.knowledgeRecords} knowledge records)`);
  lines.push(`  by task: ${f.byTask.map((t) => `${t.task} ${t.examples}`).join(', ')}`);
  lines.push(`  by label: vulnerable ${f.byLabel.vulnerable}, not_vulnerable ${f.byLabel.not_vulnerable}`);
  const cwes = f.byCwe.slice(0, 12).map((c) => `${c.cwe} ${c.examples} (${c.vulnerable}/${c.not_vulnerable})`);
  lines.push(`  by CWE (vulnerable/not): ${cwes.join(', ')}${f.byCwe.length > 12 ? `, ... ${f.byCwe.length - 12} more` : ''}`);
  lines.push(`  pairs: ${f.pairs.examplesWithPair} examples with pair info, ${f.pairs.completePairs} complete pairs`);
  lines.push(
    f.tokens
      ? `  tokens: ${f.tokens.counted} counted, total ${f.tokens.total}, min ${f.tokens.min}, mean ${f.tokens.mean}, p50 ${f.tokens.p50}, p90 ${f.tokens.p90}, p99 ${f.tokens.p99}, max ${f.tokens.max}`
      : '  tokens: not counted (no --base)',
  );
  lines.push(`  teachers: ${f.teachers.map((t) => `${t.teacher} ${t.examples}`).join(', ')}`);
  lines.push(`  prompt versions: ${f.promptVersions.map((p) => `${p.version} (${p.hash.slice(0, 12)}) ${p.examples}`).join(', ')}`);
  return lines;
}

export function renderDistillStats(sets: ExampleSetStats[]): string {
  if (sets.length === 0) return 'no distilled examples in the knowledge base yet (see finesec distill)';
  const out: string[] = [];
  for (const s of sets) {
    out.push(`${s.dataset} (${s.selection}): ${s.figures.examples} examples; ${s.acceptedKnowledge} accepted knowledge records in the dataset`);
    out.push(...renderFigures(s.figures));
    if (s.run) {
      const d = s.run.decontamination;
      out.push(
        `  run ${s.run.run}: decontamination dropped ${d.droppedSamples} samples (${d.exact} exact, ${d.near} near; ${d.droppedExamples} examples) against ${d.evalSamples} eval samples; ` +
          `balancing dropped ${s.run.balance.droppedByCap} by cap, ${s.run.balance.droppedByRatio} by ratio; ` +
          `${s.run.studentFormDropped} report answers inexpressible; ${s.run.length ? `${s.run.length.dropped} over ${s.run.length.maxTokens} tokens` : 'no length filter'}`,
      );
    }
  }
  return out.join('\n');
}
