// SPDX-License-Identifier: GPL-2.0-or-later
//
// Minimal SOAP 1.1 client for the VSA management API (document/literal,
// namespace urn:vsa:virtualserver:1, endpoint POST /VirtualServer on the
// page's own origin). The contract is wsdl/VirtualServer.wsdl.
//
//   import { call, SoapFault } from './soap.js';
//   const name = await call('IVMVirtualServer_get_Name');           // "..."
//   const host = await call('IVMVirtualServer_get_HostInfo');       // object ref
//   const nics = await call('IVMHostInfo_get_NetworkAdapters', { _this: host });
//
// The session cookie set by Session_Logon is sent with every request
// (credentials: 'same-origin'); the token is never kept in script-visible
// storage. The long poll may go to another port of the same host (a
// separate listener, so waits never hold the threads of ordinary calls):
// pass { endpoint, credentials: 'include' } in the options for that.
//
// Arrays (string[], ulong[]) are sent as <item> children, plain objects as
// structures (fields in schema order); structures
// (UpdateSet, VsaEvent[], ...) are read with callStruct(), which turns the
// returnval element into plain objects and arrays.

export const NAMESPACE = 'urn:vsa:virtualserver:1';
export const ENDPOINT = '/VirtualServer';
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const DEFAULT_TIMEOUT_MS = 30000;

/**
 * A failed call that reached the server: a SOAP Fault (usually HTTP 500),
 * HTTP 401 (not signed in / session expired), HTTP 429 (client locked out) or
 * any other non-success HTTP answer.
 */
export class SoapFault extends Error {
  constructor(message, { hresult = null, hresultName = '', httpStatus = 0,
    faultCode = '', faultString = '', retryAfter = null, operation = '' } = {}) {
    super(message);
    this.name = 'SoapFault';
    /** HRESULT as an unsigned 32-bit number, or null if the server sent none. */
    this.hresult = hresult;
    /** Symbolic HRESULT name such as "VM_E_VM_UNKNOWN", or "". */
    this.hresultName = hresultName;
    /** HTTP status of the answer (500 for an ordinary fault, 401, 429, ...). */
    this.httpStatus = httpStatus;
    this.faultCode = faultCode;
    this.faultString = faultString;
    /** Seconds to wait before retrying (from Retry-After), or null. */
    this.retryAfter = retryAfter;
    /** The operation that failed. */
    this.operation = operation;
  }

  /** True when the caller is not (or no longer) authenticated. */
  get isUnauthorized() {
    return this.httpStatus === 401;
  }
}

/** The server could not be reached at all (network down, TLS error, timeout). */
export class NetworkError extends Error {
  constructor(message, { cause, operation = '' } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'NetworkError';
    this.operation = operation;
  }
}

// XML 1.0 forbids most C0 controls and unpaired surrogates even as references.
const INVALID_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Escapes a value for use as XML element text. */
export function escapeXml(text) {
  const s = String(text);
  if (INVALID_XML_CHARS.test(s)) {
    throw new RangeError('Value contains a character that XML cannot carry');
  }
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;'); // keep CR: XML parsers normalise a literal one away
}

function paramXml(name, value) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // A structure (ConfigurationValue): its fields in the object's order,
    // which must be the schema's; undefined fields are left out.
    const fields = Object.entries(value).filter(([, v]) => v !== undefined).map(([field, v]) => {
      if (!XML_NAME.test(field)) throw new TypeError(`Invalid field name: ${field}`);
      return paramXml(field, v);
    }).join('');
    return `<vs:${name}>${fields}</vs:${name}>`;
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => `<vs:item>${escapeXml(valueText(name, v))}</vs:item>`).join('');
    return `<vs:${name}>${items}</vs:${name}>`;
  }
  return `<vs:${name}>${escapeXml(valueText(name, value))}</vs:${name}>`;
}

function valueText(name, value) {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`Parameter ${name} is not a finite number`);
      }
      return String(value);
    case 'bigint':
      return value.toString();
    default:
      throw new TypeError(`Parameter ${name} must be a string, number or boolean`);
  }
}

/** Builds the request envelope for an operation. */
export function buildEnvelope(operation, params = {}) {
  if (!XML_NAME.test(operation)) {
    throw new TypeError(`Invalid operation name: ${operation}`);
  }
  let inner = '';
  for (const [name, value] of Object.entries(params ?? {})) {
    if (!XML_NAME.test(name)) {
      throw new TypeError(`Invalid parameter name: ${name}`);
    }
    inner += paramXml(name, value);
  }
  return '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<soap:Envelope xmlns:soap="${SOAP_ENV}" xmlns:vs="${NAMESPACE}">` +
    `<soap:Body><vs:${operation}>${inner}</vs:${operation}></soap:Body>` +
    '</soap:Envelope>';
}

