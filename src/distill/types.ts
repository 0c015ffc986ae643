import type { ChatMessage } from '../runtime/chat-types.js';
import type { Verdict, VulnerabilityReport } from '../report/schema.js';
import type { Sample } from '../kb/samples.js';

export type { ChatMessage } from '../runtime/chat-types.js';

/** The tasks, in curriculum order: from the easiest question to the full report. */
export const DISTILL_TASKS = ['detect', 'classify', 'localize', 'fragment', 'explain', 'reasoning', 'report'] as const;
export type DistillTask = (typeof DISTILL_TASKS)[number];

/** What distill reads per sample: its one accepted knowledge record and the sample it describes. */
export interface KnowledgeItem {
  knowledgeId: number;
  teacher: string;
  report: VulnerabilityReport;
  sample: Sample;
  dataset: string;
  verdict: Verdict;
  /** The first finding's CWE (positives) or the weakness the sample is the safe side of (negatives). */
  cwe: string | null;
  pair: PairInfo | null;
}

/** A vulnerable/fixed pair, as recorded on both sides. */
export interface PairInfo {
  id: string;
  /** This sample's side of the pair. */
  role: 'vulnerable' | 'fixed';
  twin_sample_id: number | null;
  /** The twin's knowledge record when the twin is distilled too. */
  twin_knowledge_id: number | null;
}

/** One line of the distilled JSONL: the conversation first, then its metadata. */
export interface ExampleLine {
  messages: ChatMessage[];
  id: string;
  task: DistillTask;
  dataset: string;
  /** The sample's split. */
  split: string | null;
  sample_id: number;
  knowledge_id: number;
  teacher: string;
  prompt_version: string;
  prompt_hash: string;
  label: Verdict;
  cwe: string | null;
  pair: PairInfo | null;
  /** Lines of the code in the prompt (the curriculum orders by it). */
  code_lines: number;
  /** Tokens of the whole conversation under the base model's chat template (null without --base). */
  tokens: number | null;
  content_hash: string;
  run_id: string;
}

export function isDistillTask(value: string): value is DistillTask {
  return (DISTILL_TASKS as readonly string[]).includes(value);
}
