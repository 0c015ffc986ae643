import { templateChat, type TaskBuilder } from './common.js';

/** Vulnerable or not: every item, positives and negatives. */
export const detectTask: TaskBuilder = {
  task: 'detect',
  appliesTo: () => true,
  build: (item) => templateChat('detect', item, { numbered: false }, { verdict: item.verdict }),
};
