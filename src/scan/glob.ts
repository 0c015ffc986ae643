/**
 * Glob patterns with gitignore semantics, compiled to regular expressions over '/'-separated
 * paths relative to a base directory:
 * - a pattern with a '/' at its start or in its middle is anchored to the base; one without
 *   matches a name at any depth (`*.o` is `** /*.o`);
 * - `*` and `?` never cross a '/', `[...]` is a character class (`[!...]` negates);
 * - a leading `** /`, a trailing `/ **` and an inner `/ ** /` match any number of directories;
 * - `\x` is a literal x.
 * A trailing '/' (directory only) is not part of the glob: callers strip it and record it.
 */
export interface CompiledGlob {
  source: string;
  /** Tests a path relative to the base ('/'-separated, no leading './'). */
  test(path: string): boolean;
}

export function compileGlob(pattern: string): CompiledGlob {
  if (pattern === '') throw new Error('empty glob pattern');
  let body = pattern;
  const anchored = body.startsWith('/') || stripTrailingSlash(body).includes('/');
  if (body.startsWith('/')) body = body.slice(1);
  body = stripTrailingSlash(body);
  const regex = new RegExp(`^${anchored ? '' : '(?:.*/)?'}${translate(body)}$`);
  return { source: pattern, test: (path: string) => regex.test(path) };
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') && !p.endsWith('\\/') ? p.slice(0, -1) : p;
}

function translate(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
      if (atStart && atEnd) {
        if (i + 2 === glob.length) {
          // `dir/**`: everything inside (the dir itself is matched by the directory walk).
          out += '.*';
          i += 2;
        } else {
          // `**/` or `a/**/b`: zero or more directories.
          out += '(?:.*/)?';
          i += 3;
        }
        continue;
      }
      out += '[^/]*';
      i += 2;
      continue;
    }
    if (c === '*') {
      out += '[^/]*';
      i++;
      continue;
    }
    if (c === '?') {
      out += '[^/]';
      i++;
      continue;
    }
    if (c === '[') {
      const end = classEnd(glob, i);
      if (end === -1) {
        out += '\\[';
        i++;
        continue;
      }
      let cls = glob.slice(i + 1, end);
      let negate = false;
      if (cls.startsWith('!') || cls.startsWith('^')) {
        negate = true;
        cls = cls.slice(1);
      }
      const escaped = cls.replace(/\\(.)/g, '$1').replace(/[\\\]^]/g, '\\$&');
      out += `[${negate ? '^/' : ''}${escaped}]`;
      i = end + 1;
      continue;
    }
    if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegExp(glob[i + 1]!);
      i += 2;
      continue;
    }
    out += escapeRegExp(c);
    i++;
  }
  return out;
}

/** Index of the ']' closing the class opened at `open`, or -1 (then '[' is literal). */
function classEnd(glob: string, open: number): number {
  let j = open + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++;
  for (; j < glob.length; j++) {
    if (glob[j] === '\\') j++;
    else if (glob[j] === ']') return j;
  }
  return -1;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Any of several globs (empty list: matches nothing). */
export function anyGlob(patterns: readonly string[]): (path: string) => boolean {
  const compiled = patterns.map(compileGlob);
  return (path) => compiled.some((g) => g.test(path));
}
