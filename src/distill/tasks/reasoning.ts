import { templateChat, type TaskBuilder } from './common.js';

/**
 * Step by step: the evidence of every finding (in order), the reasoning steps, and only then the
 * verdict, so the answer reaches the conclusion through its steps. Negatives have no evidence.
 */
export const reasoningTask: TaskBuilder = {
  task: 'reasoning',
  appliesTo: () => true,
  build: (item) =>
    templateChat(
      'reasoning',
      item,
      { numbered: true },
      {
        evidence: item.report.findings.flatMap((f) => f.evidence.map((e) => ({ line: e.line, step: e.step }))),
        reasoning: item.report.reasoning,
        verdict: item.verdict,
      },
    ),
};
