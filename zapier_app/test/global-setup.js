'use strict';
/*
 * Starts the real service (scripts/run_test_service.py: gunicorn + small demo data) once for the
 * whole jest run and hands its JSON line to the test files through process.env.
 */
const path = require('path');
const { spawn } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const STARTUP_TIMEOUT_MS = 240000;

module.exports = async () => {
  const python = process.env.PERSONAPULSE_PYTHON || path.join(REPO, '.venv', 'bin', 'python');
  const child = spawn(python, [path.join(REPO, 'scripts', 'run_test_service.py')], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const line = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`run_test_service.py printed nothing in ${STARTUP_TIMEOUT_MS} ms\n${stderr}`));
    }, STARTUP_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, newline));
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`run_test_service.py exited with ${code} before starting\n${stderr}`));
    });
  });
  const service = JSON.parse(line);
  child.removeAllListeners('exit');
  globalThis.__PERSONAPULSE_SERVICE__ = child;
  // Workers are forked after global setup, so they inherit these.
  process.env.PERSONAPULSE_TEST_BASE_URL = service.base_url;
  process.env.PERSONAPULSE_TEST_API_KEY = service.api_key;
  process.env.PERSONAPULSE_TEST_READ_ONLY_KEY = service.read_only_key;
};
