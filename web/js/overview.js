// SPDX-License-Identifier: GPL-2.0-or-later
//
// Server overview (the top of server.html). The page's HTML says what to show: every element with
// data-prop="<operation>" is filled with that operation's returnval, formatted
// according to data-format. Operations named IVMHostInfo_* are called with the
// host object reference from IVMVirtualServer_get_HostInfo as _this. Elements
// with data-refresh are re-read every 30 s; the up time and the host clock
// tick locally between reads.

import {
  call, createLimiter, describeError, formatUptime, SoapFault, toList,
} from './soap.js';
import { goToLogin } from './nav.js';

const CONCURRENCY = 6;
const REFRESH_MS = 30000;
const HOST_PREFIX = 'IVMHostInfo_';

const run = createLimiter(CONCURRENCY);
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percentFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});

const LCIDS = {
  1025: 'ar-SA', 1028: 'zh-TW', 1029: 'cs-CZ', 1030: 'da-DK', 1031: 'de-DE',
  1032: 'el-GR', 1033: 'en-US', 1035: 'fi-FI', 1036: 'fr-FR', 1037: 'he-IL',
  1038: 'hu-HU', 1040: 'it-IT', 1041: 'ja-JP', 1042: 'ko-KR', 1043: 'nl-NL',
  1044: 'nb-NO', 1045: 'pl-PL', 1046: 'pt-BR', 1049: 'ru-RU', 1053: 'sv-SE',
  1055: 'tr-TR', 2052: 'zh-CN', 2057: 'en-GB', 2070: 'pt-PT', 3082: 'es-ES',
};

// ---------------------------------------------------------------- state

let leaving = false;          // on our way to the login page: stop touching the DOM
let hostRef = null;           // Promise<string> of the IVMHostInfo reference
let uptimeBase = null;        // { seconds, at } from the last UpTime read
let hostTimeBase = null;      // { ms, at } from the last UTCTime read
let memory = { total: null, avail: null };
let refreshTimer = 0;
let refreshing = false;
let lastReadAt = 0;           // performance.now() of the last completed read

const cells = Array.from(document.querySelectorAll('[data-prop]'));

function cellsFor(op) {
  return cells.filter((c) => c.dataset.prop === op);
}

function unique(list) {
  return Array.from(new Set(list));
}

// ---------------------------------------------------------------- formatting

function formatNumber(raw, unit = '') {
  const n = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(n)) return String(raw);
  return unit ? `${numberFormat.format(n)} ${unit}` : numberFormat.format(n);
}

function formatList(items) {
  const clean = items.map((s) => String(s).trim()).filter(Boolean);
  return clean.length ? clean.join(', ') : 'none';
}

function parseUtc(raw) {
  let text = String(raw).trim();
  if (!text) return NaN;
  // xsd:dateTime without a zone designator: the property is UTC by definition.
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text += 'Z';
  return Date.parse(text);
}

function formatLocalTime(ms) {
  return Number.isFinite(ms) ? dateFormat.format(new Date(ms)) : '';
}

function isTrue(raw) {
  const v = String(raw).trim().toLowerCase();
  return v === 'true' || v === '1';
}

/** Returns the text to show for a returnval in the given format. */
function render(format, raw) {
  switch (format) {
    case 'int':
      return formatNumber(raw);
    case 'mb':
      return formatNumber(raw, 'MB');
    case 'mhz': {
      const text = String(raw).trim();
      if (/^\d+(\.\d+)?$/.test(text)) return formatNumber(text, 'MHz');
      return text || '—';
    }
    case 'percent': {
      const n = Number(raw);
      return Number.isFinite(n) && String(raw).trim() !== '' ? `${percentFormat.format(n)} %` : String(raw);
    }
    case 'bool':
      return isTrue(raw) ? 'Yes' : 'No';
    case 'list':
      return formatList(toList(raw));
    case 'semilist':
      return formatList(toList(raw).flatMap((s) => String(s).split(';')));
    case 'optional':
      return String(raw ?? '').trim() || 'none';
    case 'lcid': {
      const n = Number(raw);
      const tag = LCIDS[n];
      return tag ? `${n} (${tag})` : String(raw);
    }
    case 'uptime':
      return formatUptime(raw);
    case 'datetime':
      return formatLocalTime(parseUtc(raw)) || String(raw);
    case 'features':
      return formatList(String(raw ?? '').split(','));
    default: {
      const text = Array.isArray(raw) ? formatList(raw) : String(raw ?? '');
      return text.trim() ? text : '—';
    }
  }
}

