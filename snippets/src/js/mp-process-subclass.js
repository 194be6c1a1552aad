// A multiprocessing.Process subclass → a class whose run() executes in a forked child process.
const { fork } = require('node:child_process');
const { once } = require('node:events');

/** The base class: start() forks this file, sends the object's fields, and the child calls run(). */
class Process {
  #child;

  /** Override: what runs in the child process. */
  run() {}

  start() {
    // Python pickles the object; here its own fields travel as a structured clone over IPC and
    // the child rebuilds it from the class registered under the same name (see `classes`).
    const child = fork(__filename, ['child'], { serialization: 'advanced' });
    child.send({ cls: this.constructor.name, state: { ...this } });
    this.#child = child;
  }

  async join() {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }

  get exitcode() {
    return this.#child?.exitCode ?? null;
  }
}

class ${1:Squarer} extends Process {

  constructor(numbers) {
    super();
    this.numbers = numbers;
  }

  run() {
    console.log(`squares: ${JSON.stringify(this.numbers.map((n) => n * n))}`);$0
  }
}

// Every subclass a child may have to rebuild, by name.
const classes = { $1 };

if (process.argv[2] === 'child') {
  process.once('message', (message) => {
    const cls = classes[message.cls];
    if (!cls) throw new Error(`unknown Process subclass ${message.cls}`);
    const self = Object.assign(Object.create(cls.prototype), message.state);
    Promise.resolve()
      .then(() => self.run())
      .catch((error) => {
      console.error(error); // like Python, an exception in run() gives exitcode 1
      process.exitCode = 1;
    })
      .finally(() => process.disconnect());
  });
} else {
  const p = new $1([${2:1, 2, 3}]);
  p.start();
  p.join()
    .then(() => console.log(`${p.constructor.name} exitcode: ${p.exitcode}`))
    .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
