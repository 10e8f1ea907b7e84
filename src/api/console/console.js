/* global document, window, location, sessionStorage, fetch, crypto, setTimeout, clearTimeout, URL, CSS, FormData, AbortController */
/**
 * The operator console: plain ES modules, no build step. Every call goes to the API this page is
 * served by (its base is this module's URL minus `console/console.js`, so any prefix works), with the
 * bearer token typed in, kept in sessionStorage. Data only ever reaches the page as text nodes.
 */
import { followEvents, StreamError } from './sse.js';

const API = new URL('../', import.meta.url);
const TOKEN_KEY = 'onceflow.console.token';
const $ = (id) => document.getElementById(id);

/** An element with properties (`class`, `data-*`, `on*` handlers, others as attributes) and children. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(
    ...children
      .flat()
      .filter((c) => c !== undefined && c !== null && c !== false)
      .map(String),
  );
  return el;
}

/** Like `h`, but children may be elements. */
function hx(tag, props, ...children) {
  const el = h(tag, props);
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const classOf = (value) =>
  String(value ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');

function badge(kind, value) {
  return h('span', { class: `${kind} ${kind}-${classOf(value)}` }, value ?? '—');
}

// ---------------------------------------------------------------- token and API calls

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';
const authHeaders = () => (token() ? { authorization: `Bearer ${token()}` } : {});

/** A failed API call: the HTTP status and the API's `{error: {code, message}}`. */
class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  toString() {
    return this.status ? `${this.status} ${this.code}: ${this.message}` : this.message;
  }
}

function notice(text) {
  $('notice').textContent = text ?? '';
  $('notice').hidden = !text;
}

function tokenRequired() {
  notice(
    token()
      ? '401: token refused. Type the API token (API_TOKEN) in the field above.'
      : '401: token required. Type the API token (API_TOKEN) in the field above.',
  );
  $('token').focus();
}

/** `method path` on the API: `{status, body}` on 2xx, else throws {@link ApiFailure}. */
async function call(method, path, body, headers = {}) {
  const init = { method, headers: { accept: 'application/json', ...authHeaders(), ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, API), init);
  } catch (err) {
    throw new ApiFailure(0, 'NETWORK', `the API did not answer (${err.message})`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the text is the message
  }
  if (!response.ok) {
    if (response.status === 401) tokenRequired();
    throw new ApiFailure(
      response.status,
      json?.error?.code ?? `HTTP_${response.status}`,
      json?.error?.message ?? (text || response.statusText),
    );
  }
  if ($('notice').textContent.startsWith('401')) notice(null);
  return { status: response.status, body: json };
}

// ---------------------------------------------------------------- start a task

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(8)); // randomUUID needs a secure context
  $('start-form').elements.idempotencyKey.value =
    `console-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The kinds `POST /tasks` accepts, from its body schema in the OpenAPI document. */
async function loadKinds() {
  const { body: doc } = await call('GET', 'docs');
  const base = API.pathname.replace(/\/$/, '');
  const paths = doc?.paths ?? {};
  const path = paths[`${base}/tasks`] ?? Object.entries(paths).find(([p]) => p.endsWith('/tasks'))?.[1];
  const kinds = new Set();
  const seen = new Set();
  const walk = (node) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
      walk(
        node.$ref
          .slice(2)
          .split('/')
          .reduce((at, part) => at?.[part], doc),
      );
    }
    const kind = node.properties?.kind;
    if (kind?.const !== undefined) kinds.add(String(kind.const));
    for (const value of kind?.enum ?? []) kinds.add(String(value));
    for (const value of Object.values(node)) walk(value);
  };
  walk(path?.post?.requestBody);
  if (kinds.size === 0) return;
  const select = $('kind');
  const chosen = select.value;
  select.replaceChildren(...[...kinds].map((k) => h('option', { value: k }, k)));
  select.value = kinds.has(chosen) ? chosen : [...kinds][0];
}

function clearFieldErrors() {
  for (const el of document.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  $('start-result').textContent = '';
  $('start-result').className = 'result-line';
}

function fieldError(name, message) {
  const form = $('start-form');
  const slot = form.querySelector(`.field-error[data-for="${name}"]`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
  form.elements[name]?.setAttribute('aria-invalid', 'true');
  if (name === 'extra') form.querySelector('details').open = true;
  return true;
}

/** Puts each `field.path: reason` of a 4xx message under its field (`Idempotency-Key`, body fields). */
function showStartError(err) {
  const result = $('start-result');
  result.textContent = String(err);
  result.className = 'result-line error';
  const extraGiven = $('start-form').elements.extra.value.trim() !== '';
  for (const part of err.message.split(/;\s+/)) {
    const match = /^([\w.[\]-]+): (.+)$/.exec(part);
    if (!match) continue;
    const field = match[1] === 'Idempotency-Key' ? 'idempotencyKey' : match[1].split(/[.[]/)[0];
    if (!fieldError(field, `${match[1]}: ${match[2]}`) && extraGiven) fieldError('extra', part);
  }
}

async function startTask(event) {
  event.preventDefault();
  clearFieldErrors();
  const form = event.target;
  const data = new FormData(form);
  const body = { kind: String(data.get('kind')) };
  for (const name of ['prompt', 'customerId', 'scenario']) {
    const value = String(data.get(name) ?? '');
    if (value.trim()) body[name] = name === 'prompt' ? value : value.trim();
  }
  const extra = String(data.get('extra') ?? '').trim();
  if (extra) {
    let parsed;
    try {
      parsed = JSON.parse(extra);
    } catch (err) {
      fieldError('extra', `not JSON: ${err.message}`);
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      fieldError('extra', 'a JSON object of more body fields, such as {"approvalLimit": 10000}');
      return;
    }
    Object.assign(body, parsed);
  }
  const key = String(data.get('idempotencyKey') ?? '').trim();
  const submit = form.querySelector('button[type=submit]');
  submit.disabled = true;
  try {
    const { status, body: receipt } = await call(
      'POST',
      'tasks',
      body,
      key ? { 'idempotency-key': key } : {},
    );
    const result = $('start-result');
    result.className = 'result-line ok';
    result.textContent =
      status === 201
        ? `Started ${receipt.workflowId}.`
        : `Already started under this key: ${receipt.workflowId} (nothing new started).`;
    newKey();
    location.hash = `task=${encodeURIComponent(receipt.workflowId)}`;
    setTimeout(() => void loadTasks(), 1000); // the visibility store lists it a moment later
  } catch (err) {
    showStartError(err);
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- task list

async function loadTasks() {
  let tasks;
  try {
    ({
      body: { tasks },
    } = await call('GET', 'tasks?limit=20'));
  } catch (err) {
    $('tasks').replaceChildren(h('li', { class: 'error' }, String(err)));
    return;
  }
  $('tasks-empty').hidden = tasks.length > 0;
  $('tasks').replaceChildren(
    ...tasks.map((task) =>
      hx(
        'li',
        {},
        hx(
          'a',
          {
            href: `#task=${encodeURIComponent(task.id)}`,
            class: task.id === view?.id ? 'current' : undefined,
            'data-task': task.id,
          },
          h('span', { class: 'task-name' }, task.id),
          badge('status', task.status ?? '—'),
          h('small', { class: 'muted' }, `${task.kind ?? '?'} · ${time(task.startedAt)}`),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- one task

