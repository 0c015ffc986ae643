/**
 * The distill prompt templates, one per task, version distill-v1. Changing any text here changes
 * the prompt hash stored with every example; bump the version too when the meaning changes.
 * {{name}} fields are filled once, in one pass, so code containing "{{code}}" is never expanded.
 *
 * Answers are compact JSON whose keys are the report's own (a subset of it, in the report's key
 * order), so every task teaches the same vocabulary the full report uses.
 */
import { codeLines, numberCode, REPORT_SYSTEM_PROMPT, buildReportMessages } from '../runtime/report-prompt.js';
import { studentReportJsonSchema } from '../runtime/report-schema.js';
import { studentCweIds } from '../runtime/generate-report.js';
import { fill } from '../teacher/prompts/index.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import type { DistillTask } from './types.js';

export interface TaskTemplate {
  task: DistillTask;
  version: string;
  system: string;
  /** The user message; fields: language, code (plain or numbered, per task), findings (explain). */
  user: string;
}

const ROLE = 'You are a C/C++ security auditor.';

const templates: Record<Exclude<DistillTask, 'report'>, TaskTemplate> = {
  detect: {
    task: 'detect',
    version: 'detect-v1',
    system: `${ROLE} Decide whether the function below is vulnerable. Answer with one JSON object: {"verdict": "vulnerable"} or {"verdict": "not_vulnerable"}.`,
    user: 'Language: {{language}}\n\n{{code}}',
  },
  classify: {
    task: 'classify',
    version: 'classify-v1',
    system: `${ROLE} The function below is vulnerable. Name each weakness as a CWE id with its name. Answer with one JSON object: {"findings": [{"cwe": "CWE-...", "name": "..."}]}.`,
    user: 'Language: {{language}}\n\n{{code}}',
  },
  localize: {
    task: 'localize',
    version: 'localize-v1',
    system: `${ROLE} The numbered function below is vulnerable. For each weakness give its CWE id and where it is: the function and the first and last 1-based line. Answer with one JSON object: {"findings": [{"cwe": "CWE-...", "location": {"function": "...", "start_line": N, "end_line": N}}]}.`,
    user: 'Language: {{language}}\n\n{{code}}',
  },
  fragment: {
    task: 'fragment',
    version: 'fragment-v1',
    system: `${ROLE} The function below is vulnerable. For each weakness give its CWE id and quote the minimal vulnerable code verbatim (usually one to three lines). Answer with one JSON object: {"findings": [{"cwe": "CWE-...", "fragment": "..."}]}.`,
    user: 'Language: {{language}}\n\n{{code}}',
  },
  explain: {
    task: 'explain',
    version: 'explain-v1',
    system: `${ROLE} The numbered function below has the weaknesses listed after it. Explain each one, in the order listed: its root cause, the conditions that trigger it, its impact and how to fix it. Answer with one JSON object: {"findings": [{"cwe": "CWE-...", "root_cause": "...", "trigger": "...", "impact": "...", "remediation": "..."}]}.`,
    user: 'Language: {{language}}\n\n{{code}}\n\nWeaknesses:\n{{findings}}',
  },
  reasoning: {
    task: 'reasoning',
    version: 'reasoning-v1',
    system: `${ROLE} Reason step by step about the numbered function below before you decide: first the evidence (each step a line and what happens there; none when nothing is unsafe), then short reasoning steps, then the verdict. Answer with one JSON object: {"evidence": [{"line": N, "step": "..."}], "reasoning": ["..."], "verdict": "vulnerable" | "not_vulnerable"}.`,
    user: 'Language: {{language}}\n\n{{code}}',
  },
};

export function taskTemplate(task: Exclude<DistillTask, 'report'>): TaskTemplate {
  return templates[task];
}

/** The report task's prompt is the runtime's own; its version names that contract. */
export const REPORT_PROMPT_VERSION = 'report-runtime-v1';

const hashes = new Map<DistillTask, string>();

/**
 * Hash of everything that shapes a task's prompt and answer. For the report task that is the
 * runtime's prompt (rendered on a probe, so a layout change shows) and the student's schema.
 */
export function promptHash(task: DistillTask): string {
  let hash = hashes.get(task);
  if (hash === undefined) {
    hash =
      task === 'report'
        ? sha256(
            canonicalJson({
              system: REPORT_SYSTEM_PROMPT,
              probe: buildReportMessages('int x;\n', { language: 'c' }),
              schema: studentReportJsonSchema({ lineCount: 1, cweIds: studentCweIds() }),
            }),
          )
        : sha256(canonicalJson(templates[task]));
    hashes.set(task, hash);
  }
  return hash;
}

export function promptVersion(task: DistillTask): string {
  return task === 'report' ? REPORT_PROMPT_VERSION : templates[task].version;
}

/** The code as the user message shows it: numbered ("  12 | text") when the task cites lines. */
export function renderCode(code: string, numbered: boolean): string {
  const lines = codeLines(code);
  return numbered ? numberCode(lines) : lines.join('\n');
}

export function renderUser(template: TaskTemplate, vars: { language: 'c' | 'cpp'; code: string; findings?: string }): string {
  return fill(template.user, {
    language: vars.language === 'cpp' ? 'C++' : 'C',
    code: vars.code,
    findings: vars.findings ?? '',
  });
}
