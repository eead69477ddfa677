// web/instruments.js formatTime: the clock, progress, note details and ruler text of the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, stepDecimals } from '../../web/instruments.js';

test('formatTime rounds the whole time before splitting minutes and seconds', () => {
  const cases = [
    [0, 1, '0:00.0'], [-3, 1, '0:00.0'], [5.04, 1, '0:05.0'], [59.94, 1, '0:59.9'],
    [59.96, 1, '1:00.0'], [59.5, 0, '1:00'], [59.4, 0, '0:59'], [119.9996, 3, '2:00.000'],
    [61.2345, 3, '1:01.235'], [3599.95, 1, '60:00.0'], [600, 0, '10:00'], [0.123, 2, '0:00.12'],
  ];
  for (const [sec, decimals, want] of cases) assert.equal(formatTime(sec, decimals), want, `formatTime(${sec}, ${decimals})`);
  assert.equal(formatTime(12.3), '0:12.3', 'one decimal by default');
});

test('ruler labels have as many decimals as their step needs', () => {
  for (const [step, want] of [[0.05, 2], [0.1, 1], [0.25, 2], [0.5, 1], [1, 0], [2, 0], [15, 0], [600, 0]]) {
    assert.equal(stepDecimals(step), want, `step ${step}`);
  }
  // Labels at multiples of a 0.25 s step, summed as the ruler does, are exact.
  const labels = [];
  for (let t = 0, i = 0; i < 5; t += 0.25, i++) labels.push(formatTime(t, stepDecimals(0.25)));
  assert.deepEqual(labels, ['0:00.00', '0:00.25', '0:00.50', '0:00.75', '0:01.00']);
});
