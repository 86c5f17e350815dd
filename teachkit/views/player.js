// teachkit step-through player: all stepping and playing happens here, in the browser.
// Data: model.get("data") = {frames, states, state_colors, stage_colors, worker_colors, dag_svg,
// timeline: {svg, prefix, t0, x0, scale}}
// (see teachkit/views/player.py). Frame steps are delta-encoded: d = [[task, state, worker, slot, holder]].

const KEY_EVERY = 64; // a full snapshot of the state every 64 steps: any step is <= 63 deltas away
const SPEEDS = [1, 2, 5, 10, 30, 60]; // steps per second
const BOOKMARK_LABELS = { stage: "stage boundary", shuffle: "shuffle", failure: "failure", steal: "steal" };

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
  // keyframes[k] = state before step k * KEY_EVERY: Int16Array of 4 per task, plus alive flags
  const n = frames.tasks.length;
  const cur = new Int16Array(4 * n);
  for (let i = 0; i < n; i++) { cur[4 * i + 1] = -1; cur[4 * i + 3] = -1; }
  const alive = Int8Array.from(frames.workers.map((w) => w.alive));
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

function seconds(s) {
  // as teachkit.views.style.fmt_seconds, which labels the cursor of job.timeline(cursor=t)
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(1)} ms`;
  if (s < 120) return s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${(s % 60).toFixed(0)} s`;
}