// ---------------------------------------------------------------- filling cells

function fill(op, raw) {
  for (const cell of cellsFor(op)) {
    const format = cell.dataset.format || 'text';
    cell.textContent = render(format, raw);
    cell.dataset.value = Array.isArray(raw) ? JSON.stringify(raw) : String(raw ?? '');
    cell.classList.remove('value-error');
    cell.classList.toggle('value-none', cell.textContent === 'none' || cell.textContent === '—');
    cell.removeAttribute('title');
    delete cell.dataset.error;
    if (format === 'bool') {
      cell.classList.toggle('flag-yes', isTrue(raw));
      cell.classList.toggle('flag-no', !isTrue(raw));
    }
  }
  afterFill(op, raw);
}

function fillError(op, err) {
  for (const cell of cellsFor(op)) {
    cell.textContent = 'Unavailable';
    cell.classList.add('value-error');
    cell.title = describeError(err);
    cell.dataset.error = err instanceof SoapFault ? (err.hresultName || `HTTP ${err.httpStatus}`) : 'network';
  }
  if (op === 'IVMHostInfo_get_Memory' || op === 'IVMHostInfo_get_MemoryAvail') {
    const text = document.getElementById('memory-usage');
    if (text) text.textContent = 'Unavailable';
  }
}

// Derived displays that depend on one or more properties.
function afterFill(op, raw) {
  switch (op) {
    case 'IVMVirtualServer_get_UpTime': {
      const n = Number(raw);
      uptimeBase = Number.isFinite(n) ? { seconds: n, at: performance.now() } : null;
      break;
    }
    case 'IVMHostInfo_get_UTCTime': {
      const ms = parseUtc(raw);
      hostTimeBase = Number.isFinite(ms) ? { ms, at: performance.now() } : null;
      for (const cell of cellsFor(op)) cell.title = `UTC ${String(raw).trim()}`;
      break;
    }
    case 'IVMHostInfo_get_ProcessorFeaturesString': {
      const count = String(raw ?? '').split(',').map((s) => s.trim()).filter(Boolean).length;
      const label = document.getElementById('feature-count');
      if (label) label.textContent = `all ${count}`;
      break;
    }
    case 'IVMHostInfo_get_Memory':
      memory.total = Number(raw);
      updateMemoryMeter();
      break;
    case 'IVMHostInfo_get_MemoryAvail':
      memory.avail = Number(raw);
      updateMemoryMeter();
      break;
    default:
      break;
  }
}

function updateMemoryMeter() {
  const meter = document.getElementById('memory-meter');
  const text = document.getElementById('memory-usage');
  if (!meter || !text) return;
  const { total, avail } = memory;
  if (!Number.isFinite(total) || !Number.isFinite(avail) || total <= 0) return;
  const used = Math.min(total, Math.max(0, total - avail));
  meter.max = total;
  meter.low = total * 0.75;
  meter.high = total * 0.9;
  meter.optimum = 0;
  meter.value = used;
  const pct = (used / total) * 100;
  meter.textContent = `${percentFormat.format(pct)} %`;
  text.textContent = `${formatNumber(used, 'MB')} of ${formatNumber(total, 'MB')} (${percentFormat.format(pct)} %)`;
  text.dataset.value = String(used);
}

function tick() {
  const now = performance.now();
  if (uptimeBase) {
    const seconds = uptimeBase.seconds + Math.floor((now - uptimeBase.at) / 1000);
    for (const cell of cellsFor('IVMVirtualServer_get_UpTime')) cell.textContent = formatUptime(seconds);
  }
  if (hostTimeBase) {
    const text = formatLocalTime(hostTimeBase.ms + (now - hostTimeBase.at));
    for (const cell of cellsFor('IVMHostInfo_get_UTCTime')) cell.textContent = text;
  }
}

// ---------------------------------------------------------------- errors

function leaveIfUnauthorized(err) {
  if (err instanceof SoapFault && err.httpStatus === 401) {
    if (!leaving) {
      leaving = true;
      clearTimeout(refreshTimer);
      goToLogin('expired');
    }
    return true;
  }
  return false;
}

