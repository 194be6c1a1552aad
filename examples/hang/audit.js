// The audit process: waits for the bank to say the books are closed.
process.on('message', (message) => {
  console.log(`audit: ${message}`);
  process.disconnect();
});
console.log('audit: waiting for the books to close');
