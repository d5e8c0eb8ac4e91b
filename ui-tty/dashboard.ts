// The terminal dashboard (blessed): the lines of dashboard-view.ts on the screen, refreshed
// about once a second, and the keys that change settings. It is a client of the control
// API like the CLI and the serial console, so it shows and does exactly what the box allows;
// every change goes through the box's validation, and a refused one is shown where it was
// typed, ready to be corrected.
import {
  ConfigError,
  isDimse,
  validateConfig,
  type DimseNodeConfig,
} from '../firmware/config/config';
import * as blessed from 'blessed';
import type { ConfigDocument } from '../firmware/config/config-file';
import type { ConfigView } from '../firmware/config/live-config';
import {
  addNode,
  parseNodeValue,
  patchNode,
  removeNode,
  type ConfigSet,
} from '../firmware/control/config-edits';
import type { BoxStatus } from '../firmware/control/status';
import { ControlCommandError, runningStatus } from '../firmware/control/commands';
import { formatBackoffs, formatEcho } from './format';
import type { ControlCall } from './console-commands';
import { destinationState, type DashboardMessage } from './dashboard-message';
import { keysLines, renderDashboard, type DashboardLine } from './dashboard-view';
import { runSystemSetup } from './system-setup-form';

export interface DashboardOptions {
  readonly call: ControlCall;
  /** Asked before quitting (the box itself stops with the dashboard of `start --dashboard`). */
  readonly quitQuestion?: string;
  readonly refreshMs?: number;
}

const STYLE_TAGS: Record<NonNullable<DashboardLine['style']>, [string, string]> = {
  title: ['{inverse}{bold}', '{/bold}{/inverse}'],
  heading: ['{bold}', '{/bold}'],
  selected: ['{inverse}', '{/inverse}'],
  warn: ['{yellow-fg}', '{/yellow-fg}'],
  error: ['{red-fg}{bold}', '{/bold}{/red-fg}'],
  help: ['{inverse}', '{/inverse}'],
};

const EDIT_HELP = 'Enter: save  Esc: cancel  Backspace: erase a character  Ctrl-U: erase all';

/** One question of the node editor. Enter keeps `saved`: a refused answer never becomes the default. */
interface NodeQuestion {
  readonly key: 'name' | 'ae' | 'host' | 'port' | 'forward';
  readonly label: string;
  readonly saved: string;
  /** The typed text as the value to save, or why it answers something else. */
  readonly read: (text: string) => { value: unknown } | { problem: string };
}

function nodeQuestions(node: DimseNodeConfig | undefined): NodeQuestion[] {
  const text = (typed: string): { value: unknown } => ({ value: typed });
  return [
    { key: 'name', label: 'Node name', saved: node?.name ?? '', read: text },
    { key: 'ae', label: 'AE title', saved: node?.ae ?? '', read: text },
    { key: 'host', label: 'Host', saved: node?.host ?? '', read: text },
    {
      key: 'port',
      label: 'Port',
      saved: String(node?.port ?? 104),
      read: (typed) => ({ value: parseNodeValue('port', typed) }),
    },
    {
      key: 'forward',
      label: 'Forward to it? y/n',
      saved: node?.forward ? 'y' : 'n',
      read: (typed) =>
        /^y(es)?$/i.test(typed)
          ? { value: true }
          : /^no?$/i.test(typed)
            ? { value: false }
            : { problem: 'answer y or n' },
    },
  ];
}

/** The Linux console's fonts lack the sparkline's block characters; UTF-8 terminals have them. */
function unicodeTerminal(): boolean {
  const locale = process.env.LC_ALL ?? process.env.LC_CTYPE ?? process.env.LANG ?? '';
  return /utf-?8/i.test(locale) && process.env.TERM !== 'linux';
}

export class Dashboard {
  private readonly screen: blessed.Widgets.Screen;
  private readonly body: blessed.Widgets.BoxElement;
  private readonly unicode = unicodeTerminal();
  private status: BoxStatus | undefined;
  private view: ConfigView | undefined;
  private unreachable: string | undefined;
  private selected = 0;
  /** The last action's result: how long, and while what, it holds is dashboard-message.ts's. */
  private message: DashboardMessage | undefined;
  private editing = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private stopped = false;
  private finished!: () => void;
  readonly done: Promise<void>;

