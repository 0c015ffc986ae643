/**
 * A training or evaluation set from chat JSONL: read and checked line by line (malformed lines
 * reported with their numbers and handed to onRejection), tokenized through node-llama-cpp, with
 * the --seq-len policy applied and everything dropped counted.
 */
import { InputError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { formatProblems, readExamples } from '../../distill/read-examples.js';
import type { EngineModel } from '../model/weights.js';
import { prepareExamples, type ChatTokenizer, type LongPolicy, type PreparedExamples } from './data.js';

export interface DataSummary {
  file: string;
  lines: number;
  malformed: number;
  examples: number;
  skippedLong: number;
  truncated: number;
  noAnswer: number;
  tokens: number;
  trainedTokens: number;
}

export interface LoadedData {
  summary: DataSummary;
  prepared: PreparedExamples;
}

export interface LoadOptions {
  seqLen: number;
  long: LongPolicy;
  logger: Logger;
  onRejection?: (source: string, line: number, reason: string) => void;
}

export async function loadExamples(path: string, tokenizer: ChatTokenizer, role: string, o: LoadOptions): Promise<LoadedData> {
  const read = await readExamples(path);
  if (read.problems.length > 0) {
    o.logger.warn(`${path}: ${read.problems.length} malformed example line(s) skipped:\n${formatProblems(path, read.problems)}`);
    for (const p of read.problems) o.onRejection?.(path, p.line, p.message);
  }
  if (read.examples.length === 0) {
    throw new InputError(
      `${path}: no ${role} examples (${read.lines} non-empty line(s)${read.problems.length ? `, ${read.problems.length} malformed` : ''}); ` +
        'expected chat JSONL, one {"messages": [...]} per line',
    );
  }
  const prepared = prepareExamples(tokenizer, read.examples, read.lineNumbers, { seqLen: o.seqLen, long: o.long });
  const summary: DataSummary = {
    file: path,
    lines: read.lines,
    malformed: read.problems.length,
    examples: prepared.sequences.length,
    skippedLong: prepared.skippedLong.length,
    truncated: prepared.truncated,
    noAnswer: prepared.noAnswer.length,
    tokens: prepared.tokens,
    trainedTokens: prepared.trainedTokens,
  };
  const notes: string[] = [];
  if (prepared.skippedLong.length) notes.push(`${prepared.skippedLong.length} longer than --seq-len ${o.seqLen} skipped (lines ${sample(prepared.skippedLong)})`);
  if (prepared.truncated) notes.push(`${prepared.truncated} truncated to --seq-len ${o.seqLen}`);
  if (prepared.noAnswer.length) notes.push(`${prepared.noAnswer.length} with no answer token within --seq-len skipped (lines ${sample(prepared.noAnswer)})`);
  o.logger.info(
    `${role} data ${path}: ${prepared.sequences.length} examples, ${prepared.tokens} tokens (${prepared.trainedTokens} trained), ${prepared.chatFormat} template` +
      (notes.length ? `; ${notes.join('; ')}` : ''),
  );
  if (prepared.sequences.length === 0) {
    throw new InputError(`${path}: none of the ${read.examples.length} ${role} examples fits --seq-len ${o.seqLen} (use a larger --seq-len or --long truncate)`);
  }
  return { summary, prepared };
}

function sample(lines: number[]): string {
  return lines.slice(0, 5).join(', ') + (lines.length > 5 ? ', ...' : '');
}

export function checkVocabulary(model: EngineModel, data: LoadedData, path: string): void {
  const V = model.config.vocab;
  data.prepared.sequences.forEach((q, i) => {
    for (const t of q.tokens) {
      if (t < 0 || t >= V) throw new InputError(`${path}:${data.prepared.lines[i]}: token ${t} is outside the model's vocabulary of ${V} (tokenizer and weights disagree)`);
    }
  });
}

