/**
 * Finds the JSON object in a model's answer: the whole text, else the first ```json fenced block,
 * else the first balanced {...} (braces inside strings ignored). Models that were given a schema
 * usually answer with bare JSON; the rest wrap it in prose or fences.
 */
export type Extracted = { ok: true; value: unknown; how: 'whole' | 'fence' | 'braces' } | { ok: false; problem: string };

export function extractJson(text: string): Extracted {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, problem: 'the answer is empty' };
  const whole = tryParse(trimmed);
  if (whole.ok) return { ok: true, value: whole.value, how: 'whole' };
  for (const match of trimmed.matchAll(/```(?:json|JSON)?[ \t]*\n([\s\S]*?)```/g)) {
    const fenced = tryParse(match[1]!.trim());
    if (fenced.ok) return { ok: true, value: fenced.value, how: 'fence' };
  }
  let from = trimmed.indexOf('{');
  while (from >= 0) {
    const end = balancedEnd(trimmed, from);
    if (end < 0) break;
    const candidate = tryParse(trimmed.slice(from, end + 1));
    if (candidate.ok) return { ok: true, value: candidate.value, how: 'braces' };
    from = trimmed.indexOf('{', from + 1);
  }
  return { ok: false, problem: `the answer is not JSON (${whole.problem})` };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: (err as Error).message.split('\n')[0]!.slice(0, 160) };
  }
}

/** Index of the brace closing the object that opens at `start`, or -1 when it never closes. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}
