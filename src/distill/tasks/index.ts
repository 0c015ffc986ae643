import type { DistillTask } from '../types.js';
import { classifyTask } from './classify.js';
import type { TaskBuilder } from './common.js';
import { detectTask } from './detect.js';
import { explainTask } from './explain.js';
import { fragmentTask } from './fragment.js';
import { localizeTask } from './localize.js';
import { reasoningTask } from './reasoning.js';
import { reportTask } from './report.js';

export type { TaskBuilder, TaskResult } from './common.js';

export const taskBuilders: Record<DistillTask, TaskBuilder> = {
  detect: detectTask,
  classify: classifyTask,
  localize: localizeTask,
  fragment: fragmentTask,
  explain: explainTask,
  reasoning: reasoningTask,
  report: reportTask,
};
