// Generator-based coroutines (yield / send) → JavaScript generators: next(value) is send(value),
// return() is close(), throw() is throw(), yield* is yield from; plus a round-robin scheduler.
export {}; // a module: these names stay out of the global scope

function* ${1:averager}(): Generator<number, void, number> {
  let total = 0;
  let count = 0;
  let average = NaN;
  for (;;) {
    try {
      const value = yield average; // send(value) resumes here with value
      total += value;
      count += 1;
      average = total / count;$0
    } catch {
      total = 0; // throw() lands here: reset and carry on
      count = 0;
      average = NaN;
    }
  }
}

function* countdown(name: string, n: number): Generator<string, string> {
  for (; n > 0; n--) yield `${name}${n}`;
  return `${name} done`; // the value of `yield from countdown(...)`, or of the last next()
}

function* twice(name: string): Generator<string, string> {
  const first = yield* countdown(name, 1); // yield from
  const second = yield* countdown(name, 1);
  return `${first} + ${second}`;
}

/** A round-robin scheduler over generator tasks (what asyncio did before async def). */
function run(tasks: Array<Generator<string, string>>): string[] {
  const log: string[] = [];
  const ready = [...tasks];
  for (let task = ready.shift(); task; task = ready.shift()) {
    const step = task.next();
    log.push(step.value);
    if (!step.done) ready.push(task); // not finished: back of the line
  }
  return log;
}

const avg = $1();
avg.next(); // prime it: Python's next(coro) / coro.send(None); the first next() runs to the first yield
const sent = [10, 20, 30].map((value) => avg.next(value).value);
console.log(`send(10), send(20), send(30) -> ${sent.join(', ')}`);
console.log(`throw() resets it -> ${avg.throw(new Error('reset')).value}, then send(4) -> ${avg.next(4).value}`);
avg.return(); // close()
console.log(`after close(): send(1) -> done=${avg.next(1).done}`);
console.log(`yield from: ${[...twice('x')].join(', ')}; return value: ${run([twice('y')]).at(-1)}`);
console.log(`round-robin: ${run([countdown('a', 2), countdown('b', 3)]).join(' | ')}`);
