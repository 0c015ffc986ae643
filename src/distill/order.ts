import { seededRank } from './balance.js';
import { DISTILL_TASKS, type ExampleLine } from './types.js';

/**
 * The order examples are written (and trained) in, deterministic by the seed. Shuffled by default;
 * with the curriculum, by task (detect -> classify -> localize -> fragment -> explain ->
 * reasoning -> report), then shorter code first, ties by the seeded shuffle.
 */
export function orderExamples(examples: ExampleLine[], options: { curriculum: boolean; seed: number }): ExampleLine[] {
  const rank = new Map(examples.map((e) => [e, seededRank(options.seed, e.id)]));
  const stage = (e: ExampleLine): number => DISTILL_TASKS.indexOf(e.task);
  return [...examples].sort((a, b) => {
    if (options.curriculum) {
      const byStage = stage(a) - stage(b);
      if (byStage !== 0) return byStage;
      const byLength = a.code_lines - b.code_lines;
      if (byLength !== 0) return byLength;
    }
    return rank.get(a)! - rank.get(b)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
}