/** The open task: what the page shows of it, merged from `GET /tasks/:id` and its live events. */
let view = null;

function emptyView(id) {
  return {
    id,
    abort: new AbortController(),
    turns: new Map(),
    calls: new Map(),
    steps: new Map(),
    decided: new Set(),
    pending: null,
    asked: 0,
    applied: 0,
    refreshTimer: undefined,
    ended: false,
  };
}

const taskPath = (id, rest = '') => `tasks/${encodeURIComponent(id)}${rest}`;

function openTask(id, { force = false } = {}) {
  if (!force && view?.id === id) return;
  view?.abort.abort();
  clearTimeout(view?.refreshTimer);
  view = emptyView(id);
  for (const a of document.querySelectorAll('#tasks a')) a.classList.toggle('current', a.dataset.task === id);
  $('task-empty').hidden = true;
  $('task-view').hidden = false;
  $('task-id').textContent = id;
  setStatus('…');
  $('live').textContent = '';
  $('ui-link').hidden = true;
  $('cancel').hidden = true;
  $('task-meta').replaceChildren();
  $('task-error').hidden = true;
  $('approval').hidden = true;
  $('turns').replaceChildren();
  $('turns-empty').hidden = false;
  $('calls').replaceChildren();
  $('steps').replaceChildren();
  $('saga-status').replaceChildren();
  $('attention').replaceChildren();
  $('result').replaceChildren(h('p', { class: 'muted' }, 'Not finished yet.'));
  $('runs').replaceChildren();
  void refresh(view);
  void follow(view);
}

