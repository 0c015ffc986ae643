/**
 * Small inline SVG charts for report.html (no scripts, no external resources): grouped bars and
 * a 2x2 confusion matrix. Every text is escaped.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const PALETTE = ['#4269d0', '#ef8a3b', '#3ca951', '#ff725c', '#6cc5b0', '#a463f2', '#ff8ab7', '#9c6b4e', '#97bbf5', '#7a7a7a'];

export interface BarSeries {
  name: string;
  values: Array<number | null>;
}

/**
 * Grouped bars: one group per category, one bar per series. Values run from min(0, lowest) to
 * max(1, highest); a missing value (null) is drawn as "na".
 */
export function groupedBars(title: string, categories: readonly string[], series: readonly BarSeries[], options: { yLabel?: string } = {}): string {
  const barW = 14;
  const gap = 18;
  const groupW = series.length * barW + gap;
  const left = 44;
  const top = 28;
  const plotH = 180;
  const labelH = 70;
  const width = Math.max(360, left + categories.length * groupW + 60, left + Math.min(series.length, 4) * 160);
  const legendRows = Math.ceil(series.length / 4);
  const height = top + plotH + labelH + legendRows * 18 + 8;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const lo = Math.min(0, ...all);
  const hi = Math.max(1, ...all);
  const y = (v: number): number => top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<text x="${left}" y="16" class="chart-title">${escapeHtml(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(`<line x1="${left}" x2="${width - 4}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${v.toFixed(2)}</text>`);
  }
  if (options.yLabel) parts.push(`<text x="10" y="${top + plotH / 2}" transform="rotate(-90 10 ${top + plotH / 2})" text-anchor="middle" class="tick">${escapeHtml(options.yLabel)}</text>`);
  categories.forEach((cat, ci) => {
    const gx = left + ci * groupW + gap / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * barW;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        parts.push(`<text x="${x + barW / 2}" y="${y(0) - 3}" text-anchor="middle" class="na">na</text>`);
        return;
      }
      const upper = y(Math.max(v, 0));
      const h = Math.max(0.5, y(Math.min(v, 0)) - upper);
      parts.push(
        `<rect x="${x}" y="${upper.toFixed(1)}" width="${barW - 2}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeHtml(`${s.name} · ${cat}: ${v.toFixed(3)}`)}</title></rect>`,
      );
    });
    const lx = gx + (series.length * barW) / 2;
    parts.push(`<text x="${lx}" y="${top + plotH + 12}" transform="rotate(35 ${lx} ${top + plotH + 12})" class="tick">${escapeHtml(cat.length > 22 ? cat.slice(0, 21) + '…' : cat)}</text>`);
  });
  series.forEach((s, si) => {
    const lx = left + (si % 4) * 160;
    const ly = top + plotH + labelH + Math.floor(si / 4) * 18;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly}" class="tick">${escapeHtml(s.name.length > 24 ? s.name.slice(0, 23) + '…' : s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A confusion matrix: rows are the truth, columns the prediction; shade by share of the row. */
export function confusionMatrix(name: string, c: { tp: number; fp: number; tn: number; fn: number }): string {
  const cell = 64;
  const left = 92;
  const top = 40;
  const width = left + 2 * cell + 8;
  const height = top + 2 * cell + 10;
  const rows = [
    { label: 'vulnerable', cells: [c.tp, c.fn], total: c.tp + c.fn, good: 0 },
    { label: 'fixed/benign', cells: [c.fp, c.tn], total: c.fp + c.tn, good: 1 },
  ];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`confusion matrix of ${name}`)}">`);
  parts.push(`<text x="4" y="14" class="chart-title">${escapeHtml(name)}</text>`);
  parts.push(`<text x="${left + cell / 2}" y="${top - 6}" text-anchor="middle" class="tick">said vuln.</text>`);
  parts.push(`<text x="${left + 1.5 * cell}" y="${top - 6}" text-anchor="middle" class="tick">said safe</text>`);
  rows.forEach((r, ri) => {
    parts.push(`<text x="${left - 6}" y="${top + ri * cell + cell / 2 + 4}" text-anchor="end" class="tick">${r.label}</text>`);
    r.cells.forEach((v, ci) => {
      const share = r.total > 0 ? v / r.total : 0;
      const good = ci === r.good;
      const color = good ? `rgba(60,169,81,${(0.15 + 0.75 * share).toFixed(3)})` : `rgba(255,114,92,${(0.15 + 0.75 * share).toFixed(3)})`;
      const x = left + ci * cell;
      const yy = top + ri * cell;
      parts.push(`<rect x="${x}" y="${yy}" width="${cell - 2}" height="${cell - 2}" fill="${color}"/>`);
      parts.push(`<text x="${x + cell / 2 - 1}" y="${yy + cell / 2 + 5}" text-anchor="middle" class="cm">${v}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}
