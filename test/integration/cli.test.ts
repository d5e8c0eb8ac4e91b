// The command line as a field engineer meets it, through its real binary: help for the
// program and every command (as the README holds it), the version, mistakes refused with
// a suggestion and exit 2, DCMTK's spellings, the bash completion and the man page made
// from the same definitions, and the commands that save time at a clinic (node, queue
// retry DEST, move to a node's name, find's error comment, echo with the configured AE).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runningStatus } from '../../firmware/control/commands';
import { controlRequest } from '../../firmware/control/control-client';
import { storeFiles } from '../../firmware/services/store-scu';
import { helpBlock, referencePaths } from '../../scripts/cli-reference';
import { BIN } from '../support/box-process';
import { run, startBox, tempDir, type TestBox } from '../support/peers';
import { uid, writeSyntheticStudy } from '../support/synthetic';

const REPO = path.join(__dirname, '..', '..', '..');

/** The config file the CLI finds a test box by (its storageDir), with more settings. */
async function configFor(box: TestBox, more: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(tempDir('cli-config'), 'dicom-edge.json');
  await fs.writeFile(file, JSON.stringify({ storageDir: box.config.storageDir, ...more }));
  return file;
}

/** A failure is one line on stderr and nothing of a stack trace. */
function oneLine(stderr: string): void {
  assert.equal(stderr.split('\n').length, 2, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

/** What bash completes for the words typed so far (the last one being completed). */
async function complete(script: string, words: string[]): Promise<string[]> {
  const r = await run('bash', [
    '-c',
    `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dicom_edge; printf '%s\\n' "\${COMPREPLY[@]}"`,
    'complete',
    script,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((w) => w !== '');
}

describe('the command line', function () {
  this.timeout(120_000);

  describe('help, version and mistakes', () => {
    it("docs/commands.md holds `dicom-edge --help` and every command's --help as they print", async () => {
      const reference = await fs.readFile(path.join(REPO, 'docs', 'commands.md'), 'utf8');
      const paths = referencePaths();
      assert.ok(paths.length > 25, `${paths.length} commands`);
      for (const words of paths)
        assert.ok(
          reference.includes(helpBlock(words)),
          `docs/commands.md's help of "${words.join(' ')}" differs: run node dist/scripts/cli-reference.js --write`,
        );
    });

    it('--help, -h and help COMMAND exit 0 and print the same; --version the package version', async () => {
      const long = await run(BIN, ['store', '--help']);
      const short = await run(BIN, ['store', '-h']);
      const viaHelp = await run(BIN, ['help', 'store']);
      const subcommand = await run(BIN, ['help', 'queue', 'retry']);
      assert.equal(subcommand.stdout, (await run(BIN, ['queue', 'retry', '--help'])).stdout);
      assert.equal(long.code, 0);
      assert.equal(short.code, 0);
      assert.equal(viaHelp.code, 0);
      assert.match(long.stdout, /^Usage: dicom-edge store \[options\] HOST PORT FILE\|DIR\.\.\.\n/);
      assert.match(long.stdout, /DCMTK's spellings work too: -aet, -aec,/);
      assert.equal(short.stdout, long.stdout);
      assert.equal(viaHelp.stdout, long.stdout);
      const top = await run(BIN, ['--help']);
      assert.equal(top.code, 0);
      for (const c of ['start', 'store', 'queue', 'node', 'completion', 'man-page'])
        assert.match(top.stdout, new RegExp(`^ {2}${c} +\\S`, 'm'));
      assert.match(top.stdout, /^Exit codes:\n {3}0 {2}success$/m);
      assert.ok(top.stdout.split('\n').every((l) => l.length <= 80));
      const { version } = JSON.parse(await fs.readFile(path.join(REPO, 'package.json'), 'utf8'));
      const v = await run(BIN, ['--version']);
      assert.deepEqual([v.code, v.stdout], [0, `${version}\n`]);
    });

    it('no command: the help on stderr, exit 2', async () => {
      const r = await run(BIN, []);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^Usage: dicom-edge \[options\] \[command\]/);
    });

    it('a mistyped option, command or subcommand: one line with the nearest one, exit 2', async () => {
      const cases: Array<[string[], RegExp]> = [
        [
          ['store', '--aett', 'X', '127.0.0.1', '104', 'f.dcm'],
          /^dicom-edge store: unknown option '--aett'; did you mean --aet\? \(dicom-edge store --help\)\n$/,
        ],
        [
          ['stroe'],
          /^dicom-edge: unknown command 'stroe'; did you mean store\? \(dicom-edge --help\)\n$/,
        ],
        // A command's beginning is what is most often meant: stat is status, not start.
        [
          ['help', 'stat'],
          /^dicom-edge help: unknown command 'stat'; did you mean status\? \(dicom-edge --help\)\n$/,
        ],
        [
          ['stat'],
          /^dicom-edge: unknown command 'stat'; did you mean status\? \(dicom-edge --help\)\n$/,
        ],
        [
          ['help', 'nothing'],
          /^dicom-edge help: unknown command 'nothing' \(dicom-edge --help\)\n$/,
        ],
        [
          ['help', 'queue', 'retyr'],
          /^dicom-edge help: unknown queue command "retyr"; did you mean retry\? \(dicom-edge queue --help\)\n$/,
        ],
        [
          ['queue', 'retyr'],
          /^dicom-edge queue: unknown queue command "retyr"; did you mean retry\? \(dicom-edge queue --help\)\n$/,
        ],
        [
          ['find', '127.0.0.1', '104', '--root', 'series'],
          /^dicom-edge find: option '--root <ROOT>' argument 'series' is invalid\. Allowed choices are study, patient\. \(dicom-edge find --help\)\n$/,
        ],
        [
          ['status', 'now'],
          /^dicom-edge status: too many words: "now" is not used \(usage: dicom-edge status \[options\]\)\n$/,
        ],
        [
          ['echo', '127.0.0.1', '104', '+tls', 'key.pem'],
          /^dicom-edge echo: \+tls needs a private key file and a certificate file\n$/,
        ],
        [
          ['echo', '127.0.0.1', '104', '+cf', 'ca.pem'],
          /^dicom-edge echo: --add-cert-file \(\+cf\) needs TLS: \+tls or \+tla\n$/,
        ],
        [['echo', '127.0.0.1'], /^dicom-edge echo: port must be 1-65535, got nothing\n$/],
        [
          ['node', 'add', 'x', 'X'],
          /^dicom-edge node add: missing required argument 'HOST' \(dicom-edge node add --help\)\n$/,
        ],
      ];
      for (const [args, expected] of cases) {
        const r = await run(BIN, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, expected);
        assert.equal(r.stdout, '');
      }
    });

    it('every command refuses a word it does not use, naming it, exit 2', async () => {
      // Each of these once ran (the parents' allowExcessArguments reached their
      // subcommands) and did something else than was typed.
      const cases: Array<[string[], string]> = [
        [['node', 'list', 'pacs'], 'pacs'],
        [['node', 'rm', 'pacs', 'viewer'], 'viewer'],
        [['node', 'add', 'pacs', 'PACS', '10.1.2.3', '104', 'froward'], 'froward'],
        [['node', 'add', 'pacs', 'PACS', '10.1.2.3', '104', 'forward', 'now'], 'now'],
        [['node', 'add-dicomweb', 'cloud', 'https://a.example/dicom-web', 'forwrd'], 'forwrd'],
        [['cache', 'evict', '--now', 'all'], 'all'],
        [['queue', 'failed', 'pacs', 'today'], 'today'],
        [['queue', 'retry', 'pacs', 'now'], 'now'],
        [['config', 'show'], 'show'],
      ];
      for (const [args, word] of cases) {
        const r = await run(BIN, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`["']${word}["']`), args.join(' '));
        oneLine(r.stderr);
        assert.equal(r.stdout, '');
      }
    });

    it('`--help | head` ends quietly: a reader that stops is not a failure', async () => {
      const r = await run('bash', ['-c', `set -o pipefail; "${BIN}" man-page | head -1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
    });
  });

  describe('bash completion and the man page', () => {
    let script: string;
    before(async () => {
      script = path.join(tempDir('completion'), 'dicom-edge');
      const r = await run(BIN, ['completion']);
      assert.equal(r.code, 0, r.stderr);
      await fs.writeFile(script, r.stdout);
    });

    it('completes commands, subcommands, options and their choices', async () => {
      assert.deepEqual(await complete(script, ['dicom-edge', 'qu']), ['queue']);
      assert.deepEqual(await complete(script, ['dicom-edge', 'queue', '']), ['failed', 'retry']);
      assert.deepEqual(await complete(script, ['dicom-edge', 'queue', 'retry', '--s']), [
        '--sop',
        '--study',
      ]);
      assert.deepEqual(await complete(script, ['dicom-edge', 'find', '--ro']), ['--root']);
      assert.deepEqual(await complete(script, ['dicom-edge', 'find', '--root', '']), [
        'study',
        'patient',
      ]);
      assert.deepEqual(await complete(script, ['dicom-edge', 'node', '']), [
        'list',
        'add',
        'add-dicomweb',
        'rm',
        'set',
      ]);
      // --config, an option of the parent, is offered after its subcommands too.
      assert.deepEqual(await complete(script, ['dicom-edge', 'queue', 'failed', '--c']), [
        '--config',
      ]);
      assert.deepEqual(await complete(script, ['dicom-edge', 'config', 'set', '--c']), [
        '--config',
      ]);
      assert.deepEqual(await complete(script, ['dicom-edge', 'node', 'add', '--c']), ['--config']);
      // help takes a command's words: the commands, then the subcommands of the one typed.
      assert.deepEqual(await complete(script, ['dicom-edge', 'help', 'st']), [
        'start',
        'store',
        'status',
      ]);
      assert.ok((await complete(script, ['dicom-edge', 'help', ''])).includes('completion'));
      assert.deepEqual(await complete(script, ['dicom-edge', 'help', 'queue', '']), [
        'failed',
        'retry',
      ]);
      assert.deepEqual(await complete(script, ['dicom-edge', 'help', 'queue', 'retry', '']), []);
      // After the peer's words come files: nothing offered, bash completes file names.
      assert.deepEqual(await complete(script, ['dicom-edge', 'store', '127.0.0.1', '104', '']), []);
      const plain = await run('bash', ['-c', `source "$1"; complete -p dicom-edge`, 'c', script]);
      assert.match(plain.stdout, /complete -o default -F _dicom_edge dicom-edge/);
    });

    it('the man page renders without a warning and documents every command and exit code', async () => {
      const page = path.join(tempDir('man'), 'dicom-edge.1');
      const made = await run(BIN, ['man-page']);
      assert.equal(made.code, 0, made.stderr);
      await fs.writeFile(page, made.stdout);
      const checked = await run('groff', ['-man', '-Tutf8', '-ww', '-z', page]);
      assert.equal(checked.code, 0);
      assert.equal(checked.stderr, '', 'groff warnings');
      const shown = await run('bash', ['-c', `MANWIDTH=80 man -l "$1" | col -b`, 'man', page]);
      assert.equal(shown.code, 0, shown.stderr);
      for (const words of referencePaths().slice(1))
        assert.match(
          shown.stdout,
          new RegExp(`^ {3}dicom-edge ${words.join(' ')}$`, 'm'),
          words.join(' '),
        );
      assert.match(shown.stdout, /^EXIT STATUS$/m);
      assert.match(
        shown.stdout,
        /^ {7}7 {6}a storage commitment was not reported within --timeout$/m,
      );
      assert.match(shown.stdout, /\+tls\s+KEY\s+CERT/);
    });

    it('the man page keeps a path whole: groff does not hyphenate it', async () => {
      const page = path.join(tempDir('man'), 'dicom-edge.1');
      await fs.writeFile(page, (await run(BIN, ['man-page'])).stdout);
      // At the default width and a narrower one, where the path falls elsewhere.
      for (const width of [[], ['-rLL=60n']]) {
        const shown = await run('groff', ['-man', '-Tutf8', ...width, page]);
        assert.equal(shown.code, 0, shown.stderr);
        for (const whole of ['/etc/bash_completion.d/dicom-edge', 'scripts/install.sh'])
          assert.ok(shown.stdout.includes(whole), `${whole} is cut (${width.join(' ')})`);
      }
    });
  });

  describe('against a box', () => {
    let box: TestBox;
    let viewer: TestBox;
    let config: string;
    before(async () => {
      viewer = await startBox({ ae: 'VIEWER_AE' });
      box = await startBox({
        acceptUnknownCallers: false,
        nodes: [
          { name: 'clinic', ae: 'CLINIC_BOX', host: '127.0.0.1', port: 1, forward: false },
          {
            name: 'viewer',
            ae: 'VIEWER_AE',
            host: '127.0.0.1',
            port: viewer.port,
            forward: false,
          },
        ],
      });
      // The CLI's configuration: this box, and the AE title it calls with.
      config = await configFor(box, { ae: 'CLINIC_BOX' });
      const files = await writeSyntheticStudy(tempDir('cli-study'), 81, 3);
      await storeFiles(
        { host: '127.0.0.1', port: box.port, callingAeTitle: 'CLINIC_BOX', calledAeTitle: 'X' },
        files,
        () => undefined,
      );
    });
    after(async () => {
      await box?.stop();
      await viewer?.stop();
    });

    it("`echo` calls with the configured AE title; DCMTK's -aet still chooses another", async () => {
      const ok = await run(BIN, ['echo', '127.0.0.1', String(box.port), '--config', config]);
      assert.equal(ok.code, 0, ok.stderr);
      // The box knows only CLINIC_BOX: another calling AE title is rejected.
      const other = await run(BIN, [
        'echo',
        '-aet',
        'STRANGER',
        '-aec',
        'DICOM_EDGE',
        '127.0.0.1',
        String(box.port),
        '--config',
        config,
      ]);
      assert.equal(other.code, 3, other.stderr);
      oneLine(other.stderr);
      assert.match(other.stderr, /STRANGER|rejected/);
    });

    it("`move --dest` takes a node's name: the study arrives at that node", async () => {
      const r = await run(BIN, [
        'move',
        '127.0.0.1',
        String(box.port),
        '--aec',
        'DICOM_EDGE',
        '--config',
        config,
        '--dest',
        'viewer',
        '-k',
        `StudyInstanceUID=${uid(81)}`,
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /C-MOVE to viewer: final status 0x0000 \(success\), .*completed 3/);
      assert.equal((await viewer.archive.counts()).instances, 3);
      const unknown = await run(BIN, [
        'move',
        '127.0.0.1',
        String(box.port),
        '--config',
        config,
        '--dest',
        'NOBODY',
        '-k',
        `StudyInstanceUID=${uid(81)}`,
      ]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stdout, / - no node has the AE title or name "NOBODY"\n$/);
    });

    it('`store` exits 4 for a file that is not DICOM, 3 for a peer it cannot reach', async () => {
      const dir = tempDir('cli-store');
      const text = path.join(dir, 'notes.txt');
      await fs.writeFile(text, 'not an image\n');
      const notDicom = await run(BIN, ['store', '127.0.0.1', String(box.port), text]);
      assert.equal(notDicom.code, 4, notDicom.stdout + notDicom.stderr);
      assert.match(
        notDicom.stdout,
        /^FAIL .*notes\.txt: not sent - not a DICOM Part 10 file .*\n0 stored, 1 failed\n$/,
      );
      const [file] = await writeSyntheticStudy(dir, 83, 1);
      const closed = await run(BIN, ['store', '127.0.0.1', '1', file!]);
      assert.equal(closed.code, 3, closed.stdout + closed.stderr);
      assert.match(closed.stdout, /^FAIL .*: not sent - connect ECONNREFUSED 127\.0\.0\.1:1\n/);
    });

    it('`find` prints the error comment of a refused query', async () => {
      const r = await run(BIN, [
        'find',
        '127.0.0.1',
        String(box.port),
        '--config',
        config,
        '-k',
        'SeriesInstanceUID=1.2.3',
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        /^C-FIND: 0 match\(es\), final status 0xA900 \(failure\) - SeriesInstanceUID is a SERIES key; the query is at STUDY$/m,
      );
    });

    it('`node add|set|rm` change one node; an unknown one is refused with the names there are', async () => {
      const node = (...args: string[]) => run(BIN, ['node', ...args, '--config', config]);
      const added = await node('add', 'archive', 'ARCHIVE', '10.9.8.7', '104', '--forward');
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /^changed: nodes/);
      const set = await node('set', 'archive', 'port=11112', 'ae=1234', 'forward=false');
      assert.equal(set.code, 0, set.stderr);
      const listed = await node('list');
      assert.match(listed.stdout, /^archive {2}1234@10\.9\.8\.7:11112$/m);
      const live = await run(BIN, ['config', '--config', config]);
      assert.match(
        live.stdout,
        /"name": "archive",\n\s+"ae": "1234",\n\s+"host": "10\.9\.8\.7",\n\s+"port": 11112,\n\s+"forward": false/,
      );
      const several = await node('set', 'archive', 'associations=2', 'asyncOperations=16');
      assert.equal(several.code, 0, several.stderr);
      assert.match(
        (await node('list')).stdout,
        /^archive {2}1234@10\.9\.8\.7:11112 {2}2 associations$/m,
      );
      const none = await node('set', 'archive', 'associations=0');
      assert.equal(none.code, 2);
      assert.match(
        none.stderr,
        /^dicom-edge node set: config key "nodes\[2\]\.associations": must be an integer from 1 to 16/,
      );
      const twice = await node('add', 'archive', 'A', 'h', '104');
      assert.equal(twice.code, 2);
      assert.match(
        twice.stderr,
        /a node named "archive" exists: change it with node set archive KEY=VALUE/,
      );
      const badPort = await node('set', 'archive', 'port=http');
      assert.equal(badPort.code, 2);
      assert.match(
        badPort.stderr,
        /^dicom-edge node set: config key "nodes\[2\]\.port": must be an integer/,
      );
      const web = await node('add-dicomweb', 'cloud', 'https://archive.example/dicom-web/');
      assert.equal(web.code, 0, web.stderr);
      const token = await node(
        'set',
        'cloud',
        'auth={"type":"bearer","tokenFile":"/etc/cloud.token"}',
      );
      assert.equal(token.code, 0, token.stderr);
      assert.match(
        (await node('list')).stdout,
        /^cloud {2}https:\/\/archive\.example\/dicom-web {2}tls$/m,
      );
      const badUrl = await node('add-dicomweb', 'ftp', 'ftp://x');
      assert.equal(badUrl.code, 2);
      assert.match(
        badUrl.stderr,
        /config key "nodes\[\d\]\.url": must be an http:\/\/ or https:\/\/ URL/,
      );
      assert.equal((await node('rm', 'cloud')).code, 0);
      const removed = await node('rm', 'archive');
      assert.equal(removed.code, 0, removed.stderr);
      const gone = await node('rm', 'archive');
      assert.equal(gone.code, 2);
      assert.equal(gone.stderr, 'dicom-edge node rm: no node named "archive" (clinic, viewer)\n');
    });

    it("`node add ... forward` (the console's words) adds a forwarding node; a typo adds none", async () => {
      const node = (...args: string[]) => run(BIN, ['node', ...args, '--config', config]);
      const added = await node('add', 'pacs', 'CENTRAL_PACS', '10.1.2.3', '104', 'forward');
      assert.equal(added.code, 0, added.stderr);
      const typo = await node('add', 'pacs2', 'PACS2', '10.1.2.4', '104', 'froward');
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /'froward'/);
      const listed = (await node('list')).stdout;
      assert.match(listed, /^pacs {2}CENTRAL_PACS@10\.1\.2\.3:104 {2}forward$/m);
      assert.doesNotMatch(listed, /pacs2/);
      assert.equal((await node('rm', 'pacs')).code, 0);
    });

    it('`node add ... --associations N`: a PACS that takes one association is added so; a bad N is refused, keyed (issue 30)', async () => {
      const node = (...args: string[]) => run(BIN, ['node', ...args, '--config', config]);
      const one = await node(
        'add',
        'old',
        'OLD_PACS',
        '10.1.2.5',
        '104',
        '--forward',
        '--associations',
        '1',
      );
      assert.equal(one.code, 0, one.stderr);
      assert.match(
        (await node('list')).stdout,
        /^old {2}OLD_PACS@10\.1\.2\.5:104 {2}forward {2}1 association$/m,
      );
      const live = await run(BIN, ['config', '--config', config]);
      assert.match(live.stdout, /"name": "old",[^}]*"associations": 1/);
      for (const bad of ['0', '17', 'four']) {
        const refused = await node('add', 'bad', 'B', '10.1.2.6', '104', '--associations', bad);
        assert.equal(refused.code, 2, refused.stdout);
        assert.match(
          refused.stderr,
          /^dicom-edge node add: config key "nodes\[\d\]\.associations": must be an integer from 1 to 16/,
        );
      }
      assert.doesNotMatch((await node('list')).stdout, /^bad /m);
      assert.equal((await node('rm', 'old')).code, 0);
    });

    it('a host that is neither a DNS name nor an address (1424) is refused when set, keyed', async () => {
      const node = (...args: string[]) => run(BIN, ['node', ...args, '--config', config]);
      const added = await node('add', 'miscounted', 'M', '1424', '104');
      assert.equal(added.code, 2, added.stdout);
      assert.match(
        added.stderr,
        /^dicom-edge node add: config key "nodes\[2\]\.host": must be a DNS name or an IP address, not "1424"\n$/,
      );
      const set = await node('set', 'viewer', 'host=1424');
      assert.equal(set.code, 2, set.stdout);
      assert.match(
        set.stderr,
        /^dicom-edge node set: config key "nodes\[1\]\.host": must be a DNS/,
      );
      assert.doesNotMatch((await node('list')).stdout, /1424|miscounted/);
    });

    it('`cache protect UID1 UID2` protects both studies', async () => {
      const files = await writeSyntheticStudy(tempDir('cli-study'), 82, 1);
      await storeFiles(
        { host: '127.0.0.1', port: box.port, callingAeTitle: 'CLINIC_BOX', calledAeTitle: 'X' },
        files,
        () => undefined,
      );
      const r = await run(BIN, ['cache', 'protect', uid(81), uid(82), '--config', config]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `study ${uid(81)} protected\nstudy ${uid(82)} protected\n`);
      const report = await controlRequest(box.config.storageDir, { command: 'cache' });
      const protectedStudies = report.pinned
        .filter((p) => p.protected)
        .map((p) => p.studyInstanceUid)
        .sort();
      assert.deepEqual(protectedStudies, [uid(81), uid(82)].sort());
      const missing = await run(BIN, [
        'cache',
        'unprotect',
        uid(81),
        '1.2.3.999',
        '--config',
        config,
      ]);
      assert.equal(missing.code, 2);
      assert.equal(missing.stdout, `study ${uid(81)} no longer protected\n`);
      assert.match(missing.stderr, /no study 1\.2\.3\.999 in the cache/);
    });

    it('`queue retry DEST` takes the destination as a word, refuses one that is no node', async () => {
      const retried = await run(BIN, ['queue', 'retry', 'viewer', '--config', config]);
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(retried.stdout, /^no failed jobs/);
      const nosuch = await run(BIN, ['queue', 'retry', 'pacs', '--config', config]);
      assert.equal(nosuch.code, 2);
      assert.equal(
        nosuch.stderr,
        'dicom-edge queue retry: no node named "pacs" (clinic, viewer)\n',
      );
      const both = await run(BIN, [
        'queue',
        'retry',
        'viewer',
        '--dest',
        'clinic',
        '--config',
        config,
      ]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /two destinations given: "viewer" and --dest "clinic"/);
    });

    it('mistakes typed on the console are answered there, not logged as warnings', async () => {
      const events = async () =>
        runningStatus(await controlRequest(box.config.storageDir, { command: 'status' }))
          .recentEvents;
      const before = (await events()).length;
      const child = spawn(BIN, ['console', '--config', config]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stdin.end('set prot 5\nnode rm nobody\necho nobody\nretry nobody\nset port http\n');
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      assert.equal(code, 0);
      assert.match(out, /error: config key "prot": is not a known setting/);
      assert.match(out, /error: no node named "nobody"/);
      assert.match(out, /echo nobody: failed: no node named "nobody"/);
      const logged = (await events()).slice(before);
      assert.deepEqual(
        logged.filter((e) => / (WARN|ERROR) /.test(e)),
        [],
      );
    });
  });
});