function closeTask() {
  view?.abort.abort();
  view = null;
  $('task-view').hidden = true;
  $('task-empty').hidden = false;
}

function setStatus(status) {
  const el = $('task-status');
  el.textContent = status;
  el.className = `status status-${classOf(status)}`;
}

function taskError(message) {
  $('task-error').textContent = message ?? '';
  $('task-error').hidden = !message;
}

/** `GET /tasks/:id`, shown unless a later answer was shown already. */
async function refresh(v) {
  const asked = ++v.asked;
  try {
    const { body: task } = await call('GET', taskPath(v.id));
    if (view !== v || asked < v.applied) return;
    v.applied = asked;
    taskError(null);
    renderTask(v, task);
  } catch (err) {
    if (view !== v) return;
    taskError(String(err));
    // A network error or a 5xx (a query that timed out under load) is worth another try: an ended
    // task sends no more events that would refresh the view.
    if (err instanceof ApiFailure && (err.status === 0 || err.status >= 500)) refreshSoon(v, 2_000);
  }
}

/** A refresh soon, once for a burst of events. */
function refreshSoon(v, ms = 300) {
  clearTimeout(v.refreshTimer);
  v.refreshTimer = setTimeout(() => void refresh(v), ms);
}

function renderTask(v, task) {
  setStatus(task.status);
  const link = $('ui-link');
  link.href = task.link;
  link.hidden = !task.link;
  $('cancel').hidden = task.workflowStatus !== 'RUNNING';
  const usage = task.usage
    ? `${task.usage.turns} turns · ${task.usage.inputTokens} in / ${task.usage.outputTokens} out tokens`
    : undefined;
  const meta = [
    ['Kind', task.kind],
    ['Workflow', task.workflowStatus],
    ['Run', task.runId],
    ['Started', time(task.startedAt)],
    ['Closed', time(task.closedAt)],
    ['Usage', usage],
  ];
  $('task-meta').replaceChildren(
    ...meta.filter(([, value]) => value).flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
  );

  for (const record of task.toolCalls ?? []) {
    // Agents report tool calls; hand-written sagas their steps ({step, key, outcome}).
    if (record.toolUseId) mergeCall({ ...record });
    else
      mergeCall({
        toolUseId: `${record.step}|${record.key}`,
        name: record.step,
        key: record.key,
        outcome: record.outcome,
      });
  }
  renderCalls();

  if (task.saga) {
    $('saga-status').replaceChildren(badge('status', task.saga.status));
    for (const step of task.saga.steps ?? []) v.steps.set(`${step.name}|${step.key ?? ''}`, { ...step });
    renderSteps();
    $('attention').replaceChildren(
      ...(task.saga.needsAttention ?? []).map((item) =>
        h(
          'li',
          {},
          `Needs a person: ${item.step}${item.key ? ` (${item.key})` : ''}: ${item.error}. ${item.action}`,
        ),
      ),
    );
  }

  const pending = task.agent?.pendingApproval;
  if (pending && !v.decided.has(pending.key ?? pending.toolUseId)) showApproval(v, pending);
  else if (!pending && task.status !== 'waiting_approval' && !$('approval').classList.contains('decided'))
    $('approval').hidden = true;

  renderResult(task);
  $('runs').replaceChildren(
    ...(task.runs ?? []).map((run) =>
      hx(
        'li',
        {},
        h('code', {}, run.runId),
        ' ',
        badge('status', run.workflowStatus),
        h(
          'small',
          { class: 'muted' },
          ` ${time(run.startedAt)}${run.closedAt ? ` → ${time(run.closedAt)}` : ''}`,
        ),
      ),
    ),
  );
}

function renderResult(task) {
  const box = $('result');
  if (task.failure) {
    box.replaceChildren(h('p', { class: 'error' }, task.failure));
    return;
  }
  if (task.result === null || task.result === undefined) {
    box.replaceChildren(h('p', { class: 'muted' }, task.closedAt ? 'No result.' : 'Not finished yet.'));
    return;
  }
  const result = task.result;
  box.replaceChildren(
    ...[
      typeof result.finalText === 'string' ? h('p', { class: 'final-text' }, result.finalText) : null,
      result.reason ? h('p', { class: 'muted' }, `Reason: ${result.reason}`) : null,
      hx('details', {}, h('summary', {}, 'Result as JSON'), h('pre', {}, JSON.stringify(result, null, 2))),
    ].filter(Boolean),
  );
}