function childElements(node) {
  return node ? Array.from(node.children) : [];
}

function firstChild(node, localName) {
  return childElements(node).find((e) => e.localName === localName) ?? null;
}

// Retry-After is either delta-seconds or an HTTP date.
function parseRetryAfter(header) {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

function parseXml(text) {
  if (!text || !text.trim()) return null;
  const doc = new DOMParser().parseFromString(text, 'text/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) return null;
  return doc;
}

function soapBody(doc) {
  if (!doc) return null;
  const env = doc.documentElement;
  if (!env || env.localName !== 'Envelope' || env.namespaceURI !== SOAP_ENV) return null;
  return childElements(env).find(
    (e) => e.localName === 'Body' && e.namespaceURI === SOAP_ENV) ?? null;
}

function faultFrom(faultEl, httpStatus, operation, retryAfter) {
  const faultCode = firstChild(faultEl, 'faultcode')?.textContent.trim() ?? '';
  const faultString = firstChild(faultEl, 'faultstring')?.textContent.trim() ?? '';
  const detail = firstChild(faultEl, 'detail');
  const vsFault = detail
    ? detail.getElementsByTagNameNS(NAMESPACE, 'VirtualServerFault')[0] ??
      firstChild(detail, 'VirtualServerFault')
    : null;
  let hresult = null;
  let hresultName = '';
  let message = '';
  if (vsFault) {
    const raw = firstChild(vsFault, 'hresult')?.textContent.trim() ?? '';
    if (raw !== '') {
      const n = raw.startsWith('0x') || raw.startsWith('0X') ? parseInt(raw, 16) : Number(raw);
      if (Number.isFinite(n)) hresult = n >>> 0;
    }
    hresultName = firstChild(vsFault, 'hresultName')?.textContent.trim() ?? '';
    message = firstChild(vsFault, 'message')?.textContent.trim() ?? '';
  }
  return new SoapFault(message || faultString || `HTTP ${httpStatus}`, {
    hresult, hresultName, httpStatus, faultCode, faultString, retryAfter, operation,
  });
}

function statusMessage(status) {
  switch (status) {
    case 401: return 'Not signed in, or the session has expired.';
    case 403: return 'Access denied.';
    case 429: return 'Too many failed attempts; try again later.';
    case 502:
    case 503:
    case 504: return `The server is unavailable (HTTP ${status}).`;
    default: return `Unexpected answer from the server (HTTP ${status}).`;
  }
}

/**
 * Calls a SOAP operation.
 *
 * @param {string} operation  e.g. "IVMHostInfo_get_Memory"
 * @param {Object<string, string|number|boolean>} params  element name -> value,
 *        in schema order (e.g. { _this: ref, hostDriveIdentifier: 'sda' })
 * @param {{signal?: AbortSignal, timeout?: number, endpoint?: string,
 *          credentials?: RequestCredentials}} options  endpoint: another URL
 *        for the request (the long-poll listener); credentials: 'include'
 *        for a cross-origin endpoint that should still carry the cookie
 * @returns {Promise<string|string[]|null>} the returnval: a string for simple
 *          types, an array of strings for ArrayOfString (an element with
 *          <item> children), null for a void operation or xsi:nil. An empty
 *          ArrayOfString cannot be told from an empty string on the wire and
 *          comes back as "": use callList() where an array is expected.
 * @throws {SoapFault} for faults and HTTP errors (see httpStatus)
 * @throws {NetworkError} when the server cannot be reached or times out
 */
export async function call(operation, params = {}, options = {}) {
  const ret = await request(operation, params, options);
  if (!ret) return null;
  const nil = ret.getAttributeNS(XSI, 'nil');
  if (nil === 'true' || nil === '1') return null;
  const kids = childElements(ret);
  if (kids.length > 0 && kids.every((k) => k.localName === 'item')) {
    return kids.map((k) => k.textContent);
  }
  return ret.textContent;
}

/**
 * Calls an operation whose returnval is a structure or an array of them.
 * Elements with children become objects keyed by local name; an element
 * whose children are all <item> becomes an array. Leaves are strings; an
 * empty element whose name is in `arrays` (default: events, objects,
 * properties, items) is an empty array.
 */
export async function callStruct(operation, params = {}, options = {}) {
  const ret = await request(operation, params, options);
  return ret ? structFrom(ret, options.arrays ?? DEFAULT_ARRAYS, true) : null;
}

const DEFAULT_ARRAYS = new Set(['events', 'objects', 'properties', 'items', 'returnval']);

function structFrom(el, arrays, top = false) {
  const kids = childElements(el);
  if (kids.length === 0) {
    if (arrays.has(el.localName) && (!top || el.textContent === '')) return [];
    return el.textContent;
  }
  if (kids.every((k) => k.localName === 'item')) return kids.map((k) => structFrom(k, arrays));
  const obj = {};
  for (const k of kids) obj[k.localName] = structFrom(k, arrays);
  return obj;
}

async function request(operation, params, options) {
  const body = buildEnvelope(operation, params);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const signals = [];
  if (options.signal) signals.push(options.signal);
  if (timeout > 0 && typeof AbortSignal.timeout === 'function') {
    signals.push(AbortSignal.timeout(timeout));
  }
  let signal;
  if (signals.length === 1) signal = signals[0];
  else if (signals.length > 1 && typeof AbortSignal.any === 'function') signal = AbortSignal.any(signals);
  else signal = options.signal;

  let response;
  let text;
  try {
    response = await fetch(options.endpoint ?? ENDPOINT, {
      method: 'POST',
      credentials: options.credentials ?? 'same-origin',
      cache: 'no-store',
      headers: {
        'Content-Type': 'text/xml; charset=utf-8',
        'SOAPAction': `"${NAMESPACE}#${operation}"`,
        'X-Requested-With': 'XMLHttpRequest',
        'Accept': 'text/xml, application/soap+xml',
      },
      body,
      signal,
    });
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted && err?.name === 'AbortError') throw err;
    const timedOut = err?.name === 'TimeoutError' || err?.name === 'AbortError';
    throw new NetworkError(
      timedOut
        ? `The server did not answer within ${Math.round(timeout / 1000)} s (${operation}).`
        : `Cannot reach the VSA server (${operation}): check the network connection.`,
      { cause: err, operation });
  }

  // vsad answers this page's faults, 401 and 429 with HTTP 200 and the
  // real status in X-VSA-Status, so the browser does not log a handled
  // fault as a failed load (appliance/http/router.cpp, set_soap_status).
  const status = Number(response.headers.get('X-VSA-Status')) || response.status;
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  const envBody = soapBody(parseXml(text));
  const payload = envBody ? childElements(envBody)[0] ?? null : null;

  if (payload && payload.localName === 'Fault' && payload.namespaceURI === SOAP_ENV) {
    throw faultFrom(payload, status, operation, retryAfter);
  }
  if (status < 200 || status > 299) {
    throw new SoapFault(statusMessage(status), {
      httpStatus: status, retryAfter, operation,
    });
  }
  if (!envBody) {
    throw new SoapFault('The server sent an answer that is not a SOAP envelope.', {
      httpStatus: status, operation,
    });
  }
  if (!payload) return null;
  return firstChild(payload, 'returnval');
}

/** Like call(), but always yields an array (for ArrayOfString results). */
export async function callList(operation, params = {}, options = {}) {
  return toList(await call(operation, params, options));
}

/** Normalises a returnval that should be a list: null/"" -> [], "x" -> ["x"]. */
export function toList(value) {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined || value === '') return [];
  return [String(value)];
}

