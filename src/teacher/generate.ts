import type { AttemptSummary, RejectionReason } from '../kb/knowledge.js';
import type { Sample } from '../kb/samples.js';
import type { VulnerabilityReport } from '../report/schema.js';
import { checkAgreement, checkFormat, checkGrounding, groundTruthOf } from './checks.js';
import { repairPrompt, renderPrompt, templateFor, type PromptTemplate } from './prompts/index.js';
import type { ApiErrorKind } from './http/errors.js';
import type { ProviderResponse, TeacherPrompt, TeacherProvider } from './provider.js';

/** Rising temperature for resamples: 0.2, 0.6, 1.0, 1.0 ... */
export function temperatureFor(attempt: number): number {
  return Math.min(1, Math.round((0.2 + 0.4 * attempt) * 10) / 10);
}

export interface Spend {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Requests that reached a provider (not served from the cache). */
  calls: number;
  cacheHits: number;
}

function emptySpend(): Spend {
  return { promptTokens: 0, completionTokens: 0, costUsd: 0, calls: 0, cacheHits: 0 };
}

function book(spend: Spend, r: ProviderResponse): void {
  if (r.cached) {
    spend.cacheHits++;
    return;
  }
  spend.calls++;
  spend.promptTokens += r.tokenUsage.prompt;
  spend.completionTokens += r.tokenUsage.completion;
  spend.costUsd += r.cost;
}

export interface TeacherFailure {
  message: string;
  kind: ApiErrorKind | 'refused' | undefined;
  fatal: boolean;
}

/** One teacher's answer to one prompt, after JSON extraction, schema validation and at most one repair. */
interface Answer {
  raw: string;
  report: VulnerabilityReport | null;
  reasons: RejectionReason[];
  cached: boolean;
  repaired: boolean;
}

async function ask(
  teacher: TeacherProvider,
  template: PromptTemplate,
  prompt: TeacherPrompt,
  sample: Sample,
  temperature: number,
  maxTokens: number,
  spend: Spend,
): Promise<Answer | TeacherFailure> {
  const first = await teacher.callApi(prompt, { sample }, { temperature, maxTokens });
  if (first.error !== undefined || first.output === undefined) return failure(first);
  book(spend, first);
  const format = checkFormat(first.output, first.finishReason);
  if (format.ok) return { raw: first.output, report: format.report, reasons: [], cached: first.cached, repaired: false };
  if (!teacher.isLlm) return { raw: first.output, report: null, reasons: format.reasons, cached: first.cached, repaired: false };
  const problem = format.reasons.map((r) => r.detail).join('; ');
  const second = await teacher.callApi(repairPrompt(template, prompt, first.output, problem), { sample }, { temperature, maxTokens });
  if (second.error !== undefined || second.output === undefined) return failure(second);
  book(spend, second);
  const repaired = checkFormat(second.output, second.finishReason);
  if (repaired.ok) return { raw: second.output, report: repaired.report, reasons: [], cached: first.cached && second.cached, repaired: true };
  return {
    raw: second.output,
    report: null,
    reasons: repaired.reasons.map((r) => ({ code: r.code, detail: `${r.detail} (after one repair)` })),
    cached: first.cached && second.cached,
    repaired: true,
  };
}

function failure(r: ProviderResponse): TeacherFailure {
  return { message: r.error ?? 'the teacher returned no output', kind: r.errorKind, fatal: r.fatal ?? false };
}

function isFailure(x: Answer | TeacherFailure): x is TeacherFailure {
  return 'message' in x;
}

/** A single teacher, or a jury: several teachers answer and the majority verdict decides. */
export interface TeacherPanel {
  /** Stable identity stored with the knowledge (a jury's is built from its sorted members). */
  id: string;
  provider: string;
  model: string;
  isLlm: boolean;
  needsLabels: boolean;
  members: TeacherProvider[];
}

export function singleTeacher(teacher: TeacherProvider): TeacherPanel {
  return { id: teacher.id(), provider: teacher.kind, model: teacher.model, isLlm: teacher.isLlm, needsLabels: teacher.needsLabels, members: [teacher] };
}

export function jury(members: TeacherProvider[]): TeacherPanel {
  if (members.length === 1) return singleTeacher(members[0]!);
  const sorted = [...members].sort((a, b) => a.id().localeCompare(b.id()));
  return {
    id: `jury(${sorted.map((m) => m.id()).join(',')})`,
    provider: 'jury',
    model: sorted.map((m) => m.model).join('+'),
    isLlm: sorted.some((m) => m.isLlm),
    needsLabels: sorted.some((m) => m.needsLabels),
    members: sorted,
  };
}

