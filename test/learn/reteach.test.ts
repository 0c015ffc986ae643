import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedKnowledge, listFeedback } from '../../src/kb/feedback.js';
import { getKnowledge } from '../../src/kb/knowledge.js';
import { addFeedback } from '../../src/learn/feedback.js';
import { buildHardExamples } from '../../src/learn/hard-examples.js';
import { reteach } from '../../src/learn/reteach.js';
import { SilentLogger } from '../../src/util/log.js';
import { samplesOf, splitWorkspace, type LearnFixture } from './fixtures.js';

let f: LearnFixture;
beforeAll(async () => {
  // Blind reference knowledge exists already (teach); re-teaching asks again with the hinted prompt.
  f = await splitWorkspace({ cwes: 'CWE-134,CWE-369', count: 16, teach: true });
});
afterAll(() => f.cleanup());

describe('re-teaching hard cases', () => {
  it('writes new knowledge for each hard case, linked to the feedback that caused it, and reuses it the second time', async () => {
    const w = f.open();
    try {
      const train = samplesOf(w, 'syn', 'train');
      const vuln = train.filter((s) => s.label === 1).slice(0, 2);
      const safe = train.find((s) => s.label === 0)!;
      for (const s of vuln) await addFeedback(w, { target: { sampleId: s.id }, kind: 'false_negative' });
      await addFeedback(w, { target: { sampleId: vuln[0]!.id }, kind: 'ungrounded', note: 'second item, same sample' });
      await addFeedback(w, { target: { sampleId: safe.id }, kind: 'false_positive' });
      // Code with no label (an ungrounded report on a file's function): the reference teacher refuses it.
      writeFileSync(join(f.dir, 'odd.c'), 'int odd(int x)\n{\n    return x / 3;\n}\n');
      await addFeedback(w, { target: { file: join(f.dir, 'odd.c'), functionName: 'odd' }, kind: 'ungrounded' });
      const feedback = listFeedback(w.db, { status: 'accepted' });
      expect(feedback).toHaveLength(5);

      const logger = new SilentLogger();
      const first = await reteach({ db: w.db, config: w.config, logger }, feedback);
      expect(first).toMatchObject({ teacher: 'reference', samples: 4, accepted: 3, rejected: 0, reused: 0, failed: 1 });
      const links = linkedKnowledge(w.db, feedback.map((x) => x.id));
      const [a, b, c, d] = feedback;
      expect(links.get(a!.id)).toEqual(links.get(c!.id)); // two items about one sample share its record
      for (const item of [a, b, c, d]) {
        const k = getKnowledge(w.db, links.get(item!.id)![0]!)!;
        expect(k).toMatchObject({ status: 'accepted', prompt_version: 'detect-v1-hinted', hinted: 1, run_id: first.run, sample_id: item!.sample_id });
        expect(JSON.parse(k.meta).feedback).toContain(item!.id);
      }
      expect(links.get(feedback[4]!.id)).toBeUndefined();
      expect(w.db.prepare("SELECT reason FROM rejections WHERE stage = 'reteach'").all()).toEqual([{ reason: expect.stringMatching(/it has no label/) }]);

      const second = await reteach({ db: w.db, config: w.config, logger }, feedback);
      expect(second).toMatchObject({ accepted: 0, reused: 3, failed: 1 });
      expect(linkedKnowledge(w.db, [a!.id]).get(a!.id)).toEqual(links.get(a!.id));

      const ids = [...new Set(feedback.flatMap((x) => links.get(x.id) ?? []))];
      const hard = buildHardExamples(w.db, ids, ['detect', 'localize'], 'run-x');
      // 3 samples x detect, and localize for the 2 vulnerable ones.
      expect(hard.examples.map((e) => e.task).sort()).toEqual(['detect', 'detect', 'detect', 'localize', 'localize']);
      expect(hard.examples.find((e) => e.sample_id === safe.id)).toMatchObject({ task: 'detect', label: 'not_vulnerable' });
      expect(JSON.parse(hard.examples.find((e) => e.sample_id === vuln[0]!.id && e.task === 'detect')!.messages[2]!.content)).toEqual({ verdict: 'vulnerable' });
    } finally {
      w.close();
    }
  });
});
