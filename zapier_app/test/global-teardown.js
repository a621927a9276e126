'use strict';

// Closing stdin asks run_test_service.py to stop gunicorn; SIGTERM, then SIGKILL, if it lingers.
module.exports = async () => {
  const child = globalThis.__PERSONAPULSE_SERVICE__;
  if (!child || child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const within = (ms) => Promise.race([exited.then(() => true), wait(ms).then(() => false)]);
  child.stdin.end();
  if (await within(30000)) {
    return;
  }
  child.kill('SIGTERM');
  if (await within(10000)) {
    return;
  }
  child.kill('SIGKILL');
  await exited;
};

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
