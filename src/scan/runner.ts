import { realpathSync } from 'node:fs';
import { extractFunctionsSync } from '../corpus/extract.js';
import { guessLanguage, languageFromFileName } from '../corpus/importers/fields.js';
import { loadParsers } from '../corpus/treesitter.js';
import type { Db } from '../kb/db.js';
import { finishRun, startRun, toolVersion } from '../kb/runs.js';
import { Progress } from '../util/progress.js';
import type { Logger } from '../util/log.js';
import { FunctionAnalyser, type FunctionTask, type RawFinding } from './analyse.js';
import { inBaseline, type Baseline } from './baseline.js';
import { hashFile, ScanCache } from './cache.js';
import { changedFiles } from './changed.js';
import { assignFingerprints, fingerprintBases } from './fingerprint.js';
import { backs, hitsWithin, runPrefilter, sameWeakness, type PrefilterMode, type PrefilterTool } from './prefilter.js';
import { reportPromptVersion } from './prompt.js';
import { readSource, type SourceOptions } from './source.js';
import type { LazyStudent } from './student.js';
import { parseInlineSuppressions, suppressionFor, type FileSuppression, type InlineSuppression } from './suppress.js';
import type { PrefilterHit, PrefilterSummary, ScanFinding, ScanNotification, ScanResult, ScanStats } from './types.js';
import { walkPaths, type WalkOptions } from './walk.js';

/**
 * A whole scan: walk, read and extract every file, optionally run the prefilter, analyse each
 * function (cache first), then fingerprint, suppress and compare with the baseline. The result
 * is format-free; sarif.ts, markdown.ts and json.ts render it.
 */
export interface ScanOptions {
  paths: string[];
  /** Absolute; every output path is relative to it. */
  root: string;
  modelSpec: string;
  student: LazyStudent;
  /** The knowledge base holding the cache (undefined: no cache, no run record). */
  db: Db | undefined;
  /** Read and write the scan cache (default true when db is given). */
  useCache?: boolean;
  walk: Omit<WalkOptions, 'root'>;
  source: SourceOptions;
  maxTokens: number;
  maxFunctionLines: number;
  contextSize?: number;
  /** Functions analysed at the same time (endpoints benefit; a local student takes turns). */
  concurrency: number;
  changedSince?: string;
  prefilter?: { tool: PrefilterTool; mode: PrefilterMode };
  suppressions: FileSuppression[];
  baseline?: Baseline;
  logger: Logger;
}

/** A run of model errors this long means the student is down: stop instead of failing every function. */
export const MAX_CONSECUTIVE_ERRORS = 5;

interface SourceFile {
  path: string;
  rel: string;
  language: 'c' | 'cpp';
  lines: string[];
  inline: InlineSuppression[];
}

