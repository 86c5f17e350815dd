// teachkit step-through player, part 1 of 2: helpers that hold no player state (player.js is part 2).
// teachkit.views.player_export.esm_source() joins the two files into the one ES module the widget and the
// exported pages run, so nothing here is exported.

const KEY_EVERY = 64; // a full snapshot of the state every 64 steps: any step is <= 63 deltas away
const COMPACT_SLOTS = 4; // a worker with more task slots draws each slot as a small square
const MAX_WAITING = 8; // tasks named in a worker's waiting list; the rest are counted
const DEAD = 0, UP = 1, NOT_STARTED = 2; // worker status codes (teachkit.model.vocabulary.WORKER_STATUSES)

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function snapshots(frames) {
  // keyframes[k] = state before step k * KEY_EVERY: Int16Array of 4 per task, plus the workers' status codes
  const n = frames.tasks.length;
  const cur = new Int16Array(4 * n);
  for (let i = 0; i < n; i++) { cur[4 * i + 1] = -1; cur[4 * i + 3] = -1; }
  const alive = Int8Array.from(frames.workers.map((w) => w.status));
  const keys = [];
  frames.steps.forEach((step, s) => {
    if (s % KEY_EVERY === 0) keys.push({ tasks: cur.slice(), alive: alive.slice() });
    apply(step, cur, alive);
  });
  if (!keys.length) keys.push({ tasks: cur.slice(), alive: alive.slice() });
  return keys;
}

function apply(step, cur, alive) {
  for (const d of step.d || []) {
    const o = 4 * d[0];
    cur[o] = d[1]; cur[o + 1] = d[2]; cur[o + 2] = d[3]; cur[o + 3] = d[4];
  }
  for (const [w, a] of step.w || []) alive[w] = a;
}

function beatsOf(frames, M) {
  const all = new Set([0, M - 1]);
  for (const marks of Object.values(frames.bookmarks || {})) for (const m of marks) all.add(m);
  return [...all].filter((m) => m >= 0 && m < M).sort((a, b) => a - b);
}

function seconds(s) {
  // as teachkit.views.style.fmt_seconds, which labels the cursor of job.timeline(cursor=t)
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(1)} ms`;
  if (s < 120) return s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${(s % 60).toFixed(0)} s`;
}

function fit(svg, pane, lo, hi, useHeight) {
  // scale an SVG (natural size from its width/height) to the pane's content box, within [lo, hi]
  if (!svg) return;
  if (!svg.dataset.w) {
    const vb = svg.viewBox && svg.viewBox.baseVal;
    svg.dataset.w = String(svg.width.baseVal.value || (vb && vb.width) || 0);
    svg.dataset.h = String(svg.height.baseVal.value || (vb && vb.height) || 0);
  }
  const w = Number(svg.dataset.w), hgt = Number(svg.dataset.h);
  const cs = getComputedStyle(pane);
  const padW = parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) + 2;
  const padH = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom) + 2;
  const availW = pane.clientWidth - padW;
  const availH = (useHeight ? pane.clientHeight : parseFloat(cs.maxHeight) || Infinity) - padH;
  if (!w || !hgt || availW <= 0 || availH <= 0) return;
  const k = Math.max(lo, Math.min(hi, availW / w, availH / hgt));
  const width = `${(w * k).toFixed(1)}px`, height = `${(hgt * k).toFixed(1)}px`;
  if (svg.style.width !== width) svg.style.width = width;
  if (svg.style.height !== height) svg.style.height = height;
}

function fill(g, color) {
  const shape = g.querySelector("polygon, ellipse, path, rect");
  if (shape) shape.setAttribute("fill", color);
}

// squeeze a live-count label into its node's box when the counts get long
function fitText(text, g) {
  text.removeAttribute("textLength");
  const shape = g.querySelector("path, polygon, ellipse");
  if (!shape || !text.getComputedTextLength) return;
  const room = shape.getBBox().width - 12;
  if (room > 0 && text.getComputedTextLength() > room) {
    text.setAttribute("textLength", String(room));
    text.setAttribute("lengthAdjust", "spacingAndGlyphs");
  }
}

