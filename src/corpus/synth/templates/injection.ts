import { charApi, indent, printString, t, type Line } from '../code.js';
import { externalSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { q, trigger } from './text.js';

/** Untrusted text reaching an interpreter: printf formats, shell commands, file paths. */

export const formatString: SynthTemplate = {
  id: 'format-string',
  cwe: 'CWE-134',
  summary: 'input string passed as the format argument of a printf-family function',
  languages: ['c', 'cpp'],
  sources: externalSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const form = rng.pick(['printf', 'fprintf', 'snprintf']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: 'unused' });
    const data = source.facts.name;
    const out = names.v('buffer');
    const size = rng.pick([64, 100, 128, 256]);
    const fmt = api.lit(api.fmtS);
    const fnName = { printf: api.printf, fprintf: api.fprintf, snprintf: api.snprintf }[form]!;
    const call = (format: string): string => {
      if (form === 'printf') return `${api.printf}(${format});`;
      if (form === 'fprintf') return `${api.fprintf}(stderr, ${format});`;
      return `${api.snprintf}(${out}, ${api.wide ? size : `sizeof(${out})`}, ${format});`;
    };
    const withArg = (f: string): string => `${f}, ${data}`;
    const show = printString(rng, api, out);
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const line = variant === 'vulnerable' ? t('flaw', call(data)) : t('fix', call(withArg(fmt)));
        return form === 'snprintf' ? [`${api.type} ${out}[${size}];`, line, show] : [line];
      },
      explain(x) {
        return {
          title: `Format string vulnerability: ${q(data)} used as the format of ${fnName}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} passes ${x.src.subject} to ${fnName} as its format string, so any conversion specifiers in the input are interpreted.`,
          trigger: trigger(x, 'contains conversion specifiers such as %x, %s or %n'),
          impact: `%x and %s leak stack and heap memory, %s on a non-pointer crashes the process, and %n writes to memory, which can be turned into arbitrary code execution.`,
          remediation: `Use a constant format and pass the input as an argument: ${fnName}(..., ${api.lit(api.fmtS)}, ${q(data)}).`,
          steps: [{ line: x.v('flaw'), text: `${q(data)} is the format argument of ${fnName}` }],
          why: [`Line ${x.v('flaw')} lets the input decide the format string.`],
          fixedWhy: [`Line ${x.f('fix')} uses the constant format ${api.lit(api.fmtS)}, so the input is printed as data and never interpreted.`],
        };
      },
    };
  },
};

const commands = ['ls -l ', 'cat ', 'wc -l ', 'file ', 'du -sh ', 'stat ', 'head -n 5 ', 'md5sum ', 'tail -n 20 '];

export const commandInjection: SynthTemplate = {
  id: 'os-command',
  cwe: 'CWE-78',
  summary: 'input appended to a shell command run with system() or popen()',
  languages: ['c', 'cpp'],
  sources: externalSources,
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['system', 'popen']);
    const source = ctx.stringSource({ charType: 'char', constText: 'unused' });
    const data = source.facts.name;
    const prefix = rng.pick(commands);
    const size = prefix.length + rng.pick([64, 100, 128, 200, 256]);
    const cmd = names.v('buffer');
    const pipe = names.v('stream');
    const line = names.v('buffer');
    const accepted = names.v('status');
    const k = names.v('iter');
    const run: Line[] =
      form === 'system'
        ? [t('flaw', `if (system(${cmd}) != 0) {`), '    fputs("command failed\\n", stderr);', '}']
        : [
            t('flaw', `FILE *${pipe} = popen(${cmd}, "r");`),
            `if (${pipe} != NULL) {`,
            `    char ${line}[128];`,
            `    while (fgets(${line}, sizeof(${line}), ${pipe}) != NULL) {`,
            `        fputs(${line}, stdout);`,
            '    }',
            `    pclose(${pipe});`,
            '}',
          ];
    const append = `strncat(${cmd}, ${data}, sizeof(${cmd}) - strlen(${cmd}) - 1);`;
    return {
      form,
      headers: ['stdio', 'stdlib', 'string', 'ctype'],
      source,
      sink(variant) {
        const decl = `char ${cmd}[${size}] = "${prefix}";`;
        if (variant === 'vulnerable') return [decl, t('loc', append), ...run];
        const plain = run.map((l) => (typeof l === 'string' ? l : l.text));
        return [
          decl,
          t('fix', `int ${accepted} = 1;`),
          t('fix', `for (size_t ${k} = 0; ${data}[${k}] != '\\0'; ${k}++) {`),
          t('fix', `    if (!isalnum((unsigned char)${data}[${k}]) && ${data}[${k}] != '.' && ${data}[${k}] != '_') {`),
          t('fix', `        ${accepted} = 0;`),
          t('fix', '    }'),
          t('fix', '}'),
          t(['fix', 'gate'], `if (${accepted}) {`),
          ...indent([append, ...plain]),
          t('fix', '}'),
        ];
      },
      explain(x) {
        const runner = form === 'system' ? 'system' : 'popen';
        return {
          title: `OS command injection: input appended to "${prefix.trim()}" and run with ${runner}`,
          severity: 'critical',
          rootCause: `${q(x.sinkFunction)} appends ${x.src.subject} to the command "${prefix.trim()} ..." in ${q(cmd)} and hands it to ${runner}, which runs it through /bin/sh; shell metacharacters in the input are not neutralised.`,
          trigger: trigger(x, 'contains shell metacharacters such as ;, |, &&, $( ) or backquotes'),
          impact: `Arbitrary commands run with the privileges of the process: data theft, modification, or full compromise of the host.`,
          remediation: `Allow only a strict character set (letters, digits, '.', '_') in ${q(data)} before building the command, or avoid the shell entirely (fork + execv with an argument vector).`,
          steps: [
            { line: x.v('loc'), text: `${q(data)} is appended verbatim to the command in ${q(cmd)}` },
            { line: x.v('flaw'), text: `${runner} passes ${q(cmd)} to the shell` },
          ],
          why: [`Nothing between the source and line ${x.v('flaw')} restricts the characters of ${q(data)}, so the shell sees whatever the input says.`],
          fixedWhy: [
            `Lines ${x.f('fix')}-${x.f('gate') - 1} reject any character other than letters, digits, '.' and '_', and line ${x.f('gate')} builds and runs the command only for accepted input, so no shell metacharacter can reach ${runner}.`,
          ],
        };
      },
    };
  },
};

