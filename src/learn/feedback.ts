/**
 * Feedback in: a user's verdict on a sample, a function of a file or a scan finding; dismissed
 * results of a triaged SARIF log; errors harvested from eval runs (harvest.ts). Every item is
 * checked against every evaluation split before it is stored as accepted (contamination.ts); a
 * refused item is stored too, with its reason, and never learned.
 *
 * Code that is not a knowledge-base sample yet (a file's function) becomes one in the dataset
 * "feedback" once accepted, labelled by what the feedback says: a false positive is not
 * vulnerable, a false negative or a wrong CWE is vulnerable (with the right CWE when given), an
 * ungrounded report leaves the label unknown.
 */
import { resolve } from 'node:path';
import type { FinesecConfig } from '../config/schema.js';
import { codeHash } from '../corpus/normalize.js';
import { normaliseCweId } from '../cwe/index.js';
import type { Db } from '../kb/db.js';
import { ensureDataset } from '../kb/datasets.js';
import { saveFeedback, type FeedbackKind, type FeedbackRow, type FeedbackSource } from '../kb/feedback.js';
import { recordRejection } from '../kb/rejections.js';
import { getSample, insertSamples, type Language, type Sample } from '../kb/samples.js';
import { InputError, UsageError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { EvalSetGuard } from './contamination.js';
import { findByFingerprint, readFindingsFile } from './findings-file.js';
import { locateFunction } from './locate.js';

export const FEEDBACK_DATASET = 'feedback';

export interface FeedbackWorkspace {
  db: Db;
  config: FinesecConfig;
}

/** An item before its contamination check: the code it is about and where it came from. */
export interface PendingFeedback {
  source: FeedbackSource;
  sourceRef: string | null;
  kind: FeedbackKind;
  code: string;
  language: Language;
  sample: Sample | null;
  file: string | null;
  functionName: string | null;
  finding: string | null;
  startLine: number | null;
  reportedCwe: string | null;
  expectedCwe: string | null;
  note: string | null;
}

export interface StoredFeedback {
  row: FeedbackRow;
  /** False when the same item was already recorded (nothing changed). */
  created: boolean;
}

/** Checks and stores a batch (one contamination pass for all of them), in order. */
export function storeFeedback(ws: FeedbackWorkspace, items: readonly PendingFeedback[], guard?: EvalSetGuard): StoredFeedback[] {
  if (items.length === 0) return [];
  const check = guard ?? new EvalSetGuard(ws.db, ws.config);
  const reasons = check.check(items.map((i) => ({ code: i.code, ...(i.sample ? { sample: i.sample } : {}) })));
  return ws.db.transaction(() =>
    items.map((item, index) => {
      const reason = reasons[index]!;
      const hash = item.sample?.code_hash ?? codeHash(item.code);
      // An eval run is one observation (a later run's same error is new evidence); a user's or a
      // SARIF log's statement about the same code is the same item however often it is given.
      const observation = item.source === 'eval' ? (item.sourceRef ?? '') : '';
      const key = sha256([item.source, observation, item.kind, hash, item.reportedCwe ?? '', item.expectedCwe ?? '', item.finding ?? ''].join('\u0000')).slice(0, 40);
      const sampleId = reason === null ? (item.sample?.id ?? feedbackSample(ws.db, item, key)) : (item.sample?.id ?? null);
      return saveFeedback(ws.db, {
        source: item.source,
        sourceRef: item.sourceRef,
        kind: item.kind,
        sampleId,
        file: item.file,
        functionName: item.functionName,
        finding: item.finding,
        startLine: item.startLine,
        reportedCwe: item.reportedCwe,
        expectedCwe: item.expectedCwe,
        note: item.note,
        codeHash: hash,
        status: reason === null ? 'accepted' : 'refused',
        reason,
        key,
      });
    }),
  )();
}

/** The label a kind of feedback states about the code. */
export function impliedLabel(kind: FeedbackKind): 0 | 1 | null {
  return kind === 'false_positive' ? 0 : kind === 'ungrounded' ? null : 1;
}

/** Stores an accepted item's code as a sample of the feedback dataset; returns its id. */
function feedbackSample(db: Db, item: PendingFeedback, key: string): number {
  const dataset = ensureDataset(db, FEEDBACK_DATASET, 'feedback', null, { note: 'code from finesec feedback' });
  insertSamples(db, dataset.id, [
    {
      sourceKey: `feedback:${key}`,
      code: item.code,
      language: item.language,
      label: impliedLabel(item.kind),
      cwes: item.expectedCwe ? [item.expectedCwe] : [],
      flawLines: [],
      file: item.file,
      functionName: item.functionName,
      startLine: item.startLine,
      meta: { feedback: { source: item.source, kind: item.kind, finding: item.finding } },
    },
  ]);
  const row = db.prepare('SELECT id FROM samples WHERE dataset_id = ? AND code_hash = ?').get(dataset.id, codeHash(item.code)) as { id: number };
  return row.id;
}

export type FeedbackTarget =
  | { sampleId: number }
  | { file: string; functionName?: string; line?: number }
  | { finding: string; report: string; root?: string };

export interface AddFeedbackOptions {
  target: FeedbackTarget;
  kind: FeedbackKind;
  note?: string;
  /** The right CWE (wrong_cwe needs it; a false negative may give it). */
  cwe?: string;
  /** The CWE the student reported (taken from the finding when there is one). */
  reportedCwe?: string;
}

/** `finesec feedback add`: one item from a user. */
export async function addFeedback(ws: FeedbackWorkspace, o: AddFeedbackOptions): Promise<StoredFeedback> {
  const expectedCwe = o.cwe !== undefined ? cweOption(o.cwe, 'cwe') : null;
  let reportedCwe = o.reportedCwe !== undefined ? cweOption(o.reportedCwe, 'reported-cwe') : null;
  if (o.kind === 'wrong_cwe' && expectedCwe === null) throw new UsageError('feedback add: --kind wrong_cwe needs --cwe (the right CWE)');
  const base = { source: 'user' as const, sourceRef: null, kind: o.kind, note: o.note ?? null, expectedCwe };
  let pending: PendingFeedback;
  const t = o.target;
  if ('sampleId' in t) {
    const sample = getSample(ws.db, t.sampleId);
    if (!sample) throw new InputError(`feedback add: no sample ${t.sampleId} in the knowledge base`);
    const implied = impliedLabel(o.kind);
    if (implied !== null && sample.label !== null && sample.label !== implied) {
      throw new InputError(
        `feedback add: sample ${sample.id} is labelled ${sample.label === 1 ? 'vulnerable' : 'not vulnerable'} in its dataset, which contradicts ${o.kind} (fix the label instead)`,
      );
    }
    pending = { ...base, code: sample.code, language: sample.language, sample, file: sample.file, functionName: sample.function_name, finding: null, startLine: sample.start_line, reportedCwe };
  } else if ('file' in t) {
    if (t.functionName === undefined && t.line === undefined) throw new UsageError('feedback add: --file needs --function NAME or --line N');
    const located = await locateFunction(t.file, { ...(t.functionName !== undefined ? { name: t.functionName } : {}), ...(t.line !== undefined ? { line: t.line } : {}) });
    if (!located.ok) throw new InputError(`feedback add: ${located.reason}`);
    const fn = located.fn;
    pending = { ...base, code: fn.code, language: fn.language, sample: null, file: t.file, functionName: fn.name, finding: null, startLine: fn.startLine, reportedCwe };
  } else {
    const file = readFindingsFile(t.report, t.root);
    const finding = findByFingerprint(file, t.finding);
    if (!finding) throw new InputError(`feedback add: no finding with fingerprint ${t.finding} in ${t.report}`);
    if (!finding.path) throw new InputError(`feedback add: the finding's file ${finding.file ?? '(none)'} cannot be resolved on this machine; give --root DIR`);
    const located = await locateFunction(finding.path, {
      ...(finding.startLine !== null ? { line: finding.startLine } : {}),
      ...(finding.startLine === null && finding.functionName ? { name: finding.functionName } : {}),
    });
    if (!located.ok) throw new InputError(`feedback add: ${located.reason}`);
    reportedCwe ??= finding.cwe;
    const fn = located.fn;
    pending = {
      ...base,
      code: fn.code,
      language: fn.language,
      sample: null,
      file: finding.file,
      functionName: fn.name,
      finding: t.finding,
      startLine: finding.startLine,
      reportedCwe,
    };
  }
  return storeFeedback(ws, [pending])[0]!;
}

function cweOption(value: string, name: string): string {
  const id = normaliseCweId(value);
  if (!id) throw new UsageError(`feedback add: --${name} ${value}: expected a CWE id like CWE-476`);
  return id;
}

export interface SarifImportSummary {
  file: string;
  results: number;
  dismissed: number;
  accepted: number;
  refused: number;
  /** Already recorded by an earlier import. */
  known: number;
  /** Dismissed results whose function could not be found (recorded as rejections). */
  unlocated: number;
  /** Results not taken, by why. */
  skipped: Record<string, number>;
  feedback: Array<{ id: number; status: string; where: string; file: string | null; function: string | null; reason: string | null }>;
}

/** `finesec feedback import-sarif`: every dismissed result becomes false-positive feedback. */
export async function importSarif(ws: FeedbackWorkspace, path: string, options: { root?: string } = {}): Promise<SarifImportSummary> {
  const file = readFindingsFile(path, options.root);
  if (file.format !== 'sarif') throw new InputError(`${path}: expected a SARIF log, got a finesec scan JSON (use feedback add --finding with --report)`);
  const summary: SarifImportSummary = { file: path, results: file.findings.length, dismissed: 0, accepted: 0, refused: 0, known: 0, unlocated: 0, skipped: {}, feedback: [] };
  const pending: Array<{ item: PendingFeedback; where: string }> = [];
  for (const f of file.findings) {
    if (!f.dismissed) {
      summary.skipped[f.why] = (summary.skipped[f.why] ?? 0) + 1;
      continue;
    }
    summary.dismissed++;
    const want = f.startLine !== null ? { line: f.startLine } : f.functionName ? { name: f.functionName } : undefined;
    const located = f.path && want ? await locateFunction(f.path, want) : undefined;
    if (!located || !located.ok) {
      summary.unlocated++;
      const reason = located
        ? located.reason
        : !f.path
          ? `the result's file ${f.file ?? '(none)'} cannot be resolved on this machine (give --root DIR)`
          : `${f.path}: the result names neither a line nor a function`;
      recordRejection(ws.db, { stage: 'feedback', datasetId: null, source: `${path}#${f.where}`, line: null, reason });
      continue;
    }
    const fn = located.fn;
    const fingerprint = Object.entries(f.fingerprints)[0];
    pending.push({
      where: f.where,
      item: {
        source: 'sarif',
        sourceRef: `${resolve(path)}#${f.where}`,
        kind: 'false_positive',
        code: fn.code,
        language: fn.language,
        sample: null,
        file: f.file,
        functionName: fn.name,
        finding: fingerprint ? `${fingerprint[0]}=${fingerprint[1]}` : null,
        startLine: f.startLine,
        reportedCwe: f.cwe,
        expectedCwe: null,
        note: f.note,
      },
    });
  }
  const stored = storeFeedback(ws, pending.map((p) => p.item));
  stored.forEach((s, i) => {
    if (!s.created) summary.known++;
    else if (s.row.status === 'accepted') summary.accepted++;
    else summary.refused++;
    summary.feedback.push({ id: s.row.id, status: s.row.status, where: pending[i]!.where, file: s.row.file, function: s.row.function_name, reason: s.row.reason });
  });
  return summary;
}
