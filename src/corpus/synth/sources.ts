import { an, charApi, intApi, t, type CharType, type Header, type IntType, type Line } from './code.js';
import type { Names } from './names.js';
import type { Rng } from './rng.js';

/**
 * Where the data that reaches the flaw comes from. Each kind yields the same contract: a variable
 * holding the data, the entry function's parameters, the lines that obtain it (tagged "src", and
 * "src2" for a second step), and the words the report uses to describe it.
 */
export type SourceKind = 'param' | 'stdin' | 'env' | 'socket' | 'file' | 'const';
export const allSources: readonly SourceKind[] = ['param', 'stdin', 'env', 'socket', 'file', 'const'];
/** Sources that read from outside the program (everything but a constant). */
export const externalSources: readonly SourceKind[] = ['param', 'stdin', 'env', 'socket', 'file'];
/** Sources that can deliver wide-character text without a conversion step. */
export const wideSources: readonly SourceKind[] = ['param', 'stdin', 'file', 'const'];

export interface SourceFacts {
  kind: SourceKind;
  /** The variable that carries the data to the sink. */
  name: string;
  /** Its type as a function parameter (for a sink in a helper function). */
  paramType: string;
  /** Noun phrase for the data, e.g. "the line read from standard input into `line`". */
  subject: string;
  /** Who decides its value; undefined for a constant. */
  controller?: string;
  /** For buffered text sources: how many characters the buffer can hold, terminator excluded. */
  capacity?: number;
  /** For a constant: how the report describes it (a quoted literal with its length, or the number). */
  constDescription?: string;
  /** Evidence steps for the source, by tag ("src", "src2"). */
  steps: Array<{ tag: string; text: string }>;
}

export interface SourceBlock {
  facts: SourceFacts;
  params: string[];
  headers: Header[];
  lines: Line[];
  /** The entry function's signature is where the data comes in (a parameter). */
  tagSignature: boolean;
}

export interface SourceContext {
  rng: Rng;
  names: Names;
  kind: SourceKind;
  entry: string;
}

export interface StringSourceOptions {
  charType: CharType;
  /** The literal used when the source is a constant (chosen by the template so it triggers, or not). */
  constText: string;
  /** A buffered source must be able to hold at least this many characters. */
  minCapacity?: number;
  /** ...and at most this many. */
  maxCapacity?: number;
}

const capacities = [64, 100, 128, 200, 256, 512, 1024];

export function stringSource(ctx: SourceContext, opts: StringSourceOptions): SourceBlock {
  const { rng, names, kind, entry } = ctx;
  const api = charApi(opts.charType);
  const paramType = `const ${api.type} *`;
  const headers: Header[] = ['stdio', 'string'];
  if (api.wide) headers.push('wchar');
  const pickSize = (): number => {
    const fits = capacities.filter((c) => c - 1 >= (opts.minCapacity ?? 0) && c - 1 <= (opts.maxCapacity ?? Infinity));
    return fits.length ? rng.pick(fits) : Math.max(opts.minCapacity ?? 0, 2) + 1 + rng.int(8, 40);
  };
  switch (kind) {
    case 'param': {
      const v = names.v('text');
      return {
        facts: {
          kind,
          name: v,
          paramType,
          subject: `the caller-supplied string \`${v}\``,
          controller: `the caller of \`${entry}\``,
          steps: [{ tag: 'src', text: `\`${entry}\` receives \`${v}\` from its caller; nothing limits its length or content` }],
        },
        params: [`${paramType}${v}`],
        headers,
        lines: [],
        tagSignature: true,
      };
    }
    case 'stdin':
    case 'file': {
      const buf = names.v('inbuf');
      const size = pickSize();
      const stream = kind === 'stdin' ? 'stdin' : names.v('stream');
      const count = !api.wide && rng.chance(0.5) ? `sizeof(${buf})` : String(size);
      const lines: Line[] = [`${api.type} ${buf}[${size}];`, t('src', `if (${api.fgets}(${buf}, ${count}, ${stream}) == NULL) {`), '    return;', '}'];
      if (rng.chance(0.6)) lines.push(`${buf}[${api.strcspn}(${buf}, ${api.lit('\n')})] = ${api.nul};`);
      const where = kind === 'stdin' ? 'standard input' : `\`${stream}\``;
      return {
        facts: {
          kind,
          name: buf,
          paramType,
          subject: `the line read from ${where} (in \`${buf}\`)`,
          controller: kind === 'stdin' ? 'whoever provides standard input' : 'whoever writes the input file',
          capacity: size - 1,
          steps: [{ tag: 'src', text: `${api.fgets} reads up to ${size - 1} ${api.unit} from ${where} into \`${buf}\`` }],
        },
        params: kind === 'file' ? [`FILE *${stream}`] : [],
        headers,
        lines,
        tagSignature: false,
      };
    }
    case 'env': {
      if (api.wide) throw new Error('env source is char-only');
      const v = names.v('text');
      const envName = names.envVar();
      return {
        facts: {
          kind,
          name: v,
          paramType,
          subject: `the environment variable ${envName} (\`${v}\`)`,
          controller: 'whoever sets the process environment',
          steps: [{ tag: 'src', text: `\`${v}\` is the value of the environment variable ${envName}, of any length and content` }],
        },
        params: [],
        headers: [...headers, 'stdlib'],
        lines: [t('src', `const char *${v} = getenv("${envName}");`), `if (${v} == NULL) {`, '    return;', '}'],
        tagSignature: false,
      };
    }
    case 'socket': {
      if (api.wide) throw new Error('socket source is char-only');
      const buf = names.v('inbuf');
      const sock = names.v('fd');
      const got = names.v('count');
      const size = pickSize();
      return {
        facts: {
          kind,
          name: buf,
          paramType,
          subject: `the data received from \`${sock}\` (in \`${buf}\`)`,
          controller: 'the remote peer',
          capacity: size - 1,
          steps: [{ tag: 'src', text: `recv stores up to ${size - 1} bytes sent by the peer on \`${sock}\` into \`${buf}\`` }],
        },
        params: [`int ${sock}`],
        headers: [...headers, 'sys/types', 'sys/socket'],
        lines: [
          `char ${buf}[${size}];`,
          t('src', `ssize_t ${got} = recv(${sock}, ${buf}, sizeof(${buf}) - 1, 0);`),
          `if (${got} <= 0) {`,
          '    return;',
          '}',
          `${buf}[${got}] = '\\0';`,
        ],
        tagSignature: false,
      };
    }
    case 'const': {
      const v = names.v('text');
      return {
        facts: {
          kind,
          name: v,
          paramType,
          subject: `the literal in \`${v}\``,
          constDescription: `${api.lit(opts.constText)} (${opts.constText.length} ${api.unit})`,
          steps: [{ tag: 'src', text: `\`${v}\` points to ${an(opts.constText.length)}-character string literal` }],
        },
        params: [],
        headers,
        lines: [t('src', `${paramType}${v} = ${api.lit(opts.constText)};`)],
        tagSignature: false,
      };
    }
  }
}

