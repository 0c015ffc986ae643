import type { LearnSummary, RoundSummary } from './loop.js';

const num = (x: number | null | undefined): string => (x === null || x === undefined ? 'na' : x.toFixed(3));
const signed = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(3);

/** One round as text: what went in, what was trained, and before/after per suite. */
export function renderRound(r: RoundSummary): string {
  const lines = [`round ${r.round}: ${r.decision.toUpperCase()}${r.candidate ? ` candidate ${r.candidate}` : ''} (parent ${r.parent})`];
  const f = r.feedback;
  const harvested = f.harvests.map((h) => `${h.run}: ${h.accepted} accepted, ${h.refused} refused of ${h.predictions} predictions`).join('; ');
  lines.push(`  feedback: ${f.selected} hard cases (${f.trained.length} trained, ${f.heldOut.length} held out)${f.newlyRefused ? `, ${f.newlyRefused} refused now` : ''}${harvested ? `; harvested ${harvested}` : ''}`);
  if (r.knowledge) lines.push(`  teacher: ${r.knowledge.accepted} new accepted, ${r.knowledge.rejected} rejected, ${r.knowledge.reused} reused, ${r.knowledge.failed} failed (${r.knowledge.teacher})`);
  if (r.examples.hard) {
    lines.push(`  data: ${r.examples.hard} hard + ${r.examples.replay} replay examples (pool ${r.examples.replayPool}${r.examples.replayDropped ? `, ${r.examples.replayDropped} dropped as evaluation duplicates` : ''})`);
  }
  if (r.training) {
    lines.push(`  update: ${r.training.steps} steps warm-started from ${r.parent}, loss ${num(r.training.firstLoss)} -> ${num(r.training.loss)}, rank ${r.training.rank}, ${r.training.seconds.toFixed(1)}s`);
  }
  if (r.suites.length) {
    const width = Math.max(5, ...r.suites.map((s) => s.suite.length));
    lines.push(`  ${'suite'.padEnd(width)}  role        metric     n   before   after    delta   flagged before->after`);
    for (const s of r.suites) {
      const flagged = `${num(s.figures.before.flagged)}->${num(s.figures.after.flagged)}`;
      const mark = s.role === 'regression' ? (s.ok ? ' ok' : ' FELL') : '';
      lines.push(
        `  ${s.suite.padEnd(width)}  ${s.role.padEnd(10)}  ${s.metric.padEnd(8)} ${String(s.samples).padStart(4)}  ${num(s.before).padStart(6)}  ${num(s.after).padStart(6)}  ${signed(s.delta).padStart(7)}   ${flagged}${mark}`,
      );
    }
  }
  lines.push(`  gate: ${r.reason}`);
  return lines.join('\n');
}

export function renderLearnSummary(s: LearnSummary): string {
  return [
    `learn ${s.run}: ${s.rounds.length} round(s), ${s.promoted} promoted; current adapter ${s.current} (started from ${s.start})`,
    ...s.rounds.map(renderRound),
    `stopped: ${s.stopped}`,
    `details: ${s.dir}/summary.json`,
  ].join('\n');
}
