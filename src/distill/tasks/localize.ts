import { hasFindings, templateChat, type TaskBuilder } from './common.js';

/** Where: the function and the line range of each finding, on numbered code. */
export const localizeTask: TaskBuilder = {
  task: 'localize',
  appliesTo: hasFindings,
  build: (item) =>
    templateChat(
      'localize',
      item,
      { numbered: true },
      {
        findings: item.report.findings.map((f) => ({
          cwe: f.cwe,
          location: { function: f.location.function, start_line: f.location.start_line, end_line: f.location.end_line },
        })),
      },
    ),
};