// ---------------------------------------------------------------- conversation

function turnOf(turn) {
  let entry = view.turns.get(turn);
  if (entry) return entry;
  const text = h('div', { class: 'text' });
  const uses = h('ul', { class: 'uses' });
  const notes = h('span', { class: 'notes' });
  const el = hx(
    'article',
    { class: 'turn', 'data-turn': turn },
    hx('header', {}, h('span', {}, `Turn ${turn}`), notes),
    text,
    uses,
  );
  const later = [...view.turns.entries()].filter(([n]) => n > turn).sort(([a], [b]) => a - b)[0];
  $('turns').insertBefore(el, later ? later[1].el : null);
  $('turns-empty').hidden = true;
  entry = { el, text, uses, notes, attempts: new Map() };
  view.turns.set(turn, entry);
  return entry;
}

function attemptSpan(entry, attempt) {
  let span = entry.attempts.get(attempt);
  if (!span) {
    span = h('span', { 'data-attempt': attempt });
    entry.text.append(span);
    entry.attempts.set(attempt, span);
  }
  return span;
}

function onTextDelta({ turn, attempt, text }) {
  attemptSpan(turnOf(turn), attempt).append(text);
}

function onTextDiscarded({ turn, attempts }) {
  const entry = turnOf(turn);
  for (const attempt of attempts) {
    entry.attempts.get(attempt)?.remove();
    entry.attempts.delete(attempt);
    for (const li of entry.uses.querySelectorAll(`li[data-attempt="${attempt}"]`)) li.remove();
  }
  entry.notes.append(
    h(
      'span',
      { class: 'retried' },
      `retried: attempt${attempts.length > 1 ? 's' : ''} ${attempts.join(', ')} discarded`,
    ),
  );
}

function onToolUse({ turn, attempt, toolUseId, name, input }) {
  const entry = turnOf(turn);
  const json = JSON.stringify(input);
  entry.uses.append(
    hx(
      'li',
      { 'data-attempt': attempt, 'data-tool-use-id': toolUseId },
      h('span', { class: 'tool' }, `→ ${name}`),
      h('code', { class: 'input', title: json }, json.length > 160 ? `${json.slice(0, 160)}…` : json),
      h('span', { class: 'outcome-slot' }),
    ),
  );
}

// ---------------------------------------------------------------- tool calls, approvals, saga

function mergeCall(record) {
  const known = view.calls.get(record.toolUseId) ?? {};
  view.calls.set(record.toolUseId, { ...known, ...record });
}

function renderCalls() {
  const rows = [...view.calls.values()].map((record) =>
    hx(
      'tr',
      { 'data-tool-use-id': record.toolUseId, 'data-name': record.name, 'data-outcome': record.outcome },
      h('td', {}, record.turn ?? '—'),
      h('td', { class: 'tool' }, record.name),
      h('td', { class: 'key' }, record.key ?? '—'),
      hx('td', {}, badge('outcome', record.outcome)),
      h('td', { class: 'error' }, record.error ?? ''),
    ),
  );
  $('calls').replaceChildren(...rows);
  // The turn's tool use shows its outcome too.
  for (const record of view.calls.values()) {
    const selector = `#turns li[data-tool-use-id="${CSS.escape(record.toolUseId)}"] .outcome-slot`;
    document.querySelector(selector)?.replaceChildren(badge('outcome', record.outcome));
  }
}

function showApproval(v, pending) {
  v.pending = pending;
  const box = $('approval');
  box.classList.remove('decided');
  box.hidden = false;
  $('approval-tool').textContent = pending.tool;
  $('approval-summary').textContent = pending.summary;
  $('approval-reason').textContent = pending.reason ?? '';
  $('approval-key').textContent = pending.key ?? '—';
  $('approval-state').textContent = '';
  $('approval-error').hidden = true;
  $('approve').hidden = $('deny').hidden = false;
  $('approve').disabled = $('deny').disabled = false;
}