/**
 * Returns run(fn), which starts fn() with at most `limit` of them in flight
 * at once and resolves or rejects as fn's promise does.
 */
export function createLimiter(limit = 6) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= limit || queue.length === 0) return;
    active += 1;
    const { fn, resolve, reject } = queue.shift();
    Promise.resolve()
      .then(fn)
      .then(resolve, reject)
      .finally(() => {
        active -= 1;
        next();
      });
  };
  return (fn) => new Promise((resolve, reject) => {
    queue.push({ fn, resolve, reject });
    next();
  });
}

/** 2684617223 -> "0xA0040207". */
export function formatHresult(n) {
  if (n === null || n === undefined || n === '' || !Number.isFinite(Number(n))) return '';
  return '0x' + (Number(n) >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** 273906 -> "3 d 04:05:06" (days are always shown, "0 d 00:00:05"). */
export function formatUptime(seconds) {
  const n = Number(seconds);
  if (seconds === null || seconds === undefined || seconds === '' || !Number.isFinite(n)) return '';
  let s = Math.max(0, Math.floor(n));
  const days = Math.floor(s / 86400);
  s %= 86400;
  const pad = (v) => String(v).padStart(2, '0');
  return `${days} d ${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** "VM_E_VM_UNKNOWN (0xA0040207): message" for showing an error to a person. */
export function describeError(err) {
  if (err instanceof SoapFault) {
    const code = [err.hresultName, err.hresult !== null ? formatHresult(err.hresult) : '']
      .filter(Boolean);
    let head = '';
    if (code.length === 2) head = `${code[0]} (${code[1]})`;
    else if (code.length === 1) head = code[0];
    else head = `HTTP ${err.httpStatus}`;
    return `${head}: ${err.message}`;
  }
  if (err instanceof NetworkError) return err.message;
  return err?.message ? String(err.message) : String(err);
}

