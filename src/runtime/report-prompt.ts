import type { ChatMessage } from './chat-types.js';

/**
 * The one prompt a student sees for a report. Training examples (distill) must be built with the
 * same function, or the student is asked something it was not taught to answer.
 */
export const REPORT_SYSTEM_PROMPT =
  'You are a C/C++ security auditor. Read the numbered code and answer with one JSON vulnerability report: ' +
  'verdict, findings (CWE id, title, severity, location with 1-based lines, the vulnerable fragment copied verbatim, ' +
  'root cause, trigger, impact, remediation, evidence steps with line numbers, optional fix, confidence) and short reasoning steps. ' +
  'Report not_vulnerable with no findings when the code is safe.';

export interface ReportPromptOptions {
  /** Shown to the model as context (e.g. a file path); not required. */
  path?: string;
  language?: 'c' | 'cpp';
}

/**
 * Lines of the code as reports number them (the same rule as grounding): \r\n and \r are line
 * breaks too, and a final line break ends the last line rather than starting an empty one.
 */
export function codeLines(code: string): string[] {
  const lines = code.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Numbered code: "  12 | text", width fixed per input so the columns line up. */
export function numberCode(lines: readonly string[]): string {
  const width = String(lines.length).length;
  return lines.map((l, i) => `${String(i + 1).padStart(width)} | ${l}`).join('\n');
}

export function buildReportMessages(code: string, options: ReportPromptOptions = {}): ChatMessage[] {
  const lines = codeLines(code);
  const header = [
    options.path ? `File: ${options.path}` : undefined,
    `Language: ${options.language === 'cpp' ? 'C++' : 'C'}`,
  ].filter((s) => s !== undefined);
  return [
    { role: 'system', content: REPORT_SYSTEM_PROMPT },
    { role: 'user', content: `${header.join('\n')}\n\n${numberCode(lines)}` },
  ];
}
