import { getCwe } from '../../cwe/index.js';
import { hasFindings, templateChat, type TaskBuilder } from './common.js';

/** Which weakness: the CWE id and its catalog name, one per finding. */
export const classifyTask: TaskBuilder = {
  task: 'classify',
  appliesTo: hasFindings,
  build: (item) =>
    templateChat(
      'classify',
      item,
      { numbered: false },
      { findings: item.report.findings.map((f) => ({ cwe: f.cwe, name: getCwe(f.cwe)?.name ?? f.title })) },
    ),
};
