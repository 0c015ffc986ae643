import type { z } from 'zod';
import { reportSchema, type VulnerabilityReport } from './schema.js';

/** One reason a report is rejected: a stable code, a one-line human message, and where. */
export interface ReportProblem {
  code: string;
  /** One line, self-contained: starts with the path when there is one. */
  message: string;
  /** Dotted path into the report, e.g. "findings[0].location.start_line"; "" for the whole report. */
  path: string;
}

export type ParseResult = { ok: true; report: VulnerabilityReport } | { ok: false; problems: ReportProblem[] };

/** "findings[0].location.start_line" from zod's ["findings", 0, "location", "start_line"]. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

export function problem(code: string, path: string, text: string): ReportProblem {
  return { code, path, message: path ? `${path}: ${text}` : text };
}

/**
 * Parses a report from JSON text (optionally wrapped in a ```json fence, as models like to do) or
 * from an already-parsed value, and validates it against the report schema. Every schema issue
 * becomes one problem naming its path.
 */
export function parseReport(input: unknown): ParseResult {
  let value: unknown = input;
  if (typeof input === 'string') {
    const text = unfence(input);
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      return { ok: false, problems: [problem('invalid_json', '', `not valid JSON (${reason})`)] };
    }
  }
  const parsed = reportSchema.safeParse(value);
  if (parsed.success) return { ok: true, report: parsed.data };
  return { ok: false, problems: parsed.error.issues.map(issueToProblem) };
}

function unfence(text: string): string {
  const m = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return m ? m[1]! : text;
}

function issueToProblem(issue: z.core.$ZodIssue): ReportProblem {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return problem('schema', path, `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return problem('schema', path, `missing (expected ${issue.expected})`);
  }
  return problem('schema', path, issue.message.replace(/\s+/g, ' '));
}