export interface IntSourceOptions {
  type: IntType;
  /** C expression used when the source is a constant. */
  constExpr: string;
}

export function intSource(ctx: SourceContext, opts: IntSourceOptions): SourceBlock {
  const { names, kind, entry } = ctx;
  const api = intApi(opts.type);
  const ty = opts.type;
  const v = names.v('count');
  const headers: Header[] = ['stdio', 'stdlib', api.limitsHeader];
  const scanFmt = { int: '%d', 'long long': '%lld', 'unsigned int': '%u', size_t: '%zu' }[ty];
  switch (kind) {
    case 'param':
      return {
        facts: {
          kind,
          name: v,
          paramType: ty,
          subject: `the caller-supplied value \`${v}\``,
          controller: `the caller of \`${entry}\``,
          steps: [{ tag: 'src', text: `\`${entry}\` receives \`${v}\` from its caller; its value is not checked` }],
        },
        params: [`${ty} ${v}`],
        headers,
        lines: [],
        tagSignature: true,
      };
    case 'stdin':
    case 'env': {
      const text = names.v('inbuf');
      const lines: Line[] =
        kind === 'stdin'
          ? [`char ${text}[32];`, t('src', `if (fgets(${text}, sizeof(${text}), stdin) == NULL) {`), '    return;', '}']
          : [t('src', `const char *${text} = getenv("${names.envVar()}");`), `if (${text} == NULL) {`, '    return;', '}'];
      lines.push(t('src2', `${ty} ${v} = ${api.parse(text)};`));
      const origin = kind === 'stdin' ? 'standard input' : 'an environment variable';
      return {
        facts: {
          kind,
          name: v,
          paramType: ty,
          subject: `\`${v}\` (parsed from ${origin})`,
          controller: kind === 'stdin' ? 'whoever provides standard input' : 'whoever sets the process environment',
          steps: [
            { tag: 'src', text: kind === 'stdin' ? `fgets reads a line of text from standard input into \`${text}\`` : `\`${text}\` is taken from the environment with getenv` },
            { tag: 'src2', text: `\`${v}\` is converted from that text without any range check` },
          ],
        },
        params: [],
        headers,
        lines,
        tagSignature: false,
      };
    }
    case 'socket': {
      const sock = names.v('fd');
      return {
        facts: {
          kind,
          name: v,
          paramType: ty,
          subject: `\`${v}\` (received from \`${sock}\`)`,
          controller: 'the remote peer',
          steps: [{ tag: 'src', text: `recv copies sizeof(${v}) raw bytes sent by the peer on \`${sock}\` into \`${v}\`` }],
        },
        params: [`int ${sock}`],
        headers: [...headers, 'sys/types', 'sys/socket'],
        lines: [`${ty} ${v};`, t('src', `if (recv(${sock}, &${v}, sizeof(${v}), 0) != (ssize_t)sizeof(${v})) {`), '    return;', '}'],
        tagSignature: false,
      };
    }
    case 'file': {
      const stream = names.v('stream');
      return {
        facts: {
          kind,
          name: v,
          paramType: ty,
          subject: `\`${v}\` (read from \`${stream}\`)`,
          controller: 'whoever writes the input file',
          steps: [{ tag: 'src', text: `fscanf reads \`${v}\` from \`${stream}\`; any value the file holds is accepted` }],
        },
        params: [`FILE *${stream}`],
        headers,
        lines: [`${ty} ${v};`, t('src', `if (fscanf(${stream}, "${scanFmt}", &${v}) != 1) {`), '    return;', '}'],
        tagSignature: false,
      };
    }
    case 'const':
      return {
        facts: {
          kind,
          name: v,
          paramType: ty,
          subject: `\`${v}\``,
          constDescription: opts.constExpr,
          steps: [{ tag: 'src', text: `\`${v}\` is initialised to ${opts.constExpr}` }],
        },
        params: [],
        headers,
        lines: [t('src', `${ty} ${v} = ${opts.constExpr};`)],
        tagSignature: false,
      };
  }
}
