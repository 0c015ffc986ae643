import { closeSync, openSync, writeSync } from 'node:fs';
import { getCwe } from '../../cwe/index.js';
import type { Db } from '../../kb/db.js';
import { ensureDataset } from '../../kb/datasets.js';
import { recordRejection } from '../../kb/rejections.js';
import { finishRun, startRun } from '../../kb/runs.js';
import { insertSamples, type InsertOutcome, type SampleInput } from '../../kb/samples.js';
import { groundReport } from '../../report/grounding.js';
import type { Logger } from '../../util/log.js';
import { Progress } from '../../util/progress.js';
import { iterateSynth, selectTemplates, type SynthOptions, type SynthSample } from './index.js';

/**
 * The synth stage: generate, check every ground-truth report against its code (a failure is a
 * template bug: the pair is recorded as a rejection, never stored), then write the samples to the
 * knowledge base and/or a JSONL file.
 */
export interface SynthRunOptions extends SynthOptions {
  /** Knowledge base and dataset to insert into. */
  db?: Db;
  dataset?: string;
  /** JSONL file to write the samples to. */
  out?: string;
  batchSize: number;
  logger: Logger;
}

export interface CweCount {
  cwe: string;
  name: string;
  vulnerable: number;
  fixed: number;
}

export interface SynthRunResult {
  dataset: string | null;
  out: string | null;
  seed: number;
  requested: number;
  generated: number;
  rejected: number;
  templates: number;
  byCwe: CweCount[];
  kb: InsertOutcome | null;
  runId: string | null;
  seconds: number;
}

export function runSynth(options: SynthRunOptions): SynthRunResult {
  const templates = selectTemplates(options.cwes);
  const started = Date.now();
  const { db } = options;
  const dataset = db && options.dataset ? ensureDataset(db, options.dataset, 'synth', `synth seed=${options.seed}`, { generator: 'synth', seed: options.seed }) : undefined;
  const config = { count: options.count, seed: options.seed, cwes: options.cwes ?? [], dataset: options.dataset ?? null, out: options.out ?? null };
  const runId = db ? startRun(db, 'synth', config, {}) : null;
  const fd = options.out ? openSync(options.out, 'w') : undefined;
  const kb: InsertOutcome = { inserted: 0, merged: 0, alreadyImported: 0, conflicts: 0 };
  const counts = new Map<string, CweCount>();
  const progress = new Progress(options.logger, 'synth', options.count, 'samples');
  let batch: SampleInput[] = [];
  let generated = 0;
  let rejected = 0;
  const flush = (): void => {
    if (!db || !dataset || batch.length === 0) return;
    const o = insertSamples(db, dataset.id, batch);
    kb.inserted += o.inserted;
    kb.merged += o.merged;
    kb.alreadyImported += o.alreadyImported;
    kb.conflicts += o.conflicts;
    batch = [];
  };
  try {
    for (const sample of iterateSynth(options)) {
      progress.tick();
      const grounding = groundReport(sample.report, sample.code);
      if (!grounding.ok) {
        rejected++;
        const reason = `template ${sample.templateId} produced an ungrounded report: ${grounding.problems[0]!.message}`;
        options.logger.warn(`${sample.id}: ${reason}`);
        if (db) recordRejection(db, { stage: 'synth', datasetId: dataset?.id ?? null, source: sample.id, line: null, reason });
        continue;
      }
      generated++;
      const c = counts.get(sample.cwe) ?? { cwe: sample.cwe, name: getCwe(sample.cwe)?.name ?? sample.cwe, vulnerable: 0, fixed: 0 };
      if (sample.label === 1) c.vulnerable++;
      else c.fixed++;
      counts.set(sample.cwe, c);
      if (fd !== undefined) writeSync(fd, JSON.stringify(sample) + '\n');
      if (dataset) {
        batch.push(toSampleInput(sample));
        if (batch.length >= options.batchSize) flush();
      }
    }
    flush();
    const result: SynthRunResult = {
      dataset: options.dataset ?? null,
      out: options.out ?? null,
      seed: options.seed,
      requested: options.count,
      generated,
      rejected,
      templates: templates.length,
      byCwe: [...counts.values()].sort((a, b) => Number(a.cwe.slice(4)) - Number(b.cwe.slice(4))),
      kb: dataset ? kb : null,
      runId,
      seconds: (Date.now() - started) / 1000,
    };
    if (db && runId) finishRun(db, runId, 'done', { generated, rejected, kb });
    return result;
  } catch (err) {
    if (db && runId) finishRun(db, runId, 'failed', { generated, rejected, error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    progress.finish();
    if (fd !== undefined) closeSync(fd);
  }
}

/** A synthetic sample as a knowledge-base row; the ground truth travels in meta. */
export function toSampleInput(s: SynthSample): SampleInput {
  return {
    sourceKey: s.id,
    code: s.code,
    language: s.language,
    label: s.label,
    cwes: [s.cwe],
    flawLines: s.flawLines,
    pairId: s.pairId,
    groupId: s.groupId,
    functionName: s.functionName,
    meta: {
      report: s.report,
      template: s.templateId,
      form: s.form,
      wrapper: s.wrapper,
      source: s.source,
      char_type: s.charType,
      seed: s.seed,
      pair_index: s.pairIndex,
      variant: s.variant,
      flaw_lines: s.flawLines,
      fix_lines: s.fixLines,
    },
  };
}

export function renderSynthResult(r: SynthRunResult): string {
  const lines = [`synth seed ${r.seed}: ${r.generated} samples from ${r.templates} templates in ${r.seconds.toFixed(1)}s${r.rejected ? ` (${r.rejected} rejected, see warnings)` : ''}`];
  const width = Math.max(8, ...r.byCwe.map((c) => c.cwe.length));
  lines.push(`  ${'CWE'.padEnd(width)} ${'vuln'.padStart(6)} ${'fixed'.padStart(6)}  name`);
  for (const c of r.byCwe) lines.push(`  ${c.cwe.padEnd(width)} ${String(c.vulnerable).padStart(6)} ${String(c.fixed).padStart(6)}  ${c.name}`);
  if (r.kb) {
    lines.push(`dataset ${r.dataset}: ${r.kb.inserted} inserted, ${r.kb.merged} merged as exact duplicates, ${r.kb.alreadyImported} already present`);
  }
  if (r.out) lines.push(`wrote ${r.generated} samples to ${r.out}`);
  return lines.join('\n');
}
