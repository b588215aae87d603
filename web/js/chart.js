// SPDX-License-Identifier: GPL-2.0-or-later
//
// A tiny bar chart of the last minute (the API's *History arrays: 60
// values, newest first), drawn oldest on the left as spans whose heights
// are set through the CSSOM (the pages' CSP allows no style attributes).
// The numbers themselves are in the chart's aria-label.

import { el } from './ui.js';

/** Fills `chart` (an element with class "chart") with bars of `values`. */
export function drawHistory(chart, values, describe) {
  const numbers = values.map((v) => Number(v) || 0);
  const peak = Math.max(1, ...numbers);
  chart.replaceChildren(...numbers.slice().reverse().map((v) => {
    const bar = el('span', { class: 'bar' });
    bar.style.height = `${Math.round((v / peak) * 100)}%`;
    return bar;
  }));
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', describe(Math.max(0, ...numbers), numbers[0] ?? 0));
}
