// `dicom-edge man-page`: the manual page dicom-edge(1) in roff, made from the program's
// own definitions (the same text as each command's --help). scripts/install.sh writes it
// to /usr/local/share/man/man1/dicom-edge.1; on a box not installed so, it is read with
// `dicom-edge man-page | man -l -`.
import type { Command, Help } from 'commander';
import { VERSION } from '../version';
import { exits } from './args';
import { EXIT_MEANINGS } from './failure';
import { PEER_HELP } from './peer-args';

export function manPageCommand(program: Command): void {
  program
    .command('man-page')
    .summary('print the manual page, in roff')
    .description(
      'Print the manual page dicom-edge(1), in roff. Read it with\n' +
        '  dicom-edge man-page | man -l -\n' +
        'scripts/install.sh writes it to /usr/local/share/man/man1/dicom-edge.1.',
    )
    .action(
      exits(async () => {
        process.stdout.write(manPage(program));
        return 0;
      }),
    );
}

/**
 * Text made safe for roff: backslashes, hyphens (so they copy as ASCII), leading dots; and
 * a path is never hyphenated (\\% before it), as it would not copy whole
 * (/etc/bash_comple‐tion.d).
 */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/(^|\s)(?=\S*\/)/g, '$1\\%')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** A paragraph of --help text: an indented line (an example) on a line of its own. */
function paragraph(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\s/.test(line) ? `.br\n${roff(line.trim())}\n.br` : roff(line)))
    .join('\n');
}

function commandSection(help: Help, command: Command, path: string): string[] {
  const usages = help
    .commandUsage(command)
    .split('\n')
    .map((usage) => `.B ${roff(usage.trim())}`);
  const lines = [`.SS "${roff(path)}"`, '.nf', ...usages, '.fi', '.PP'];
  lines.push(paragraph(help.commandDescription(command)));
  for (const argument of help.visibleArguments(command)) {
    lines.push('.TP', `.I ${roff(help.argumentTerm(argument))}`);
    lines.push(paragraph(help.argumentDescription(argument)));
  }
  for (const option of help.visibleOptions(command)) {
    if (option.long === '--help') continue;
    lines.push('.TP', `.B ${roff(help.optionTerm(option))}`);
    lines.push(paragraph(help.optionDescription(option)));
  }
  return lines;
}

function sections(help: Help, command: Command, path: string): string[] {
  return help
    .visibleCommands(command)
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [
      ...commandSection(help, c, `${path} ${c.name()}`),
      ...sections(help, c, `${path} ${c.name()}`),
    ]);
}

export function manPage(program: Command): string {
  const help = program.createHelp();
  const name = program.name();
  return [
    `.TH ${name.toUpperCase()} 1 "" "${name} ${VERSION}" "User Commands"`,
    '.SH NAME',
    `${name} \\- DICOM store\\-and\\-forward edge box`,
    '.SH SYNOPSIS',
    `.B ${name}`,
    '.I command',
    '.RI [ options ]',
    '.br',
    `.B ${name}`,
    '.I command',
    '.B \\-\\-help',
    '.SH DESCRIPTION',
    paragraph(help.commandDescription(program)),
    '.PP',
    roff(
      'The box runs as "dicom-edge start" (a systemd service once installed); the other ' +
        'commands talk to it over its control socket, found from the same configuration, or ' +
        'speak DICOM to a peer themselves (echo, store, find, move, get, commit).',
    ),
    '.SH COMMANDS',
    ...sections(help, program, name),
    '.SH "THE PEER"',
    paragraph(PEER_HELP.trim()),
    '.SH "EXIT STATUS"',
    ...EXIT_MEANINGS.flatMap(([code, meaning]) => ['.TP', `.B ${code}`, roff(meaning)]),
    '.SH ENVIRONMENT',
    '.TP',
    '.B DICOM_EDGE_CONFIG',
    roff('The configuration file, when --config is not given.'),
    '.TP',
    '.B DICOM_EDGE_LOG',
    roff('The log level: debug, info (the default), warn or error.'),
    '.TP',
    '.B DICOM_EDGE_LOG_FORMAT',
    roff('text (the default) or json: one JSON object per line.'),
    '.SH FILES',
    '.TP',
    '.I ./dicom\\-edge.json',
    roff('The configuration, when neither --config nor DICOM_EDGE_CONFIG names one.'),
    '.TP',
    '.I /etc/dicom\\-edge/dicom\\-edge.json',
    roff('The configuration of an installed box (scripts/install.sh).'),
    '.SH "SEE ALSO"',
    '.BR storescu (1),',
    '.BR findscu (1),',
    '.BR movescu (1),',
    '.BR getscu (1),',
    '.BR echoscu (1)',
    '',
  ].join('\n');
}