  constructor(private readonly options: DashboardOptions) {
    this.done = new Promise((resolve) => (this.finished = resolve));
    this.screen = blessed.screen({
      smartCSR: true,
      fullUnicode: this.unicode,
      title: 'dicom-edge',
      warnings: false,
    });
    this.body = blessed.box({
      parent: this.screen,
      top: 0,
      left: 0,
      width: '100%',
      height: '100%',
      tags: true,
      wrap: false,
    });
    this.screen.on('resize', () => this.draw());
    this.bindKeys();
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 1000);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.screen.destroy();
    this.finished();
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const [status, view] = await Promise.all([
        this.options.call({ command: 'status' }),
        this.options.call({ command: 'config' }),
      ]);
      this.status = runningStatus(status);
      this.view = view;
      this.unreachable = undefined;
      this.selected = Math.min(this.selected, Math.max(0, view.config.nodes.length - 1));
    } catch (err) {
      this.unreachable = (err as Error).message;
    } finally {
      this.refreshing = false;
    }
    this.draw();
  }

  private draw(): void {
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    if (!this.status || !this.view) {
      const why = this.unreachable ?? 'connecting to the box...';
      this.body.setContent(blessed.escape(`dicom-edge dashboard\n\n${why}\n\nq: quit`));
    } else {
      const lines = renderDashboard(
        {
          status: this.status,
          nodes: this.view.config.nodes,
          selected: this.selected,
          // A box that stopped answering outranks the result of the last key.
          ...(this.unreachable
            ? {
                message: {
                  text: `box not answering: ${this.unreachable}`,
                  error: true,
                  at: new Date(),
                },
              }
            : this.message
              ? { message: this.message }
              : {}),
          now: new Date(),
          unicode: this.unicode,
          ...(this.help() ? { help: this.help() } : {}),
        },
        width,
        height,
      );
      this.body.setContent(
        lines
          .map((l) => {
            const text = blessed.escape(l.text);
            if (!l.style) return text;
            const [open, close] = STYLE_TAGS[l.style];
            return `${open}${text}${close}`;
          })
          .join('\n'),
      );
    }
    this.screen.render();
  }

  /** While typing, the lines below the prompt: why the last try was refused, else the keys. */
  private help(): { text: string; error: boolean } | undefined {
    if (!this.editing) return undefined;
    return this.message?.error ? this.message : { text: EDIT_HELP, error: false };
  }

  /**
   * Shows the result of a key. One about a node (`about`: the node and its state when the
   * key was pressed) holds until that node's state changes; see dashboard-message.ts.
   */
  private say(text: string, error = false, about?: DashboardMessage['about']): void {
    this.message = { text, error, at: new Date(), ...(about ? { about } : {}) };
    this.draw();
  }

  /** A node as the screen last saw it, for a message about it. */
  private stateOf(node: string): NonNullable<DashboardMessage['about']> {
    const report = this.status?.destinations.find((d) => d.name === node);
    return { node, state: destinationState(report) };
  }

  private bindKeys(): void {
    const on = (keys: string[], action: () => Promise<void> | void): void => {
      this.screen.key(keys, () => {
        if (this.editing) return;
        this.message = undefined;
        void Promise.resolve(action()).catch((err: Error) => this.say(err.message, true));
      });
    };
    // A form takes the keyboard until it ends: keys typed between two of its questions are
    // dropped rather than taken as commands.
    const form = (keys: string[], action: () => Promise<void>): void =>
      on(keys, async () => {
        this.editing = true;
        try {
          await action();
        } finally {
          this.editing = false;
          this.draw();
        }
      });
    form(['q', 'C-c'], () => this.quit());
    on(['up', 'k'], () => this.move(-1));
    on(['down', 'j'], () => this.move(1));
    form(['a'], () => this.editSetting('ae', 'AE title'));
    form(['p'], () => this.editSetting('port', 'Port'));
    form(['n'], () => this.editNode(undefined));
    form(['e', 'enter'], () => this.editNode(this.selectedNode()?.name));
    form(['d'], () => this.deleteNode());
    on(['f'], () => this.toggleForward());
    on(['c'], () => this.echoNode());
    on(['r'], () => this.retry());
    form(['s'], () =>
      runSystemSetup(
        (q, now) => this.ask(q, now),
        (text, error) => this.say(text, error),
      ),
    );
  }

  private selectedNode(): { name: string; forward: boolean } | undefined {
    return this.view?.config.nodes[this.selected];
  }

  private move(by: number): void {
    const count = this.view?.config.nodes.length ?? 0;
    this.selected = Math.max(0, Math.min(count - 1, this.selected + by));
    this.draw();
  }

  private async quit(): Promise<void> {
    if (this.options.quitQuestion) {
      const answer = await this.ask(`${this.options.quitQuestion} (y/N)`);
      if (answer?.trim().toLowerCase() !== 'y') return this.say('still running');
    }
    this.stop();
  }

  /**
   * One line of input on the message line. The current value is shown in brackets and
   * kept when Enter is pressed on an empty line; what is typed replaces it, and is what
   * will be saved (a prefilled field that typing appended to saved "TIMINGCLINIC2").
   * Undefined when Escape was pressed.
   */
  private ask(question: string, current = ''): Promise<string | undefined> {
    const label = current ? `${question} [${current}]: ` : `${question}: `;
    // Above the keys, or above a refusal of the last try, which may take more lines.
    const width = this.screen.width as number;
    const top = (this.screen.height as number) - 1 - keysLines(this.help(), width).length;
    const prompt = blessed.text({
      parent: this.screen,
      top,
      left: 0,
      height: 1,
      width: label.length,
      content: label,
      style: { bold: true },
    });
    const input = blessed.textbox({
      parent: this.screen,
      top,
      left: label.length,
      height: 1,
      width: Math.max(10, width - label.length - 1),
      inputOnFocus: false,
      style: { inverse: true },
    });
    input.on('keypress', (_ch: string, key: { full: string }) => {
      if (key.full === 'C-u') {
        input.clearValue();
        this.screen.render();
      }
    });
    this.draw();
    return new Promise((resolve) => {
      input.readInput((_err, value) => {
        prompt.destroy();
        input.destroy();
        this.draw();
        resolve(
          value === null || value === undefined ? undefined : String(value).trim() || current,
        );
      });
    });
  }

  /** Sends a change; on refusal shows the box's reason and returns the key it names. */
  private async change(set: ConfigSet, done: string): Promise<string | undefined> {
    try {
      const result = await this.options.call({ command: 'config-set', set });
      this.say(result.persisted ? `${done} (saved)` : `${done} (not saved: no config file)`);
      await this.refresh();
      return undefined;
    } catch (err) {
      this.say((err as Error).message, true);
      // The box names the setting it refused; any other failure is not a setting's.
      return (err instanceof ControlCommandError && err.key) || '(unknown)';
    }
  }

  private async editSetting(key: 'ae' | 'port', label: string): Promise<void> {
    if (!this.view) return;
    const current = String(this.view.config[key]);
    for (;;) {
      const typed = await this.ask(label, current);
      if (typed === undefined) return this.say('unchanged');
      const value = typed.trim();
      const parsed = key === 'port' && /^\d+$/.test(value) ? Number(value) : value;
      if ((await this.change({ [key]: parsed }, `${label} is now ${value}`)) === undefined) return;
      // Refused: the message stays on screen and the field is asked again.
    }
  }

  private async editNode(name: string | undefined): Promise<void> {
    if (!this.view) return;
    const existing = name ? this.view.config.nodes.find((n) => n.name === name) : undefined;
    if (name && !existing) return;
    if (existing && !isDimse(existing)) {
      this.say(`${existing.name} is a DICOMweb node: change it with dicom-edge node set`, true);
      return;
    }
    const questions = nodeQuestions(existing);
    const answers: Record<string, unknown> = {};
    let from = 0;
    for (;;) {
      for (const question of questions.slice(from)) {
        const answer = await this.askNodeField(question, existing?.name, answers);
        if (answer === undefined) return this.say('unchanged');
        answers[question.key] = answer.value;
      }
      const refused = await this.saveNode(existing, answers);
      if (refused === undefined) return;
      // Refused on save all the same (by a change made meanwhile): asked again from the
      // field the box names ("nodes[2].ae" -> AE title).
      const field = /\.(\w+)$/.exec(refused)?.[1];
      from = Math.max(
        0,
        questions.findIndex((q) => q.key === field),
      );
    }
  }

  /** Asks one field until the answer is one the box would take; undefined on Escape. */
  private async askNodeField(
    question: NodeQuestion,
    savedName: string | undefined,
    answers: Readonly<Record<string, unknown>>,
  ): Promise<{ value: unknown } | undefined> {
    for (;;) {
      const typed = await this.ask(question.label, question.saved);
      if (typed === undefined) return undefined;
      const read = question.read(typed);
      const problem =
        'problem' in read
          ? read.problem
          : this.nodeFieldProblem(
              savedName,
              { ...answers, [question.key]: read.value },
              question.key,
            );
      if (problem !== undefined) {
        this.say(problem, true);
        continue;
      }
      // Taken: the refusal of an earlier try does not stay under the next prompt.
      this.message = undefined;
      return read as { value: unknown };
    }
  }

  /**
   * Why the box would refuse the node with these answers, when the reason is this field's:
   * the configuration's validator runs over the document with the node changed, as the box
   * does on save. A new node's fields not asked yet are absent; the validator checks a
   * node's name, AE title, host and port in the order they are asked, so it reaches this
   * field before it finds them missing.
   */
  private nodeFieldProblem(
    savedName: string | undefined,
    node: Record<string, unknown>,
    key: string,
  ): string | undefined {
    const document = this.view?.document ?? {};
    try {
      const set = savedName ? patchNode(document, savedName, node) : addNode(document, node);
      validateConfig({ ...document, ...set });
    } catch (err) {
      if (err instanceof ConfigError && /^nodes\[\d+\]\.(\w+)$/.exec(err.key)?.[1] === key)
        return err.message;
    }
    return undefined;
  }

  /**
   * Saves the fields the answers change, as a patch on the box's configuration as it is
   * now (read again here, not the screen's copy): a change made elsewhere while the
   * questions were asked, to another field, is kept. Returns what change() returns.
   */
  private async saveNode(
    existing: DimseNodeConfig | undefined,
    answers: Readonly<Record<string, unknown>>,
  ): Promise<string | undefined> {
    const document = await this.savedDocument();
    const name = String(answers.name);
    if (!existing) return this.change(addNode(document, answers), `node ${name} added`);
    const patch = Object.fromEntries(
      Object.entries(answers).filter(([k, v]) => v !== existing[k as keyof DimseNodeConfig]),
    );
    if (Object.keys(patch).length === 0) {
      this.say(`node ${existing.name} unchanged`);
      return undefined;
    }
    return this.change(patchNode(document, existing.name, patch), `node ${name} updated`);
  }

  private async deleteNode(): Promise<void> {
    const node = this.selectedNode();
    if (!node || !this.view) return;
    const answer = await this.ask(`Remove node ${node.name}? (y/N)`);
    if (answer?.trim().toLowerCase() !== 'y') return this.say('unchanged');
    const document = await this.savedDocument();
    await this.change(removeNode(document, node.name), `node ${node.name} removed`);
  }

  /**
   * The configuration as the box holds it now, not the screen's copy (up to a second old):
   * a change is made on it, so one made meanwhile by `node set` or the console stays.
   */
  private async savedDocument(): Promise<ConfigDocument> {
    return (await this.options.call({ command: 'config' })).document;
  }

  private async toggleForward(): Promise<void> {
    const node = this.selectedNode();
    if (!node || !this.view) return;
    const forward = !node.forward;
    await this.change(
      patchNode(await this.savedDocument(), node.name, { forward }),
      `forwarding to ${node.name} ${forward ? 'on' : 'off'}`,
    );
  }

  private async echoNode(): Promise<void> {
    const node = this.selectedNode();
    if (!node) return;
    // The answer is about the node as it was when asked: an echo that ends a backoff
    // starts a retry, and once that has failed (or delivered) the answer is history.
    const asked = this.stateOf(node.name);
    this.say(`echo ${node.name}...`);
    try {
      const result = await this.options.call({ command: 'echo', node: node.name });
      this.say(formatEcho(node.name, result), result.status !== 0, asked);
    } catch (err) {
      this.say(`echo ${node.name}: failed: ${(err as Error).message}`, true, asked);
    }
  }

  private async retry(): Promise<void> {
    const result = await this.options.call({ command: 'retry' });
    this.say([`${result.count} failed job(s) requeued`, ...formatBackoffs(result)].join('; '));
    await this.refresh();
  }
}