function render({ model, el }) {
  const data = model.get("data");
  const F = data.frames;
  const M = F.steps.length;
  const keys = snapshots(F);
  const cur = new Int16Array(4 * F.tasks.length);
  const alive = new Int8Array(F.workers.length);
  let shownStates = null; // what the DAG shows now
  let step = -1;
  let timer = null;

  const root = h("div", { class: "tk-player", tabindex: "0" });
  root.dataset.steps = String(M);
  const title = h("div", { class: "tk-title" }, data.title);
  const caption = h("div", { class: "tk-caption", "aria-live": "polite" });
  const counter = h("span", { class: "tk-counter" });
  const clock = h("span", { class: "tk-clock" });
  const btn = (label, tip, fn, cls = "") => h("button", { class: `tk-btn ${cls}`, title: tip, onclick: fn }, label);
  const first = btn("|◀ First", "first step (Home)", () => go(0));
  const back = btn("◀ Back", "previous step (←)", () => go(step - 1));
  const play = btn("▶ Play", "play / pause (space)", () => toggle(), "tk-play");
  const fwd = btn("Forward ▶", "next step (→)", () => go(step + 1), "tk-forward");
  const last = btn("Last ▶|", "last step (End)", () => go(M - 1));
  const speed = h("select", { class: "tk-speed", title: "steps per second" });
  for (const s of SPEEDS) speed.append(h("option", { value: String(s) }, `${s} steps/s`));
  speed.value = "5";
  const slider = h("input", { class: "tk-slider", type: "range", min: "0", max: String(Math.max(0, M - 1)), value: "0" });
  slider.addEventListener("input", () => go(Number(slider.value)));
  const jumps = h("div", { class: "tk-jumps" }, h("span", { class: "tk-jumps-label" }, "Jump to next:"));
  const jumpButtons = {};
  for (const [kind, label] of Object.entries(BOOKMARK_LABELS)) {
    const marks = (F.bookmarks && F.bookmarks[kind]) || [];
    const b = btn(label, `next ${label} (${marks.length} in this job)`, () => {
      const next = marks.find((m) => m > step);
      if (next !== undefined) go(next);
    }, `tk-jump tk-jump-${kind}`);
    jumpButtons[kind] = b;
    jumps.append(b);
  }
  const controls = h("div", { class: "tk-controls" }, first, back, play, fwd, last, speed, counter, clock);

  const legend = h("div", { class: "tk-legend" });
  data.states.forEach((s, i) => legend.append(h("span", { class: "tk-chip" },
    h("i", { style: `background:${data.state_colors[i]}` }), s)));

  const dag = h("div", { class: "tk-pane tk-dag" });
  dag.innerHTML = data.dag_svg;
  const cluster = h("div", { class: "tk-pane tk-cluster" });
  const timeline = h("div", { class: "tk-pane tk-timeline-pane" });
  timeline.innerHTML = data.timeline.svg; // the picture job.timeline() draws; we only move its cursor
  const byId = (suffix) => timeline.querySelector(`[id="${data.timeline.prefix}${suffix}"]`);
  const cursor = byId("cursor"), cursorText = byId("cursortext");

  // DAG nodes by task index; hidden partitions are counted on their stage's "… more" node
  const nodeOf = new Map();
  const nodeId = /^s\d+(p\d+|more)$/;
  for (const g of dag.querySelectorAll("g.node, g[id]")) {
    const id = g.getAttribute("id") || "";
    const title = g.querySelector(":scope > title");
    const name = nodeId.test(id) ? id : title ? title.textContent.trim() : "";
    if (nodeId.test(name)) { nodeOf.set(name, g); g.dataset.node = name; }
  }
  const taskNode = F.tasks.map(([s, p]) => nodeOf.get(`s${s}p${p}`) || null);
  const more = new Map();
  F.tasks.forEach(([s], i) => {
    if (taskNode[i]) return;
    const g = nodeOf.get(`s${s}more`);
    if (!g) return;
    if (!more.has(s)) {
      const texts = g.querySelectorAll("text");
      more.set(s, { g, text: texts[texts.length - 1], tasks: [], label: texts.length ? texts[texts.length - 1].textContent : "" });
    }
    more.get(s).tasks.push(i);
  });

  root.append(title, caption, controls, slider, jumps,
    h("div", { class: "tk-panes" }, h("div", { class: "tk-left" }, legend, dag), cluster), timeline);
  el.append(root);
  fitDag();
  // in JupyterLab the output is laid out after render(): fit again whenever the pane's size is known or changes
  const resized = typeof ResizeObserver === "function" ? new ResizeObserver(() => fitDag()) : null;
  if (resized) resized.observe(dag);

  function fitDag() {
    // shrink a big DAG to fit the pane, but never below 60 % of its natural size (projector-readable); the pane scrolls
    const svg = dag.querySelector("svg");
    if (!svg) return;
    const w = svg.width.baseVal.value, hgt = svg.height.baseVal.value;
    const availW = dag.clientWidth - 14, availH = (parseFloat(getComputedStyle(dag).maxHeight) || Infinity) - 14;
    if (!w || !hgt || availW <= 0) return;
    const k = Math.max(0.6, Math.min(1, availW / w, availH / hgt));
    svg.style.width = `${w * k}px`; svg.style.height = `${hgt * k}px`;
  }

  function fill(g, color) {
    const shape = g.querySelector("polygon, ellipse, path, rect");
    if (shape) shape.setAttribute("fill", color);
  }

  function drawDag() {
    const n = F.tasks.length;
    for (let i = 0; i < n; i++) {
      const s = cur[4 * i];
      if (shownStates && shownStates[i] === s) continue;
      const g = taskNode[i];
      if (g) {
        g.dataset.state = data.states[s];
        fill(g, data.state_colors[s]);
      }
    }
    for (const [, m] of more) {
      const counts = new Array(data.states.length).fill(0);
      for (const i of m.tasks) counts[cur[4 * i]]++;
      const parts = [];
      counts.forEach((c, s) => { if (c) parts.push(`${c} ${data.states[s]}`); });
      if (m.text) {
        m.text.textContent = parts.join(", ");
        fitText(m.text, m.g);
      }
      const top = [2, 5, 1, 4, 6].find((s) => counts[s] > 0);
      const s = top !== undefined ? top : (counts[3] === m.tasks.length ? 3 : 0);
      m.g.dataset.state = data.states[s];
      m.g.dataset.counts = counts.join(",");
      fill(m.g, data.state_colors[s]);
    }
    shownStates = Int16Array.from({ length: n }, (_, i) => cur[4 * i]);
  }

  function drawCluster() {
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
      const slots = [];
      for (let k = 0; k < Math.max(wk.nthreads, 1); k++) slots.push(null);
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
      const box = h("div", { class: `tk-worker${alive[w] ? "" : " tk-dead"}`, "data-worker": wk.name });
      box.style.borderColor = data.worker_colors[w % data.worker_colors.length];
      box.append(h("div", { class: "tk-wname" }, alive[w] ? wk.name : `${wk.name} ✖ dead`));
      const row = h("div", { class: "tk-slots" });
      slots.forEach((i, k) => {
        if (i === null) { row.append(h("div", { class: "tk-slot tk-idle" }, `slot ${k + 1}: idle`)); return; }
        const [st, p] = F.tasks[i];
        const s = cur[4 * i];
        const what = s === 1 ? "assigned" : s === 5 ? "re-run" : "running";
        const d = h("div", { class: "tk-slot", "data-state": data.states[s] }, `slot ${k + 1}: task ${p} of stage ${st} (${what})`);
        d.style.background = data.stage_colors[st % data.stage_colors.length];
        d.style.outlineColor = data.state_colors[s];
        d.title = data.states[s];
        row.append(d);
      });
      if (waiting.length) {
        row.append(h("div", { class: "tk-slot tk-queued" }, `waiting: ${waiting.map((i) => `task ${F.tasks[i][1]} of stage ${F.tasks[i][0]}`).join(", ")}`));
      }
      const held = Object.entries(info.heldStages).map(([st, c]) => `stage ${st}: ${c}`).join(", ");
      box.append(row, h("div", { class: "tk-held" }, info.held ? `holds ${info.held} results (${held})` : "holds no results"));
      boxes.append(box);
    });
    cluster.replaceChildren(driver, boxes);
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

  function go(n) {
    const t0 = performance.now();
    n = Math.max(0, Math.min(M - 1, n));
    if (M === 0 || n === step) return;
    if (n === step + 1 && step >= 0) {
      apply(F.steps[n], cur, alive);
    } else {
      const k = Math.floor(n / KEY_EVERY);
      cur.set(keys[k].tasks); alive.set(keys[k].alive);
      for (let s = k * KEY_EVERY; s <= n; s++) apply(F.steps[s], cur, alive);
    }
    step = n;
    const st = F.steps[n];
    caption.textContent = st.caption;
    counter.textContent = `step ${n + 1} of ${M}`;
    clock.textContent = `${(st.t - F.start).toFixed(3)} s into the job`;
    slider.value = String(n);
    root.dataset.step = String(n);
    drawDag();
    drawCluster();
    moveCursor(st.t);
    back.disabled = first.disabled = n === 0;
    fwd.disabled = last.disabled = n === M - 1;
    for (const [kind, b] of Object.entries(jumpButtons)) {
      b.disabled = !((F.bookmarks[kind] || []).some((m) => m > n));
    }
    root.dataset.stepMs = (performance.now() - t0).toFixed(2);
    if (!timer) { model.set("step", n); model.save_changes(); }
  }

  function moveCursor(t) {
    // x = x0 + (t - t0) * scale, t in seconds since the recording started (the timeline's axis)
    if (!cursor) return;
    const x = data.timeline.x0 + (t - data.timeline.t0) * data.timeline.scale;
    cursor.setAttribute("transform", `translate(${x.toFixed(2)},0)`);
    cursor.setAttribute("visibility", "visible");
    if (cursorText) cursorText.textContent = `t = ${seconds(t)}`;
    root.dataset.cursorX = x.toFixed(2);
  }

  function toggle() {
    if (timer) { stop(); return; }
    if (step >= M - 1) go(0);
    play.textContent = "⏸ Pause";
    root.dataset.playing = "1";
    const tick = () => {
      if (step >= M - 1) { stop(); return; }
      go(step + 1);
      timer = setTimeout(tick, 1000 / Number(speed.value));
    };
    timer = setTimeout(tick, 0);
  }

  function stop() {
    clearTimeout(timer);
    timer = null;
    play.textContent = "▶ Play";
    root.dataset.playing = "0";
    model.set("step", step); model.save_changes();
  }

  root.addEventListener("keydown", (e) => {
    const map = { ArrowRight: () => go(step + 1), ArrowLeft: () => go(step - 1), Home: () => go(0), End: () => go(M - 1), " ": toggle };
    if (map[e.key] && e.target.tagName !== "SELECT" && e.target.tagName !== "INPUT") { e.preventDefault(); map[e.key](); }
  });

  go(Math.min(model.get("step") || 0, M - 1));
  if (M === 0) caption.textContent = "This job has no recorded steps.";
  return () => { clearTimeout(timer); if (resized) resized.disconnect(); };
}

export default { render };