/** failures: Array<{op, err}>; an empty array hides the banner. */
function showErrors(title, failures) {
  const banner = document.getElementById('error-banner');
  const list = document.getElementById('error-list');
  const heading = document.getElementById('error-title');
  if (!failures.length) {
    banner.hidden = true;
    list.replaceChildren();
    heading.textContent = '';
    return;
  }
  // One line per distinct error, naming the operations that hit it.
  const groups = new Map();
  for (const { op, err } of failures) {
    const key = describeError(err);
    // A failed host reference fails every IVMHostInfo_* read: name the cause.
    const where = err?.operation || op;
    if (!groups.has(key)) groups.set(key, []);
    if (!groups.get(key).includes(where)) groups.get(key).push(where);
  }
  heading.textContent = title;
  const items = [];
  for (const [message, ops] of groups) {
    const li = document.createElement('li');
    const msg = document.createElement('span');
    msg.className = 'error-message';
    msg.textContent = message;
    const where = document.createElement('span');
    where.className = 'error-ops';
    where.textContent = ` (${ops.join(', ')})`;
    li.append(msg, where);
    items.push(li);
  }
  list.replaceChildren(...items);
  banner.hidden = false;
}

function stampUpdated() {
  const el = document.getElementById('last-updated');
  if (el) el.textContent = `Last updated ${new Date().toLocaleTimeString()}`;
}

// ---------------------------------------------------------------- loading

function getHostRef() {
  if (!hostRef) {
    hostRef = run(() => callUnlessLeaving('IVMVirtualServer_get_HostInfo'));
    hostRef.catch(() => { hostRef = null; });
  }
  return hostRef;
}

// Calls still queued in the limiter are dropped once we are leaving the page.
function callUnlessLeaving(op, params) {
  return leaving ? Promise.reject(new Error('Leaving the page')) : call(op, params);
}

function fetchOp(op) {
  if (op.startsWith(HOST_PREFIX)) {
    return getHostRef().then((ref) => run(() => callUnlessLeaving(op, { _this: ref })));
  }
  return run(() => callUnlessLeaving(op));
}

/** Reads the given operations concurrently and fills their cells. */
async function load(ops) {
  const results = await Promise.allSettled(ops.map((op) => fetchOp(op)));
  lastReadAt = performance.now();
  const failures = [];
  results.forEach((res, i) => {
    const op = ops[i];
    if (res.status === 'fulfilled') {
      if (!leaving) fill(op, res.value);
    } else if (!leaveIfUnauthorized(res.reason)) {
      failures.push({ op, err: res.reason });
      if (!leaving) fillError(op, res.reason);
    }
  });
  return failures;
}

async function loadAll() {
  const ops = unique(cells.map((c) => c.dataset.prop));
  const failures = await load(ops);
  if (leaving) return;
  tick();
  stampUpdated();
  if (failures.length) {
    showErrors('Some values could not be read from the server:', failures);
    document.body.dataset.state = 'error';
  } else {
    showErrors('', []);
    document.body.dataset.state = 'loaded';
  }
}

async function refresh() {
  if (leaving || refreshing) return;
  if (document.visibilityState === 'hidden') {
    scheduleRefresh();
    return;
  }
  refreshing = true;
  try {
    // The volatile values, plus whatever failed before.
    const ops = unique(cells
      .filter((c) => c.hasAttribute('data-refresh') || c.classList.contains('value-error'))
      .map((c) => c.dataset.prop));
    const failures = await load(ops);
    if (leaving) return;
    tick();
    if (failures.length) {
      // A stale host reference (e.g. after a service restart) is fetched anew next time.
      if (failures.some(({ op, err }) => op.startsWith(HOST_PREFIX) && err instanceof SoapFault)) {
        hostRef = null;
      }
      showErrors('Refreshing from the server failed:', failures);
      document.body.dataset.state = 'error';
    } else {
      stampUpdated();
      // Every cell that had failed was read again above, so none is left.
      if (!document.querySelector('[data-prop].value-error')) {
        showErrors('', []);
        document.body.dataset.state = 'loaded';
      }
    }
  } finally {
    refreshing = false;
    scheduleRefresh();
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!leaving) refreshTimer = setTimeout(refresh, REFRESH_MS);
}

// ---------------------------------------------------------------- start

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && !refreshing && !leaving &&
      document.body.dataset.state !== 'loading' &&
      performance.now() - lastReadAt >= REFRESH_MS) {
    refresh();
  }
});
setInterval(tick, 1000);

loadAll().catch((err) => {
  // Only a bug gets here: load() settles every call.
  if (leaving) return;
  showErrors('The overview could not be shown:', [{ op: 'overview', err }]);
  document.body.dataset.state = 'error';
}).finally(scheduleRefresh);
