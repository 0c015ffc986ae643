import { commands } from './registry.js';
import { parseCommandLine, renderHelp, type CommandContext, type CommandSpec } from './command.js';
import { Logger } from '../util/log.js';
import { ExitCode, FinesecError, UsageError } from '../util/errors.js';
import { readFileSync } from 'node:fs';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'finesec: distil a large LLM\'s knowledge of C/C++ vulnerabilities into a compact CPU student model',
    '',
    'Usage: finesec <command> [options]      finesec <command> --help',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Every command takes --workspace DIR, --json and --help. Exit codes: 0 ok, 1 gate failed, 2 error.',
  ].join('\n');
}

function findCommand(argv: string[]): { entry: (typeof commands)[number]; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo) return { entry: byTwo, rest: argv.slice(2) };
  const byOne = commands.find((c) => c.name === argv[0]);
  if (byOne) return { entry: byOne, rest: argv.slice(1) };
  return undefined;
}

/** Runs one command line and sets process.exitCode; never calls process.exit. */
export async function main(argv: string[]): Promise<void> {
  process.exitCode = await run(argv);
}

export async function run(argv: string[], stdout: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const wantsJson = argv.includes('--json');
  const logger = new Logger({ json: wantsJson, quiet: argv.includes('--quiet') || argv.includes('-q') });
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      stdout(topLevelHelp() + '\n');
      return ExitCode.ok;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      stdout(version() + '\n');
      return ExitCode.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = commands.filter((c) => c.name.startsWith(argv[0] + ' ')).map((c) => c.name);
      const hint = group.length ? ` (did you mean: ${group.join(', ')}?)` : ' (see finesec --help)';
      throw new UsageError(`unknown command "${argv.slice(0, group.length ? 2 : 1).join(' ')}"${hint}`);
    }
    const { command } = await found.entry.load();
    return await runCommand(command, found.rest, logger, stdout);
  } catch (err) {
    return reportError(err, logger, wantsJson, stdout);
  }
}

async function runCommand(spec: CommandSpec, argv: string[], logger: Logger, stdout: (s: string) => void): Promise<number> {
  const { values, positionals } = parseCommandLine(spec, argv);
  if (values.help) {
    stdout(renderHelp(spec) + '\n');
    return ExitCode.ok;
  }
  const json = values.json === true;
  const ctx: CommandContext = {
    args: values,
    positionals,
    logger,
    json,
    workspace: String(values.workspace),
    result(value: unknown, text?: string) {
      if (json) stdout(JSON.stringify(value, null, 2) + '\n');
      else if (text !== undefined) stdout(text.endsWith('\n') ? text : text + '\n');
    },
  };
  const code = await spec.run(ctx);
  return code ?? ExitCode.ok;
}

function reportError(err: unknown, logger: Logger, json: boolean, stdout: (s: string) => void): number {
  if (err instanceof FinesecError) {
    if (json) stdout(JSON.stringify(err.toJSON()) + '\n');
    logger.error(err.message);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) stdout(JSON.stringify({ error: { kind: 'internal', message, exitCode: ExitCode.error } }) + '\n');
  logger.error(`internal error: ${message}`);
  if (process.env.FINESEC_DEBUG && err instanceof Error && err.stack) logger.error(err.stack);
  return ExitCode.error;
}
