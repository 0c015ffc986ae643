import { codeLines } from '../runtime/report-prompt.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { promptHash, promptVersion } from './prompts.js';
import type { ChatMessage, DistillTask, ExampleLine, KnowledgeItem } from './types.js';

/**
 * One example with its metadata. The id depends only on what the example is (knowledge record,
 * task, prompt version, conversation), so the same inputs always give the same ids.
 */
export function makeExample(item: KnowledgeItem, task: DistillTask, messages: ChatMessage[], runId: string): ExampleLine {
  const contentHash = sha256(canonicalJson(messages));
  const version = promptVersion(task);
  return {
    messages,
    id: sha256(canonicalJson({ knowledge: item.knowledgeId, task, version, content: contentHash })).slice(0, 20),
    task,
    dataset: item.dataset,
    split: item.sample.split,
    sample_id: item.sample.id,
    knowledge_id: item.knowledgeId,
    teacher: item.teacher,
    prompt_version: version,
    prompt_hash: promptHash(task),
    label: item.verdict,
    cwe: item.cwe,
    pair: item.pair,
    code_lines: codeLines(item.sample.code).length,
    tokens: null,
    content_hash: contentHash,
    run_id: runId,
  };
}

/** The JSONL text of an example: keys in one fixed order, one line. */
export function exampleJson(e: ExampleLine): string {
  const ordered: ExampleLine = {
    messages: e.messages,
    id: e.id,
    task: e.task,
    dataset: e.dataset,
    split: e.split,
    sample_id: e.sample_id,
    knowledge_id: e.knowledge_id,
    teacher: e.teacher,
    prompt_version: e.prompt_version,
    prompt_hash: e.prompt_hash,
    label: e.label,
    cwe: e.cwe,
    pair: e.pair,
    code_lines: e.code_lines,
    tokens: e.tokens,
    content_hash: e.content_hash,
    run_id: e.run_id,
  };
  return JSON.stringify(ordered);
}
