/**
 * The nano base's pretraining corpus: C/C++ code and security prose we are free to use, written as
 * chat JSONL so `finesec train --full` reads it unchanged. Each document is the assistant turn of a
 * one-turn conversation (the loss covers exactly the document); a report document is instead the
 * exact conversation the student is later asked (buildReportMessages) with the exact JSON it emits.
 *
 * Sources: the synthetic generator (code, its report rendered as prose, and as student JSON), the
 * bundled CWE catalog, and the Juliet C/C++ 1.3 functions when a copy is given (public domain).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { iterateSynth, type SynthSample } from '../corpus/synth/index.js';
import { listCwes } from '../cwe/index.js';
import type { VulnerabilityReport } from '../report/schema.js';
import { studentCweIds } from '../runtime/generate-report.js';
import { buildReportMessages, codeLines } from '../runtime/report-prompt.js';
import { reportToStudentText } from '../runtime/report-schema.js';
import type { ChatMessage } from '../runtime/chat-types.js';

export type DocumentKind = 'synth-code' | 'synth-prose' | 'synth-report' | 'cwe' | 'juliet';

export interface CorpusDocument {
  kind: DocumentKind;
  messages: ChatMessage[];
}

export interface CorpusOptions {
  /** Synthetic samples (pairs stay together). */
  synthCount: number;
  /** Seed of the synthetic generator: keep it away from the seeds demos and evaluations use. */
  synthSeed: number;
  /** Juliet JSONL(.gz) file; skipped when absent or undefined. */
  julietPath?: string;
  /** Most Juliet functions to take (every k-th row, so all CWEs are represented). */
  julietLimit: number;
}

export interface CorpusStats {
  documents: number;
  characters: number;
  byKind: Record<DocumentKind, { documents: number; characters: number }>;
  juliet: 'used' | 'absent';
}

const JULIET_ROWS = 81_030;

function doc(kind: DocumentKind, prompt: string, text: string): CorpusDocument {
  return { kind, messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: text }] };
}

function languageName(language: 'c' | 'cpp'): string {
  return language === 'cpp' ? 'C++' : 'C';
}

/** A report as an auditor's prose: verdict, then per finding root cause, trigger, impact, remediation. */
export function reportProse(report: VulnerabilityReport): string {
  if (report.verdict === 'not_vulnerable' || report.findings.length === 0) {
    return ['Verdict: not vulnerable.', ...report.reasoning].join('\n');
  }
  const parts: string[] = ['Verdict: vulnerable.'];
  for (const f of report.findings) {
    parts.push(
      `${f.cwe}: ${f.title} (severity ${f.severity}, lines ${f.location.start_line}-${f.location.end_line} in ${f.location.function || 'the file'}).`,
      `Vulnerable code: ${f.fragment}`,
      `Root cause: ${f.root_cause}`,
      `Trigger: ${f.trigger}`,
      `Impact: ${f.impact}`,
      `Remediation: ${f.remediation}`,
      ...f.evidence.map((e) => `Line ${e.line}: ${e.step}`),
    );
    if (f.fix) parts.push(`Fix:\n${f.fix}`);
  }
  parts.push(...report.reasoning);
  return parts.join('\n');
}

function synthDocuments(s: SynthSample, cweIds: readonly string[]): CorpusDocument[] {
  const lang = languageName(s.language);
  const out = [
    doc('synth-code', `Write a ${lang} function.`, s.code),
    doc('synth-prose', `Audit this ${lang} code and explain what you find.`, `${s.code}\n\n${reportProse(s.report)}`),
  ];
  const target = reportToStudentText(s.report, { lineCount: codeLines(s.code).length, cweIds });
  if (target.ok) out.push({ kind: 'synth-report', messages: [...buildReportMessages(s.code, { language: s.language }), { role: 'assistant', content: target.text }] });
  return out;
}

/** Every pretraining document except Juliet's, in generation order. */
export function* bundledDocuments(options: Pick<CorpusOptions, 'synthCount' | 'synthSeed'>): Generator<CorpusDocument> {
  for (const c of listCwes()) {
    if (c.deprecated) continue;
    yield doc('cwe', `Describe ${c.id}.`, `${c.id}: ${c.name}.\n${c.description}`);
  }
  const cweIds = studentCweIds();
  for (const s of iterateSynth({ count: options.synthCount, seed: options.synthSeed })) yield* synthDocuments(s, cweIds);
}

/**
 * Juliet functions (code only: labels, names and test-case ids would teach nothing a base needs),
 * every k-th of `rows` so a limit below the whole file still covers every CWE.
 */
export async function* julietDocuments(path: string, limit: number, rows = JULIET_ROWS): AsyncGenerator<CorpusDocument> {
  if (limit <= 0) return;
  const stride = Math.max(1, Math.floor(rows / limit));
  const input = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  let row = 0;
  let taken = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    if (row++ % stride !== 0) continue;
    let parsed: { func?: unknown; language?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      continue;
    }
    if (typeof parsed.func !== 'string' || !parsed.func.trim()) continue;
    yield doc('juliet', `Write a ${languageName(parsed.language === 'cpp' ? 'cpp' : 'c')} function.`, parsed.func);
    if (++taken >= limit) break;
  }
  lines.close();
  input.destroy();
}

/** Writes the corpus as chat JSONL (one {"messages": [...]} per line) and returns its size. */
export async function writeCorpus(outPath: string, options: CorpusOptions): Promise<CorpusStats> {
  const kinds: DocumentKind[] = ['synth-code', 'synth-prose', 'synth-report', 'cwe', 'juliet'];
  const stats: CorpusStats = {
    documents: 0,
    characters: 0,
    byKind: Object.fromEntries(kinds.map((k) => [k, { documents: 0, characters: 0 }])) as CorpusStats['byKind'],
    juliet: options.julietPath && existsSync(options.julietPath) ? 'used' : 'absent',
  };
  const out = createWriteStream(outPath);
  const write = async (d: CorpusDocument): Promise<void> => {
    const chars = d.messages.reduce((n, m) => n + m.content.length, 0);
    stats.documents++;
    stats.characters += chars;
    stats.byKind[d.kind].documents++;
    stats.byKind[d.kind].characters += chars;
    if (!out.write(`${JSON.stringify({ messages: d.messages })}\n`)) await once(out, 'drain');
  };
  for (const d of bundledDocuments(options)) await write(d);
  if (stats.juliet === 'used') for await (const d of julietDocuments(options.julietPath!, options.julietLimit)) await write(d);
  out.end();
  await once(out, 'finish');
  return stats;
}
