// teachkit step-through player, part 2 of 2 (after player_parts.js): all stepping and playing happens here,
// in the browser.
// Data: model.get("data") = {title, frames, states, state_colors, stage_colors, worker_colors, dag_svg,
// timeline: {svg, prefix, t0, x0, x1, scale}} (see teachkit/views/player.py). Frame steps are delta-encoded:
// d = [[task, state, worker, slot, holder]].
// Page contract (tests rely on it): the root element carries data-teachkit-player, data-step (0-based),
// data-present ("true" in presenter mode) and data-by-beats; the caption carries data-role="caption".
// Keys act only while the focus is inside the player, or anywhere while it presents (see keyAction).
// Beats: the steps that matter, the sorted union of every frames.bookmarks list plus the first and last step.

const SPEEDS = [1, 2, 5, 10, 30, 60]; // steps per second
const BOOKMARK_LABELS = { stage: "stage boundary", shuffle: "shuffle", failure: "failure", steal: "steal", gather: "gather" };
const MAX_ZOOM = 2.5; // presenter mode enlarges small pictures up to this factor
const CURSOR_LABEL_W = 90; // as teachkit.views.timeline.CURSOR_LABEL_W: room the cursor's label needs on its right

function render({ model, el }) {
  const data = model.get("data");
  const F = data.frames;
  const M = F.steps.length;
  const keys = snapshots(F);
  const beats = beatsOf(F, M);
  const cur = new Int16Array(4 * F.tasks.length);
  const alive = new Int8Array(F.workers.length);
  let shownStates = null; // what the DAG shows now
  let step = -1;
  let timer = null;
  let present = false, byBeats = false, placeholder = null, savedOverflow = "";

  const root = h("div", { class: "tk-player", tabindex: "0", role: "region", "aria-label": `${data.title} (player)`,
    "data-teachkit-player": "", "data-present": "false", "data-by-beats": "false" });
  root.dataset.steps = String(M);
  root.dataset.beats = String(beats.length);
  const caption = h("div", { class: "tk-caption", "data-role": "caption", "aria-live": "polite" });
  const beat = h("span", { class: "tk-beat" });
  const counter = h("span", { class: "tk-counter" });
  const clock = h("span", { class: "tk-clock" });
  const btn = (label, name, tip, fn, cls = "") =>
    h("button", { type: "button", class: `tk-btn ${cls}`, title: tip, "aria-label": name, onclick: fn }, label);
  const first = btn("|◀ First", "First step", "first step (Home)", () => go(0), "tk-first");
  const back = btn("◀ Back", "Back", "back one step (←)", () => go(prev()), "tk-back");
  const play = btn("▶ Play", "Play", "play / pause (Space)", () => toggle(), "tk-play");
  const fwd = btn("Forward ▶", "Forward", "forward one step (→)", () => go(next()), "tk-forward");
  const last = btn("Last ▶|", "Last step", "last step (End)", () => go(M - 1), "tk-last");
  const mode = btn("", "Step by beats only", "A: step through the beats only, or through all steps (Shift+→: one step)",
    () => setBeats(!byBeats), "tk-mode");
  const presentBtn = btn("Present (P)", "Present", "presenter mode: full window, large type (P; Esc leaves)",
    () => (present ? leave() : enter()), "tk-present");
  const speed = h("select", { class: "tk-speed", title: "steps per second", "aria-label": "Playing speed" });
  for (const s of SPEEDS) speed.append(h("option", { value: String(s) }, `${s} steps/s`));
  speed.value = "5";
  const slider = h("input", { class: "tk-slider", type: "range", min: "0", max: String(Math.max(0, M - 1)), value: "0",
    "aria-label": "Step" });
  slider.addEventListener("input", () => go(Number(slider.value)));
  const jumps = h("div", { class: "tk-jumps" }, h("span", { class: "tk-jumps-label" }, "Jump to next:"));
  const jumpButtons = {};
  const kinds = [...Object.keys(BOOKMARK_LABELS).filter((k) => F.bookmarks && k in F.bookmarks),
    ...Object.keys(F.bookmarks || {}).filter((k) => !(k in BOOKMARK_LABELS))];
  for (const kind of kinds) {
    const label = BOOKMARK_LABELS[kind] || kind.replace(/[-_]/g, " ");
    const marks = F.bookmarks[kind] || [];
    jumpButtons[kind] = btn(label, `Jump to the next ${label}`, `next ${label} (${marks.length} in this job)`, () => {
      const n = marks.find((m) => m > step);
      if (n !== undefined) go(n);
    }, `tk-jump tk-jump-${kind}`);
    jumps.append(jumpButtons[kind]);
  }
  const hint = h("span", { class: "tk-hint" });
  jumps.append(mode, hint);
  const head = h("div", { class: "tk-head" }, h("div", { class: "tk-title" }, data.title),
    h("div", { class: "tk-where" }, beat, counter, clock), presentBtn);
  const controls = h("div", { class: "tk-controls" }, first, back, play, fwd, last, speed);

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
      more.set(s, { g, text: texts[texts.length - 1], tasks: [] });
    }
    more.get(s).tasks.push(i);
  });

  const left = h("div", { class: "tk-left" }, legend, dag);
  const panes = h("div", { class: "tk-panes" }, left, cluster);
  root.append(head, caption, h("div", { class: "tk-bar" }, controls, jumps), slider, panes, timeline);
  el.append(root);
  // in JupyterLab the output is laid out after render(): fit again whenever a pane's size is known or changes
  const resized = typeof ResizeObserver === "function" ? new ResizeObserver(() => fitAll()) : null;
  if (resized) [root, dag, timeline].forEach((e) => resized.observe(e));

  function fitAll() {
    // normal: shrink to the pane's max-height (never below 45 %, the pane scrolls); presenter: fill the pane
    const svg = dag.querySelector("svg");
    left.style.flex = "";
    if (present && svg) { // the DAG's column is as wide as the DAG needs at its pane's height; the cluster takes the rest
      const room = panes.clientWidth, zoom = Math.min(MAX_ZOOM, (dag.clientHeight - 16) / svg.height.baseVal.value);
      const want = svg.width.baseVal.value * zoom + 18;
      left.style.flex = `0 0 ${Math.round(Math.max(0.4 * room, Math.min(0.6 * room, want)))}px`;
    }
    fit(svg, dag, present ? 0.3 : 0.45, present ? MAX_ZOOM : 1, present);
    fit(timeline.querySelector("svg"), timeline, present ? 0.3 : 0.5, present ? MAX_ZOOM : 1, present);
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

  function next() { return byBeats ? beats.find((b) => b > step) : step + 1; }

  function prev() {
    if (!byBeats) return step - 1;
    const before = beats.filter((b) => b < step);
    return before.length ? before[before.length - 1] : undefined;
  }

  function go(n) {
    const t0 = performance.now();
    if (n === undefined || M === 0) return;
    n = Math.max(0, Math.min(M - 1, n));
    if (n === step) return;
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
    const since = st.t - F.start;  // the graph's arrival is the job's start: no "-0.000" from rounding
    clock.textContent = `${(Math.abs(since) < 0.0005 ? 0 : since).toFixed(3)} s into the job`;
    slider.value = String(n);
    root.dataset.step = String(n);
    drawDag();
    cluster.replaceChildren(...clusterPane(data, F, cur, alive));
    moveCursor(st.t);
    for (const [kind, b] of Object.entries(jumpButtons)) b.disabled = !(F.bookmarks[kind] || []).some((m) => m > n);
    where();
    root.dataset.stepMs = (performance.now() - t0).toFixed(2);
    if (!timer) { model.set("step", n); model.save_changes(); }
  }

  function where() {
    // the counters, the enabled buttons and the key hint for this step and mode
    const unit = byBeats ? "beat" : "step";
    const reached = beats.filter((b) => b <= step).length;
    beat.textContent = beats.includes(step) ? `beat ${reached} of ${beats.length} · ` : `after beat ${reached} of ${beats.length} · `;
    beat.hidden = !(present || byBeats);
    counter.textContent = `step ${step + 1} of ${M}`;
    slider.setAttribute("aria-valuetext", `step ${step + 1} of ${M}`);
    back.disabled = first.disabled = step <= 0;
    fwd.disabled = last.disabled = step >= M - 1;
    back.title = `back one ${unit} (←)`; fwd.title = `forward one ${unit} (→)`;
    mode.textContent = byBeats ? "Stepping: beats (A: all steps)" : "Stepping: all steps (A: beats)";
    mode.setAttribute("aria-pressed", String(byBeats));
    hint.textContent = present
      ? `→ Space PgDn: next ${unit} · ← PgUp: back · A: ${byBeats ? "all steps" : "beats"} · Esc: leave`
      : "Keys (click the player first): → ← step · Space play · A beats · P present";
    presentBtn.textContent = present ? "✕ Leave (Esc)" : "Present (P)";
    presentBtn.setAttribute("aria-label", present ? "Leave presenter mode" : "Present");
    root.dataset.byBeats = String(byBeats);
  }

  function moveCursor(t) {
    // x = x0 + (t - t0) * scale, t in seconds since the recording started (the timeline's axis)
    if (!cursor) return;
    const x1 = data.timeline.x1 !== undefined ? data.timeline.x1 : Infinity;
    const x = Math.min(x1, data.timeline.x0 + (t - data.timeline.t0) * data.timeline.scale);
    cursor.setAttribute("transform", `translate(${x.toFixed(2)},0)`);
    cursor.setAttribute("visibility", "visible");
    if (cursorText) {
      cursorText.textContent = `t = ${seconds(t)}`;
      // near the right end of the axis the label sits left of the line, so it is never cut off
      const left = data.timeline.x1 !== undefined && x > data.timeline.x1 - CURSOR_LABEL_W;
      cursorText.setAttribute("x", left ? "-3" : "3");
      cursorText.setAttribute("text-anchor", left ? "end" : "start");
    }
    root.dataset.cursorX = x.toFixed(2);
  }

  function toggle() {
    if (timer) { stop(); return; }
    if (step >= M - 1) go(0);
    play.textContent = "⏸ Pause";
    play.setAttribute("aria-label", "Pause");
    root.dataset.playing = "1";
    const tick = () => {
      if (step >= M - 1) { stop(); return; }
      go(step + 1);
      timer = setTimeout(tick, 1000 / Number(speed.value));
    };
    timer = setTimeout(tick, 0);
  }

  function stop() {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    play.textContent = "▶ Play";
    play.setAttribute("aria-label", "Play");
    root.dataset.playing = "0";
    model.set("step", step); model.save_changes();
  }

  function setBeats(on) { byBeats = on; where(); }

  function enter() {
    // full window: the root moves to <body> (no ancestor's transform or overflow can clip it) and comes back
    if (present) return;
    placeholder = h("div", { class: "tk-placeholder" }, "Presenting in the full window… (Esc to leave)");
    placeholder.style.height = `${root.offsetHeight}px`;
    root.replaceWith(placeholder);
    document.body.append(root);
    savedOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    window.addEventListener("keydown", onKey, true);
    present = true;
    root.dataset.present = "true";
    setBeats(true);
    fitAll();
    root.focus({ preventScroll: true });
  }

  function leave() {
    if (!present) return;
    present = false;
    window.removeEventListener("keydown", onKey, true);
    document.documentElement.style.overflow = savedOverflow;
    if (placeholder && placeholder.isConnected) placeholder.replaceWith(root); else root.remove();
    placeholder = null;
    root.dataset.present = "false";
    setBeats(false);
    fitAll();
    if (root.isConnected) { root.focus({ preventScroll: true }); root.scrollIntoView({ block: "nearest" }); }
  }

  function keyAction(e) {
    // the function a key runs, or null: the key is not ours and goes on to the page (e.g. JupyterLab)
    if (e.ctrlKey || e.metaKey || e.altKey) return null;
    const tag = (e.target && e.target.tagName) || "";
    if (!present && (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA")) return null;
    if (present && tag === "SELECT" && e.key.startsWith("Arrow")) return null;
    const one = e.shiftKey;
    const common = {
      ArrowRight: () => go(one ? step + 1 : next()), ArrowLeft: () => go(one ? step - 1 : prev()),
      PageDown: () => go(next()), PageUp: () => go(prev()), Home: () => go(0), End: () => go(M - 1),
      a: () => setBeats(!byBeats), A: () => setBeats(!byBeats), p: () => (present ? leave() : enter()),
      P: () => (present ? leave() : enter()),
    };
    const more = present
      ? { " ": () => go(next()), ArrowDown: () => go(next()), ArrowUp: () => go(prev()), Escape: leave, F5: () => {} }
      : { " ": tag === "BUTTON" ? null : toggle };
    return more[e.key] !== undefined ? more[e.key] : common[e.key] || null;
  }

  function onKey(e) {
    const action = keyAction(e);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation(); // JupyterLab listens on the document: our keys never reach its notebook commands
    action();
  }

  root.addEventListener("keydown", onKey);
  go(Math.min(model.get("step") || 0, M - 1));
  where();
  fitAll();
  if (M === 0) caption.textContent = "This job has no recorded steps.";
  return () => { clearTimeout(timer); leave(); if (resized) resized.disconnect(); };
}

export default { render };
