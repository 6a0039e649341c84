// Batch driver for the differential tests: one JSON string per stdin line in,
// one JSON object {"lodash": ..., "to_snake_case": ...} per stdout line out.
'use strict';
const readline = require('readline');
const snakeCase = require('lodash').snakeCase;
const toSnakeCase = require('to-snake-case');

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
lines.on('line', (line) => {
  const name = JSON.parse(line);
  out.push(JSON.stringify({ lodash: snakeCase(name), to_snake_case: toSnakeCase(name) }));
});
lines.on('close', () => {
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
});