export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const started = Date.now();
  const notifications: ScanNotification[] = [];
  const stats: ScanStats = {
    files: { found: 0, scanned: 0, skipped: 0, gitignored: 0, vendored: 0, filtered: 0, unchanged: 0 },
    functions: { total: 0, analysed: 0, cacheHits: 0, modelCalls: 0, split: 0, skipped: 0, notFlagged: 0 },
    findings: { reported: 0, suppressed: 0, baseline: 0, dropped: 0 },
    seconds: 0,
  };
  const cacheOn = options.db !== undefined && (options.useCache ?? true);
  const cache = cacheOn ? new ScanCache(options.db!) : undefined;
  const identity = await options.student.identity((p) => (cache ? cache.fileHash(p) : hashFile(p)));
  const runId = options.db
    ? startRun(options.db, 'scan', { model: options.modelSpec, maxTokens: options.maxTokens, contextSize: options.contextSize ?? null, prefilter: options.prefilter ?? null }, { paths: options.paths, root: options.root })
    : undefined;

  try {
    // 1. Files.
    const walked = walkPaths(options.paths, { ...options.walk, root: options.root });
    Object.assign(stats.files, {
      gitignored: walked.excluded.gitignored,
      vendored: walked.excluded.vendored,
      filtered: walked.excluded.filtered,
    });
    for (const s of walked.skipped) notifications.push({ level: 'warning', id: `skipped-${s.kind}`, file: s.rel, message: `${s.rel}: skipped: ${s.reason}` });
    let files = walked.files;
    if (options.changedSince) {
      const changed = realSet(changedFiles(options.root, options.changedSince));
      const kept = files.filter((f) => changed.has(real(f.path)));
      stats.files.unchanged = files.length - kept.length;
      files = kept;
    }
    stats.files.found = files.length + walked.skipped.length;
    if (files.length === 0) {
      const why = options.changedSince ? `no C/C++ source file changed since ${options.changedSince}` : 'no C/C++ source files found';
      notifications.push({ level: 'note', id: 'empty', message: `${why} under ${options.paths.join(', ')}` });
    }

    // 2. Functions.
    await loadParsers();
    const sources: SourceFile[] = [];
    const tasks: FunctionTask[] = [];
    const reading = new Progress(options.logger, 'reading', files.length, 'files');
    for (const file of files) {
      const read = readSource(file.path, options.source);
      reading.tick();
      if (!read.ok) {
        const level = read.kind === 'generated' || read.kind === 'minified' || read.kind === 'empty' ? 'note' : 'warning';
        notifications.push({ level, id: `skipped-${read.kind}`, file: file.rel, message: `${file.rel}: skipped: ${read.reason}` });
        continue;
      }
      const language = languageFromFileName(file.rel) ?? guessLanguage(read.text);
      const { functions, problems } = extractFunctionsSync(read.text, language);
      for (const p of problems) notifications.push({ level: 'warning', id: 'parse-error', file: file.rel, line: p.startLine, message: `${file.rel}:${p.startLine}: ${p.message}` });
      const inline = parseInlineSuppressions(read.text);
      for (const p of inline.problems) notifications.push({ level: 'warning', id: 'suppression-invalid', file: file.rel, line: p.line, message: `${file.rel}:${p.line}: ${p.message}` });
      const source: SourceFile = { path: file.path, rel: file.rel, language, lines: read.text.replace(/\r\n?/g, '\n').split('\n'), inline: inline.rules };
      sources.push(source);
      for (const fn of functions) tasks.push({ file: source, fn, hits: [] });
    }
    reading.finish();
    stats.files.scanned = sources.length;
    stats.files.skipped = stats.files.found - sources.length;
    stats.functions.total = tasks.length;

    // 3. Prefilter.
    let prefilter: PrefilterSummary | undefined;
    let selected = tasks;
    if (options.prefilter) {
      const progress = new Progress(options.logger, options.prefilter.tool, sources.length, 'files');
      const run = await runPrefilter(options.prefilter.tool, sources, () => progress.tick());
      progress.finish();
      notifications.push(...run.notifications);
      let inFunctions = 0;
      let all = 0;
      for (const hits of run.hits.values()) all += hits.length;
      for (const t of tasks) {
        t.hits = hitsWithin(run.hits.get(t.file.rel), t.fn.startLine, t.fn.endLine);
        inFunctions += t.hits.length;
      }
      const flagged = tasks.filter((t) => t.hits.length > 0);
      if (options.prefilter.mode === 'only') {
        selected = flagged;
        stats.functions.notFlagged = tasks.length - flagged.length;
      }
      prefilter = {
        tool: run.tool,
        version: run.version,
        mode: options.prefilter.mode,
        hits: inFunctions,
        hitsOutsideFunctions: all - inFunctions,
        functionsFlagged: flagged.length,
        agreed: 0,
        studentOnly: 0,
        toolOnly: 0,
        toolOnlyHits: [],
      };
    }

    // 4. The student.
    const analyser = new FunctionAnalyser(options.student, identity, reportPromptVersion(), cache, {
      maxTokens: options.maxTokens,
      maxFunctionLines: options.maxFunctionLines,
      contextSize: options.contextSize,
      prefilterTool: options.prefilter?.tool,
      hintsInPrompt: options.prefilter?.mode === 'hints',
    });
    const progress = new Progress(options.logger, 'scan', selected.length, 'functions');
    const filesDone = new Set<string>();
    progress.setExtra(() => `files ${filesDone.size}/${sources.length} | cache hits ${stats.functions.cacheHits} | model calls ${stats.functions.modelCalls}`);
    const raw: Array<{ finding: RawFinding; task: FunctionTask }> = [];
    let consecutiveErrors = 0;
    let stopped = false;
    let notAnalysed = 0;
    await pool(selected, options.concurrency, async (task) => {
      if (stopped) {
        notAnalysed++;
        return;
      }
      const outcome = await analyser.analyse(task);
      stats.functions.cacheHits += outcome.cacheHits;
      stats.functions.modelCalls += outcome.modelCalls;
      stats.findings.dropped += outcome.dropped;
      if (outcome.split) stats.functions.split++;
      if (outcome.skipped) stats.functions.skipped++;
      else stats.functions.analysed++;
      notifications.push(...outcome.notifications);
      for (const finding of outcome.findings) raw.push({ finding, task });
      consecutiveErrors = outcome.errors > 0 ? consecutiveErrors + 1 : 0;
      if (consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) stopped = true;
      filesDone.add(task.file.rel);
      progress.tick();
    });
    progress.finish();
    if (stopped) {
      notifications.push({
        level: 'error',
        id: 'scan-stopped',
        message: `stopped after ${MAX_CONSECUTIVE_ERRORS} model errors in a row; ${notAnalysed} function${notAnalysed === 1 ? '' : 's'} not analysed`,
      });
    }

    // 5. Fingerprints, prefilter agreement, suppressions, baseline.
    raw.sort((a, b) => compareFindings(a.finding, b.finding));
    const prints = assignFingerprints(
      raw.map(({ finding, task }) =>
        fingerprintBases({ file: finding.file, functionName: task.fn.name, functionCode: task.fn.code, cwe: finding.cwe, fragment: finding.fragment }),
      ),
    );
    const inlineByFile = new Map(sources.map((s) => [s.rel, s.inline]));
    const reported: ScanFinding[] = [];
    const suppressed: ScanFinding[] = [];
    const backed = new Set<PrefilterHit>();
    let baselineMatched = 0;
    raw.forEach(({ finding, task }, i) => {
      const full: ScanFinding = { ...finding, fingerprints: prints[i]! };
      if (prefilter) {
        const agreeing = task.hits.filter((h) => backs(h, full));
        for (const h of agreeing) backed.add(h);
        full.prefilter = {
          tool: prefilter.tool,
          agrees: agreeing.length > 0,
          sameWeakness: agreeing.some((h) => sameWeakness(h, full.cwe)),
          backing: agreeing,
          hits: task.hits,
        };
        if (agreeing.length > 0) prefilter.agreed++;
        else prefilter.studentOnly++;
      }
      const suppression = suppressionFor(full, inlineByFile.get(full.file) ?? [], options.suppressions);
      if (suppression) full.suppression = suppression;
      if (options.baseline && inBaseline(full, options.baseline)) {
        baselineMatched++;
        return;
      }
      (suppression ? suppressed : reported).push(full);
    });
    if (prefilter) {
      for (const t of selected) {
        for (const h of t.hits) {
          if (backed.has(h)) continue;
          prefilter.toolOnly++;
          prefilter.toolOnlyHits.push({ ...h, file: t.file.rel, function: t.fn.name });
        }
      }
    }

    stats.findings.reported = reported.length;
    stats.findings.suppressed = suppressed.length;
    stats.findings.baseline = baselineMatched;
    stats.seconds = (Date.now() - started) / 1000;
    notifications.sort(compareNotifications);
    const successful = !notifications.some((n) => n.level === 'error');
    const result: ScanResult = {
      toolVersion: toolVersion(),
      root: options.root,
      paths: options.paths,
      model: { spec: options.modelSpec, id: identity.adapterHash ? `${identity.modelId}+lora:${identity.adapterHash.slice(0, 16)}` : identity.modelId },
      findings: reported,
      suppressed,
      ...(options.baseline ? { baseline: { file: options.baseline.file, fingerprints: options.baseline.findings, matched: baselineMatched } } : {}),
      notifications,
      ...(prefilter ? { prefilter } : {}),
      stats,
      successful,
    };
    if (runId) finishRun(options.db!, runId, successful ? 'done' : 'failed', stats);
    return result;
  } catch (err) {
    if (runId) finishRun(options.db!, runId, 'failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** Runs `work` on every item with at most `limit` in flight; the first thrown error stops new work and is rethrown. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}

function compareFindings(a: RawFinding, b: RawFinding): number {
  return (
    cmp(a.file, b.file) ||
    a.region.startLine - b.region.startLine ||
    (a.region.startColumn ?? 0) - (b.region.startColumn ?? 0) ||
    cmp(a.cwe, b.cwe) ||
    cmp(a.title, b.title) ||
    cmp(a.fragment, b.fragment)
  );
}

function compareNotifications(a: ScanNotification, b: ScanNotification): number {
  return cmp(a.file ?? '', b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || cmp(a.id, b.id) || cmp(a.message, b.message);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function realSet(paths: Set<string>): Set<string> {
  return new Set([...paths].map(real));
}