async function decide(approved) {
  const v = view;
  const pending = v?.pending;
  if (!pending) return;
  $('approve').disabled = $('deny').disabled = true;
  $('approval-error').hidden = true;
  const body = { by: 'console', ...(pending.key ? { key: pending.key } : {}) };
  try {
    await call('POST', taskPath(v.id, approved ? '/approve' : '/deny'), body);
    v.decided.add(pending.key ?? pending.toolUseId);
    v.pending = null;
    $('approval').classList.add('decided');
    $('approve').hidden = $('deny').hidden = true;
    $('approval-state').textContent = approved ? 'Approved by console.' : 'Denied by console.';
    refreshSoon(v);
  } catch (err) {
    $('approval-error').textContent = String(err);
    $('approval-error').hidden = false;
    $('approve').disabled = $('deny').disabled = false;
  }
}

function renderSteps() {
  $('steps').replaceChildren(
    ...[...view.steps.values()].map((step) =>
      hx(
        'tr',
        { 'data-step': step.name, 'data-status': step.status },
        h('td', {}, step.name),
        h('td', { class: 'key' }, step.key ?? '—'),
        hx('td', {}, badge('status', step.status)),
        h('td', {}, step.undo ?? ''),
        h('td', { class: 'error' }, step.error ?? ''),
      ),
    ),
  );
}

function onCompensation({ sagaStatus, step, key, status, undo, error }) {
  $('saga-status').replaceChildren(badge('status', sagaStatus));
  const id = `${step}|${key ?? ''}`;
  view.steps.set(id, { ...view.steps.get(id), name: step, key, status, undo, error });
  renderSteps();
}

// ---------------------------------------------------------------- live events

const LIVE_TEXT = {
  connecting: 'connecting…',
  live: '● live',
  reconnecting: 'reconnecting…',
  ended: 'ended',
};

function onEvent(v, { kind, data }) {
  if (view !== v) return;
  switch (kind) {
    case 'text_delta':
      return onTextDelta(data);
    case 'text_discarded':
      return onTextDiscarded(data);
    case 'tool_use':
      return onToolUse(data);
    case 'tool_result':
      mergeCall(data);
      renderCalls();
      return refreshSoon(v);
    case 'approval_waiting':
      if (!v.decided.has(data.key ?? data.toolUseId)) showApproval(v, data);
      return;
    case 'compensation':
      return onCompensation(data);
    case 'status':
      setStatus(data.status);
      if (data.status !== 'waiting_approval' && !$('approval').classList.contains('decided'))
        $('approval').hidden = true;
      return refreshSoon(v);
    case 'end':
      v.ended = true;
      setStatus(data.status.toLowerCase());
      $('approval').hidden = true;
      refreshSoon(v, 0);
      setTimeout(() => void loadTasks(), 500);
      return;
    default:
      return; // a kind this page does not know yet
  }
}

async function follow(v) {
  try {
    await followEvents(new URL(taskPath(v.id, '/events'), API), {
      headers: authHeaders,
      signal: v.abort.signal,
      onEvent: (event) => onEvent(v, event),
      onState: (state) => {
        if (view === v) {
          $('live').textContent = LIVE_TEXT[state] ?? state;
          $('live').className = `live live-${state}`;
        }
      },
    });
  } catch (err) {
    if (view !== v) return;
    if (err instanceof StreamError && err.status === 401) tokenRequired();
    $('live').textContent = err instanceof StreamError ? `stream: ${err.status} ${err.message}` : String(err);
    $('live').className = 'live live-failed';
  }
}

async function cancelTask() {
  const v = view;
  if (!v || !window.confirm(`Cancel task ${v.id}? Its saga undoes what it did.`)) return;
  try {
    await call('POST', taskPath(v.id, '/cancel'), {});
    refreshSoon(v, 0);
  } catch (err) {
    taskError(String(err));
  }
}

// ---------------------------------------------------------------- wiring

function fromHash() {
  const match = /^#task=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function route({ force = false } = {}) {
  const id = fromHash();
  if (id) openTask(id, { force });
  else closeTask();
}

/** Everything the page reads, again: at load and after the token changed. */
function loadAll() {
  void loadKinds().catch(() => {}); // keep the fallback kind; a 401 shows in the notice
  void loadTasks();
  route({ force: true });
}

$('token').value = token();
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  notice(null);
  loadAll();
});
$('token-forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $('token').value = '';
  loadAll();
});
$('start-form').addEventListener('submit', (event) => void startTask(event));
$('new-key').addEventListener('click', newKey);
$('refresh').addEventListener('click', () => void loadTasks());
$('approve').addEventListener('click', () => void decide(true));
$('deny').addEventListener('click', () => void decide(false));
$('cancel').addEventListener('click', () => void cancelTask());
window.addEventListener('hashchange', () => route());

newKey();
loadAll();
