// Mocha's spec reporter, then one closing line CI can read: "N passed, N failed".
import Mocha from 'mocha';

class ClosingLineReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once('end', () => {
      const s = runner.stats ?? { passes: 0, failures: 0 };
      // After the spec reporter's epilogue, so it is the last line of the run.
      process.stdout.write(`\n${s.passes} passed, ${s.failures} failed\n`);
    });
  }
}

export = ClosingLineReporter;