export interface GenerateOptions {
  hinted: boolean;
  resamples: number;
  maxTokens: number;
}

export type Generation =
  | {
      kind: 'done';
      status: 'accepted' | 'rejected';
      verified: boolean;
      reasons: RejectionReason[];
      report: VulnerabilityReport | null;
      raw: string | null;
      attempt: number;
      attempts: AttemptSummary[];
      promptVersion: string;
      promptHash: string;
      votes?: Record<string, number>;
      spend: Spend;
    }
  | { kind: 'failed'; failure: TeacherFailure; spend: Spend };

/**
 * Asks for knowledge about one sample: validates every answer (format, grounding, agreement with
 * the ground truth when the sample has one) and, on rejection, asks again up to `resamples` times
 * at rising temperature. Returns the first accepted answer or the last rejected one. A transport
 * failure ends the sample without a record (a re-run asks again; answers so far are cached).
 */
export async function generateKnowledge(panel: TeacherPanel, sample: Sample, options: GenerateOptions): Promise<Generation> {
  const template = templateFor(options.hinted);
  const prompt = renderPrompt(template, sample);
  const truth = groundTruthOf(sample);
  const spend = emptySpend();
  const attempts: AttemptSummary[] = [];
  const maxAttempts = panel.isLlm ? 1 + Math.max(0, options.resamples) : 1;
  let last: Extract<Generation, { kind: 'done' }> | undefined;
  for (let i = 0; i < maxAttempts; i++) {
    const temperature = temperatureFor(i);
    const answers = await Promise.all(panel.members.map((m) => ask(m, template, prompt, sample, temperature, options.maxTokens, spend)));
    const failed = answers.find(isFailure);
    if (failed) return { kind: 'failed', failure: failed, spend };
    const checked = (answers as Answer[]).map((a) => (a.report ? { ...a, reasons: checkGrounding(a.report, sample.code) } : a));
    const decided = decide(checked, panel.members.length);
    const reasons = [...decided.reasons];
    if (decided.answer.report && reasons.length === 0 && truth) reasons.push(...checkAgreement(decided.answer.report, truth));
    const status = reasons.length === 0 ? 'accepted' : 'rejected';
    attempts.push({ attempt: i + 1, temperature, status, reasons, cached: checked.every((a) => a.cached), repaired: checked.some((a) => a.repaired) });
    last = {
      kind: 'done',
      status,
      verified: truth !== undefined,
      reasons,
      report: decided.answer.report,
      raw: decided.answer.raw,
      attempt: i + 1,
      attempts,
      promptVersion: prompt.version,
      promptHash: prompt.hash,
      ...(decided.votes ? { votes: decided.votes } : {}),
      spend,
    };
    if (status === 'accepted') return last;
  }
  return last!;
}

/**
 * One answer: the only one, or for a jury the most confident valid answer carrying the verdict
 * that more than half of all members gave (only valid, grounded answers vote).
 */
function decide(answers: Answer[], members: number): { answer: Answer; reasons: RejectionReason[]; votes?: Record<string, number> } {
  if (members === 1) return { answer: answers[0]!, reasons: answers[0]!.reasons };
  const valid = answers.filter((a) => a.report && a.reasons.length === 0);
  const votes: Record<string, number> = {};
  for (const a of valid) votes[a.report!.verdict] = (votes[a.report!.verdict] ?? 0) + 1;
  const winner = Object.entries(votes).find(([, n]) => n > members / 2)?.[0];
  if (!winner) {
    const invalid = answers.filter((a) => a.reasons.length > 0).flatMap((a) => a.reasons);
    return {
      answer: valid[0] ?? answers[0]!,
      reasons: [{ code: 'jury_no_majority', detail: `no verdict from more than half of ${members} teachers (votes ${JSON.stringify(votes)})` }, ...invalid],
      votes,
    };
  }
  const best = valid.filter((a) => a.report!.verdict === winner).sort((a, b) => meanConfidence(b.report!) - meanConfidence(a.report!))[0]!;
  return { answer: best, reasons: [], votes };
}

function meanConfidence(report: VulnerabilityReport): number {
  if (report.findings.length === 0) return 1;
  return report.findings.reduce((s, f) => s + f.confidence, 0) / report.findings.length;
}