const baseDirs = ['/srv/app/files/', '/var/lib/app/data/', '/home/app/uploads/', '/opt/app/docs/', 'data/', '/var/spool/app/'];

export const pathTraversal: SynthTemplate = {
  id: 'path-traversal',
  cwe: 'CWE-22',
  summary: 'input file name joined to a base directory (or used as a path) without rejecting ".."',
  languages: ['c', 'cpp'],
  sources: externalSources,
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['read', 'append', 'absolute']);
    const source = ctx.stringSource({ charType: 'char', constText: 'unused' });
    const data = source.facts.name;
    const base = rng.pick(baseDirs);
    const size = base.length + rng.pick([64, 100, 128, 200]);
    const path = names.v('buffer');
    const fh = names.v('file');
    const line = names.v('buffer');
    const target = form === 'absolute' ? data : path;
    const use: Line[] =
      form === 'append'
        ? [`if (${fh} != NULL) {`, `    fputs("${rng.pick(['entry', 'update', 'visit', 'mark'])}\\n", ${fh});`, `    fclose(${fh});`, '}']
        : [
            `if (${fh} != NULL) {`,
            `    char ${line}[128];`,
            `    if (fgets(${line}, sizeof(${line}), ${fh}) != NULL) {`,
            `        fputs(${line}, stdout);`,
            '    }',
            `    fclose(${fh});`,
            '}',
          ];
    const open = t('flaw', `FILE *${fh} = fopen(${target}, "${form === 'append' ? 'a' : 'r'}");`);
    const guard =
      form === 'absolute'
        ? `if (${data}[0] == '/' || strstr(${data}, "..") != NULL) {`
        : `if (strstr(${data}, "..") != NULL || strchr(${data}, '/') != NULL) {`;
    return {
      form,
      headers: ['stdio', 'string'],
      source,
      sink(variant) {
        const check: Line[] = variant === 'fixed' ? [t('fix', guard), t('fix', '    return;'), t('fix', '}')] : [];
        const build: Line[] =
          form === 'absolute' ? check : [`char ${path}[${size}] = "${base}";`, ...check, t('loc', `strncat(${path}, ${data}, sizeof(${path}) - strlen(${path}) - 1);`)];
        return [...build, open, ...use];
      },
      explain(x) {
        const verb = form === 'append' ? 'appends to' : 'reads';
        const absolute = form === 'absolute';
        return {
          title: absolute ? `Path traversal: ${q(data)} opened as a path without restriction` : `Path traversal: ${q(data)} joined to ${base} without rejecting ".."`,
          severity: 'high',
          rootCause: absolute
            ? `${q(x.sinkFunction)} passes ${x.src.subject} straight to fopen, so absolute paths and ".." components reach any file.`
            : `${q(x.sinkFunction)} appends ${x.src.subject} to the directory ${base} and opens the result; ".." components or slashes in the input are not rejected, so the path can leave that directory.`,
          trigger: trigger(x, absolute ? 'is an absolute path or contains ".."' : 'contains "../" sequences'),
          impact: `The process ${verb} files outside the intended directory with its own privileges${form === 'append' ? ': configuration or log files can be corrupted' : ': secrets such as keys or password files can be disclosed'}.`,
          remediation: absolute
            ? `Reject absolute paths and ".." components (or resolve the path with realpath and check it is under the allowed directory).`
            : `Reject input containing ".." or '/', or resolve the joined path with realpath and verify it still starts with ${base}.`,
          steps: absolute
            ? [{ line: x.v('flaw'), text: `fopen opens ${q(data)} as given` }]
            : [
                { line: x.v('loc'), text: `${q(data)} is appended to ${base} in ${q(path)}` },
                { line: x.v('flaw'), text: `fopen opens ${q(path)}, wherever it points` },
              ],
          why: [`No check on ${q(data)} precedes the fopen on line ${x.v('flaw')}.`],
          fixedWhy: [`Line ${x.f('fix')} returns before opening anything when ${q(data)} ${absolute ? 'is absolute or contains ".."' : 'contains ".." or a slash'}, so the file stays ${absolute ? 'relative to the working directory and cannot climb out of it' : `inside ${base}`}.`],
        };
      },
    };
  },
};
