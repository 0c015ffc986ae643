import type { Finding } from '../../report/schema.js';
import { renderCode, renderUser, taskTemplate } from '../prompts.js';
import type { ChatMessage, DistillTask, KnowledgeItem } from '../types.js';

/** A task's conversation for one knowledge item, or why the item gives none. */
export type TaskResult = { ok: true; messages: ChatMessage[] } | { ok: false; reason: string };

export interface TaskBuilder {
  task: DistillTask;
  /** Whether the item has what the task teaches (e.g. localize needs findings). */
  appliesTo(item: KnowledgeItem): boolean;
  build(item: KnowledgeItem): TaskResult;
}

/** Tasks about a flaw: only for vulnerable reports with findings. */
export function hasFindings(item: KnowledgeItem): boolean {
  return item.verdict === 'vulnerable' && item.report.findings.length > 0;
}

/** system + user (from the task's template) + the answer as compact JSON. */
export function templateChat(
  task: Exclude<DistillTask, 'report'>,
  item: KnowledgeItem,
  options: { numbered: boolean; findings?: string },
  answer: unknown,
): TaskResult {
  const template = taskTemplate(task);
  const user = renderUser(template, {
    language: item.sample.language,
    code: renderCode(item.sample.code, options.numbered),
    ...(options.findings !== undefined ? { findings: options.findings } : {}),
  });
  return {
    ok: true,
    messages: [
      { role: 'system', content: template.system },
      { role: 'user', content: user },
      { role: 'assistant', content: JSON.stringify(answer) },
    ],
  };
}

export function describeLocation(f: Finding): string {
  const lines = f.location.start_line === f.location.end_line ? `line ${f.location.start_line}` : `lines ${f.location.start_line}-${f.location.end_line}`;
  return f.location.function ? `in ${f.location.function}, ${lines}` : lines;
}