function slotBox(data, F, cur, i, k, compact) {
  if (i === null) return h("div", { class: `tk-slot tk-idle${compact ? " tk-dot" : ""}`, title: `slot ${k + 1}: idle` },
    compact ? "" : `slot ${k + 1}: idle`);
  const [st, p] = F.tasks[i];
  const s = cur[4 * i];
  const what = s === 1 ? "assigned" : s === 5 ? "re-run" : "running";
  const text = `slot ${k + 1}: task ${p} of stage ${st} (${what})`;
  const d = h("div", { class: `tk-slot${compact ? " tk-dot" : ""}`, "data-state": data.states[s], title: text },
    compact ? "" : text);
  d.style.background = data.stage_colors[st % data.stage_colors.length];
  d.style.outlineColor = data.state_colors[s];
  return d;
}

function clusterPane(data, F, cur, alive) {
  // the driver's counts and one box per worker: its task slots (what runs where), its waiting tasks, its results
  const byWorker = F.workers.map(() => ({ running: [], held: 0, heldStages: {} }));
  const n = F.tasks.length;
  let done = 0, active = 0;
  for (let i = 0; i < n; i++) {
    const s = cur[4 * i], w = cur[4 * i + 1], holder = cur[4 * i + 3];
    if (s === 3) done++;
    if ((s === 1 || s === 2 || s === 5) && w >= 0) { byWorker[w].running.push(i); active++; }
    if (holder >= 0) {
      const bw = byWorker[holder];
      bw.held++;
      const st = F.tasks[i][0];
      bw.heldStages[st] = (bw.heldStages[st] || 0) + 1;
    }
  }
  const driver = h("div", { class: "tk-driver" }, h("b", {}, "Driver"),
    h("div", {}, `${done} of ${n} tasks done · ${active} assigned or running · ${n - done - active} to go`));
  const boxes = h("div", { class: "tk-workers" });
  F.workers.forEach((wk, w) => {
    const info = byWorker[w];
    const slots = new Array(Math.max(wk.nthreads, 1)).fill(null);
    const extra = [], queued = [];
    for (const i of info.running) {
      // assigned (or a re-run not on a slot yet): waiting for a free slot
      if (cur[4 * i] === 1 || (cur[4 * i] === 5 && cur[4 * i + 2] === 0)) { queued.push(i); continue; }
      const want = cur[4 * i + 2] - 1;
      if (want >= 0 && want < slots.length && slots[want] === null) slots[want] = i; else extra.push(i);
    }
    // running with no slot known (a hand-made recording): any free slot, else it waits
    for (const i of extra) { const k = slots.indexOf(null); if (k >= 0) slots[k] = i; else queued.push(i); }
    for (const i of queued) { const k = slots.indexOf(null); if (k >= 0) slots[k] = i; }
    const waiting = queued.filter((i) => !slots.includes(i));
    const compact = slots.length > COMPACT_SLOTS;
    // status codes as teachkit.model.vocabulary.WORKER_STATUSES: 0 dead, 1 up, 2 not started yet, 3 left
    const status = alive[w];
    const box = h("div", { class: `tk-worker${status === UP ? "" : status === NOT_STARTED ? " tk-absent" : " tk-dead"}`,
      "data-worker": wk.name, "data-status": data.worker_statuses ? data.worker_statuses[status] : String(status) });
    box.style.borderColor = data.worker_colors[w % data.worker_colors.length];
    const held = Object.entries(info.heldStages).map(([st, c]) => `stage ${st}: ${c}`).join(", ");
    const label = status === UP ? wk.name : status === DEAD ? `${wk.name} ✖ dead`
      : status === NOT_STARTED ? `${wk.name} · not started yet` : `${wk.name} · left the cluster`;
    if (status === NOT_STARTED) { // a restarted worker before it joins: nothing runs or waits there yet
      box.append(h("div", { class: "tk-wname" }, label));
      boxes.append(box);
      return;
    }
    box.append(h("div", { class: "tk-wname" }, label,
      h("span", { class: "tk-held" }, info.held ? ` holds ${info.held} results (${held})` : " holds no results")));
    const row = h("div", { class: "tk-slots" }, ...slots.map((i, k) => slotBox(data, F, cur, i, k, compact)));
    if (compact) row.append(h("span", { class: "tk-busy" }, `${slots.filter((i) => i !== null).length} of ${slots.length} slots busy`));
    if (waiting.length) {
      const named = waiting.slice(0, MAX_WAITING).map((i) => `task ${F.tasks[i][1]} of stage ${F.tasks[i][0]}`);
      if (waiting.length > MAX_WAITING) named.push(`… ${waiting.length - MAX_WAITING} more`);
      row.append(h("div", { class: "tk-slot tk-queued" }, `waiting: ${named.join(", ")}`));
    }
    box.append(row);
    boxes.append(box);
  });
  return [driver, boxes];
}
