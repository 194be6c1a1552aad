// multiprocessing.cpu_count(), active_children(), current_process() in Node.
const { fork } = require('node:child_process');
const { once } = require('node:events');
const { availableParallelism } = require('node:os');

// cpu_count(): os.availableParallelism() (os.cpus().length may be 0 in containers and ignores affinity).
const cpuCount = availableParallelism();

// current_process(): there is no global process object with a name; keep one.
const currentProcess = { name: process.argv[2] === 'child' ? (process.argv[3] ?? 'child') : 'MainProcess', pid: process.pid };

// active_children(): Node does not track children for you; keep the set.
const children = new Set();
function startChild(name) {
  const child = fork(__filename, ['child', name]);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function activeChildren() {
  return [...children].filter((child) => child.exitCode === null && child.signalCode === null);
}

async function main() {
  console.log(`cpu_count() is a positive integer: ${Number.isInteger(cpuCount) && cpuCount > 0}`);
  console.log(`current_process().name -> ${currentProcess.name}`);
  const started = [startChild('${1:worker}-1'), startChild('$1-2')];
  console.log(`active_children() -> ${activeChildren().length}`);
  for (const child of started) {
    child.send('whoami');
    const [reply] = (await once(child, 'message'));
    console.log(`a child says current_process().name -> ${reply.name}, parent pid matches: ${reply.ppid === process.pid}`);
  }
  for (const child of started) child.send('exit');
  await Promise.all(started.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
  console.log(`after join: active_children() -> ${activeChildren().length}`);$0
}

if (process.argv[2] === 'child') {
  process.on('message', (message) => {
    if (message === 'whoami') process.send?.({ name: currentProcess.name, ppid: process.ppid });
    else
      process.disconnect(); // 'exit': nothing keeps this process alive any more
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
