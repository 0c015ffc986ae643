/**
 * Hard cases back to the teacher: every sample that accepted feedback is about gets a knowledge
 * record from the teacher stage's own pipeline (generateKnowledge: structured answer, format,
 * grounding and ground-truth checks, resampling at rising temperature on rejection), through the
 * same KB cache, rate limits and spend limit as `finesec teach`. The teacher is told the truth
 * (the hinted prompt) when the sample has a label, since the feedback says what the right answer
 * is. A record that already exists for (sample, teacher, prompt version) is reused, not asked for
 * again. Each record is linked to the feedback items that caused it.
 *
 * (`teach()` selects samples by dataset and split; hard cases are a list of samples across
 * datasets, so this drives the same building blocks per sample.)
 */
import type { FinesecConfig } from '../config/schema.js';
import type { Db } from '../kb/db.js';
import { linkKnowledge, type FeedbackRow } from '../kb/feedback.js';
import { saveKnowledge } from '../kb/knowledge.js';
import { recordRejection } from '../kb/rejections.js';
import { finishRun, startRun } from '../kb/runs.js';
import { getSample } from '../kb/samples.js';
import { CachedProvider } from '../teacher/cache.js';
import { realClock } from '../teacher/clock.js';
import { PriceTable } from '../teacher/cost.js';
import { generateKnowledge, jury, type TeacherPanel } from '../teacher/generate.js';
import { runPool } from '../teacher/limits.js';
import { Budget, MeteredProvider } from '../teacher/metered.js';
import { templateFor } from '../teacher/prompts/index.js';
import { createProvider } from '../teacher/providers/index.js';
import type { Logger } from '../util/log.js';
import { Progress } from '../util/progress.js';

export interface ReteachOptions {
  /** Teacher specs (several make a jury); default teacher.spec. */
  teachers?: string[];
  /** Spend limit for this re-teaching (USD). */
  maxCostUsd?: number;
  maxTokens?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ReteachSummary {
  run: string;
  teacher: string;
  samples: number;
  /** New records: accepted / rejected. */
  accepted: number;
  rejected: number;
  /** Existing records for the same sample, teacher and prompt version, linked again. */
  reused: number;
  /** The teacher refused or failed (recorded as rejections; the feedback stays unlinked). */
  failed: number;
  /** Feedback id -> accepted knowledge ids linked to it. */
  links: Record<number, number[]>;
}

export async function reteach(
  deps: { db: Db; config: FinesecConfig; logger: Logger },
  feedback: readonly FeedbackRow[],
  options: ReteachOptions = {},
): Promise<ReteachSummary> {
  const { db, config, logger } = deps;
  const specs = options.teachers?.length ? options.teachers : [config.teacher.spec];
  const providers = specs.map((spec) => createProvider(spec, config.teacher, { clock: realClock, ...(options.env ? { env: options.env } : {}) }));
  const panel = jury(providers);
  const prices = new PriceTable(config.teacher.prices);
  const budget = new Budget(options.maxCostUsd);
  const wrapped: TeacherPanel = {
    ...panel,
    members: panel.members.map(
      (m) =>
        new CachedProvider(
          new MeteredProvider(m, {
            clock: realClock,
            prices,
            budget,
            ...(config.teacher.requests_per_minute ? { requestsPerMinute: config.teacher.requests_per_minute } : {}),
            ...(config.teacher.tokens_per_minute ? { tokensPerMinute: config.teacher.tokens_per_minute } : {}),
          }),
          db,
        ),
    ),
  };
  const bySample = new Map<number, FeedbackRow[]>();
  for (const f of feedback) {
    if (f.status !== 'accepted' || f.sample_id === null) continue;
    const list = bySample.get(f.sample_id) ?? [];
    list.push(f);
    bySample.set(f.sample_id, list);
  }
  const maxTokens = options.maxTokens ?? 2048;
  const runId = startRun(
    db,
    'reteach',
    { teacher: panel.id, resamples: config.teacher.resamples, maxTokens, maxCostUsd: options.maxCostUsd ?? null },
    { feedback: feedback.map((f) => f.id), samples: bySample.size },
  );
  const summary: ReteachSummary = { run: runId, teacher: panel.id, samples: bySample.size, accepted: 0, rejected: 0, reused: 0, failed: 0, links: {} };
  const existing = db.prepare("SELECT id, status FROM knowledge WHERE sample_id = ? AND teacher = ? AND prompt_version = ?");
  const link = (items: FeedbackRow[], knowledgeId: number, status: string, reused: boolean): void => {
    for (const f of items) {
      linkKnowledge(db, f.id, knowledgeId, runId, reused);
      if (status === 'accepted') (summary.links[f.id] ??= []).push(knowledgeId);
    }
  };
  const progress = new Progress(logger, 'reteach', bySample.size, 'samples');
  let status: 'done' | 'failed' = 'done';
  try {
    await runPool(
      [...bySample.entries()],
      config.teacher.concurrency,
      async ([sampleId, items]) => {
        const sample = getSample(db, sampleId);
        progress.tick();
        if (!sample) return;
        const hinted = sample.label !== null;
        const version = templateFor(hinted).version;
        const known = existing.get(sampleId, panel.id, version) as { id: number; status: string } | undefined;
        if (known) {
          summary.reused++;
          link(items, known.id, known.status, true);
          return;
        }
        const g = await generateKnowledge(wrapped, sample, { hinted, resamples: config.teacher.resamples, maxTokens });
        if (g.kind === 'failed') {
          summary.failed++;
          recordRejection(db, { stage: 'reteach', datasetId: sample.dataset_id, source: `sample:${sampleId}`, line: null, reason: g.failure.message });
          return;
        }
        saveKnowledge(db, {
          sampleId,
          datasetId: sample.dataset_id,
          teacher: panel.id,
          teacherProvider: panel.provider,
          teacherModel: panel.model,
          promptVersion: g.promptVersion,
          promptHash: g.promptHash,
          hinted,
          isLlm: panel.isLlm,
          status: g.status,
          verified: g.verified,
          reasons: g.reasons,
          report: g.report,
          rawOutput: g.raw,
          promptTokens: g.spend.promptTokens,
          completionTokens: g.spend.completionTokens,
          costUsd: g.spend.costUsd,
          attempt: g.attempt,
          attempts: g.attempts,
          meta: { feedback: items.map((f) => f.id) },
          runId,
        });
        const saved = existing.get(sampleId, panel.id, g.promptVersion) as { id: number; status: string };
        if (g.status === 'accepted') summary.accepted++;
        else summary.rejected++;
        link(items, saved.id, saved.status, false);
      },
    );
  } catch (err) {
    status = 'failed';
    throw err;
  } finally {
    progress.finish();
    for (const p of providers) p.close?.();
    finishRun(db, runId, status, summary);
  }
  return summary;
}

