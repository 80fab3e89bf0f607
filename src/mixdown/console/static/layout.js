// The layout editor of a custom mixed video (MixStream.Custom) on a finished recording's
// page: the canvas and its slots drawn to scale, dragged and resized with the mouse, a
// preview of who sits where over the class, and the exact MixStream JSON in #mix-stream.
// Plain JavaScript for the console's CSP: same-origin file, no inline code, no eval.
//
// The controls are <input type="button">, not <button>: the form's one <button> stays its
// submit button (what "#create-task button" finds).
"use strict";

(() => {
  const SIZE_MIN = 2;
  const SIZE_MAX = 3000; // TIW's bounds for every Width and Height
  const VIEW_W = 640; // the drawn canvas fits inside VIEW_W x VIEW_H screen pixels
  const VIEW_H = 480;
  const WHITEBOARD = "tic_record_user";
  const SCREEN = "tic_substream";
  const COLOR = /^#[0-9A-Fa-f]{6}$/;

  // --- the model: a canvas and its slots, in canvas pixels ----------------------------

  function defaultLayout() {
    return {
      width: 1280,
      height: 720,
      background: "#000000",
      extra: {},
      slots: [
        // The whiteboard big on the left, one spare camera slot on the right.
        { x: 0, y: 0, w: 960, h: 720, z: 0, stream: WHITEBOARD, fill: 0, bg: "#000000" },
        { x: 960, y: 0, w: 320, h: 240, z: 1, stream: "", fill: 0, bg: "#000000" },
      ],
    };
  }

  function clamp(value, lo, hi) {
    return Math.min(Math.max(value, lo), hi);
  }

  function canvasSize(value) {
    return clamp(Math.round(value), SIZE_MIN, SIZE_MAX);
  }

  /** Whole pixels, inside the canvas (TIW refuses a slot that is not). */
  function clampSlot(slot, layout) {
    slot.w = clamp(Math.round(slot.w), SIZE_MIN, Math.min(SIZE_MAX, layout.width));
    slot.h = clamp(Math.round(slot.h), SIZE_MIN, Math.min(SIZE_MAX, layout.height));
    slot.x = clamp(Math.round(slot.x), 0, layout.width - slot.w);
    slot.y = clamp(Math.round(slot.y), 0, layout.height - slot.h);
  }

  /** The MixStream object the form submits. */
  function toMixStream(layout) {
    const slots = layout.slots.map((s) => {
      const item = { LayoutParams: { X: s.x, Y: s.y, Width: s.w, Height: s.h, ZOrder: s.z } };
      if (s.stream) item.InputStreamId = s.stream; // a spare slot has none
      item.BackgroundColor = s.bg.toUpperCase();
      item.FillMode = s.fill;
      return item;
    });
    return {
      Enabled: true,
      ...layout.extra,
      Custom: {
        Canvas: {
          LayoutParams: { Width: layout.width, Height: layout.height },
          BackgroundColor: layout.background.toUpperCase(),
        },
        InputStreamList: slots,
      },
    };
  }

  /** A layout from MixStream JSON (TIW's defaults for what it leaves out); throws why not. */
  function fromMixStream(mix) {
    const object = (value, what) => {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new Error(`${what} must be an object`);
      }
      return value;
    };
    const int = (value, fallback, what) => {
      if (value === undefined && fallback !== undefined) return fallback;
      if (!Number.isInteger(value)) throw new Error(`${what} must be an integer`);
      return value;
    };
    const color = (value, what) => {
      if (value === undefined || value === "") return "#000000";
      if (typeof value !== "string" || !COLOR.test(value)) throw new Error(`${what} is not #RRGGBB`);
      return value.toUpperCase();
    };
    object(mix, "MixStream");
    const custom = object(mix.Custom, "MixStream.Custom");
    const canvas = object(custom.Canvas, "Custom.Canvas");
    const size = object(canvas.LayoutParams, "Canvas.LayoutParams");
    const list = custom.InputStreamList;
    if (!Array.isArray(list) || list.length === 0) {
      throw new Error("Custom.InputStreamList must list at least one slot");
    }
    const extra = { ...mix };
    for (const key of ["Enabled", "ModelId", "Custom"]) delete extra[key];
    const layout = {
      width: canvasSize(int(size.Width, undefined, "Canvas Width")),
      height: canvasSize(int(size.Height, undefined, "Canvas Height")),
      background: color(canvas.BackgroundColor, "Canvas BackgroundColor"),
      extra,
      slots: list.map((item, i) => {
        const what = `InputStreamList[${i}]`;
        object(item, what);
        const p = object(item.LayoutParams, `${what}.LayoutParams`);
        const stream = item.InputStreamId ?? "";
        if (typeof stream !== "string") throw new Error(`${what}.InputStreamId must be a string`);
        const fill = int(item.FillMode, 0, `${what}.FillMode`);
        if (fill !== 0 && fill !== 1) throw new Error(`${what}.FillMode must be 0 or 1`);
        return {
          x: int(p.X, 0, `${what} X`),
          y: int(p.Y, 0, `${what} Y`),
          w: int(p.Width, undefined, `${what} Width`),
          h: int(p.Height, undefined, `${what} Height`),
          z: int(p.ZOrder, 0, `${what} ZOrder`),
          stream,
          fill,
          bg: color(item.BackgroundColor, `${what}.BackgroundColor`),
        };
      }),
    };
    // Brought inside the canvas, as the editor always keeps them.
    layout.slots.forEach((slot) => clampSlot(slot, layout));
    return layout;
  }

  // --- the class over time, read from the page's #timeline ----------------------------

  function kindOf(streamId) {
    if (streamId.startsWith(WHITEBOARD)) return "whiteboard";
    if (streamId.startsWith(SCREEN + "_")) return "screen";
    return "camera";
  }

  /** Each stream's bars (epoch ms), by first appearance, and the class's span. */
  function readTimeline() {
    const svg = document.getElementById("timeline");
    const streams = [];
    for (const lane of svg ? svg.querySelectorAll(".lane[data-stream]") : []) {
      const bars = [...lane.querySelectorAll(".bar[data-start][data-end]")].map((bar) => [
        Number(bar.dataset.start),
        Number(bar.dataset.end),
      ]);
      if (bars.length === 0) continue;
      const id = lane.dataset.stream;
      const first = Math.min(...bars.map((b) => b[0]));
      streams.push({ id, kind: lane.dataset.kind || kindOf(id), bars, first });
    }
    streams.sort((a, b) => a.first - b.first || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const pauses = svg
      ? [...svg.querySelectorAll(".pause[data-pause]")].map((p) => [
          Number(p.dataset.pause),
          Number(p.dataset.resume),
        ])
      : [];
    const start = streams.length ? Math.min(...streams.map((s) => s.first)) : 0;
    const end = streams.length ? Math.max(...streams.flatMap((s) => s.bars.map((b) => b[1]))) : 0;
    return { streams, pauses, start, end };
  }

  function accepts(reserved, stream) {
    if (!reserved) return false;
    if (reserved === WHITEBOARD) return stream.kind === "whiteboard";
    if (reserved === SCREEN) return stream.kind === "screen";
    return stream.id.startsWith(reserved); // the server takes InputStreamId as a prefix
  }

  /**
   * Who fills each slot at epoch ms `t`: a simple approximation of the server's seating
   * (planning/seating.py), which also keeps a stream in its slot while it stays and gives
   * it back on return. Here, streams present at `t`, in order of first appearance, take
   * the first free slot reserved for them; a camera that no slot reserves takes the first
   * free spare slot; the whiteboard and screen share show only in slots reserved for them.
   */
  function seatsAt(slots, timeline, t) {
    const seated = slots.map(() => "");
    const indexes = slots.map((_, i) => i);
    for (const stream of timeline.streams) {
      if (!stream.bars.some(([lo, hi]) => lo <= t && t < hi)) continue;
      const reserved = indexes.filter((i) => accepts(slots[i].stream, stream));
      let candidates = reserved;
      if (reserved.length === 0) {
        candidates = stream.kind === "camera" ? indexes.filter((i) => !slots[i].stream) : [];
      }
      const free = candidates.find((i) => !seated[i]);
      if (free !== undefined) seated[free] = stream.id;
    }
    return seated;
  }

  function clock(ms) {
    const seconds = Math.floor(ms / 1000);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  // --- the page's elements -------------------------------------------------------------

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    node.append(...children);
    return node;
  }

  function streamName(id) {
    return id === WHITEBOARD ? `${id} (whiteboard)` : id;
  }

  function build(root, span) {
    const field = (text, input) => el("label", {}, [`${text} `, input]);
    const number = (id, attrs = {}) => el("input", { id, type: "number", step: 1, ...attrs });
    const button = (id, value, title) => el("input", { id, type: "button", value, title });
    const ui = {
      width: number("layout-width", { min: SIZE_MIN, max: SIZE_MAX }),
      height: number("layout-height", { min: SIZE_MIN, max: SIZE_MAX }),
      bg: el("input", { id: "layout-bg", type: "color" }),
      canvas: el("div", {
        class: "layout-canvas",
        role: "group",
        "aria-label": "The canvas: drag a slot to move it, its corner to resize it",
      }),
      time: el("input", { id: "layout-time", type: "range", min: 0, max: span, step: 100, value: 0 }),
      timeLabel: el("span", { id: "layout-time-label", class: "layout-editor-note" }),
      add: button("layout-add", "Add slot", "A new spare slot"),
      remove: button("layout-remove", "Remove slot", "Remove the selected slot"),
      raise: button("layout-raise", "Raise", "Draw the selected slot above the next one"),
      lower: button("layout-lower", "Lower", "Draw the selected slot below the next one"),
      title: el("legend", { id: "slot-title" }),
      stream: el("select", { id: "slot-stream" }),
      fill: el("select", { id: "slot-fill" }, [
        el("option", { value: 0, text: "fit (0): whole picture, bars" }),
        el("option", { value: 1, text: "fill (1): covers, cropped" }),
      ]),
      slotBg: el("input", { id: "slot-bg", type: "color" }),
      x: number("slot-x", { min: 0, max: SIZE_MAX }),
      y: number("slot-y", { min: 0, max: SIZE_MAX }),
      w: number("slot-w", { min: SIZE_MIN, max: SIZE_MAX }),
      h: number("slot-h", { min: SIZE_MIN, max: SIZE_MAX }),
      z: number("slot-z"),
    };
    root.append(
      el("div", { class: "layout-editor-bar" }, [
        field("Canvas width", ui.width),
        field("height", ui.height),
        field("background", ui.bg),
      ]),
      ui.canvas,
      el("div", { class: "layout-editor-bar" }, [field("Preview at", ui.time), ui.timeLabel]),
      el("div", { class: "layout-editor-bar" }, [ui.add, ui.remove, ui.raise, ui.lower]),
      el("fieldset", { class: "layout-editor-slot" }, [
        ui.title,
        field("Stream", ui.stream),
        field("Picture", ui.fill),
        field("Background", ui.slotBg),
        el("div", {}, [field("X", ui.x), field("Y", ui.y), field("Width", ui.w)]),
        el("div", {}, [field("Height", ui.h), field("ZOrder", ui.z)]),
      ]),
    );
    return ui;
  }

  // --- the editor ----------------------------------------------------------------------

  function start(root) {
    const form = root.closest("form");
    const textarea = document.getElementById("mix-stream");
    const error = document.getElementById("layout-error");
    const streams = (root.dataset.streams || "").split(",").filter(Boolean);
    const timeline = readTimeline();
    const ui = build(root, Math.max(0, timeline.end - timeline.start));
    let layout = defaultLayout();
    let selected = 0;
    let written = "";

    const scale = () => Math.min(VIEW_W / layout.width, VIEW_H / layout.height);
    const current = () => layout.slots[selected];

    function showError(message) {
      if (!error) return;
      error.textContent = message;
      error.hidden = !message;
    }

    /** Loads the textarea's JSON; false (and why, on the page) when it does not parse. */
    function load(text) {
      try {
        layout = fromMixStream(JSON.parse(text));
      } catch (exc) {
        showError(`The JSON was not loaded into the editor: ${exc.message}`);
        return false;
      }
      selected = Math.min(selected, layout.slots.length - 1);
      showError("");
      return true;
    }

    function writeJson() {
      written = JSON.stringify(toMixStream(layout), null, 2);
      if (textarea) textarea.value = written;
    }

    function slotElement(index) {
      const node = el("div", { class: "layout-slot", "data-index": index, tabindex: 0 }, [
        el("span", { class: "layout-slot-name" }),
        el("span", { class: "layout-slot-label" }),
        el("span", { class: "layout-handle", title: "Drag to resize" }),
      ]);
      node.addEventListener("pointerdown", (event) => {
        const mode = event.target.closest(".layout-handle") ? "resize" : "move";
        drag(event, index, mode);
      });
      node.addEventListener("keydown", (event) => nudge(event, index));
      return node;
    }

    function drawSlots(seated) {
      const s = scale();
      while (ui.canvas.children.length > layout.slots.length) ui.canvas.lastChild.remove();
      while (ui.canvas.children.length < layout.slots.length) {
        ui.canvas.append(slotElement(ui.canvas.children.length));
      }
      layout.slots.forEach((slot, i) => {
        const node = ui.canvas.children[i];
        Object.assign(node.style, {
          left: `${slot.x * s}px`,
          top: `${slot.y * s}px`,
          width: `${slot.w * s}px`,
          height: `${slot.h * s}px`,
          zIndex: String(slot.z),
          backgroundColor: slot.bg,
        });
        const who = seated[i];
        node.className = `layout-slot${i === selected ? " selected" : ""}`;
        if (who) node.classList.add("occupied", kindOf(who));
        node.dataset.occupant = who;
        const reserved = slot.stream ? `for ${streamName(slot.stream)}` : "spare";
        node.querySelector(".layout-slot-name").textContent = `${i + 1} · ${reserved}`;
        const label = node.querySelector(".layout-slot-label");
        label.dataset.stream = who;
        label.textContent = who || "empty";
        node.title = `Slot ${i + 1}: ${slot.w}×${slot.h} at (${slot.x}, ${slot.y})`;
      });
    }

    function drawPanel() {
      const slot = current();
      ui.title.textContent = `Slot ${selected + 1} of ${layout.slots.length}`;
      const ids = ["", ...streams];
      if (slot.stream && !ids.includes(slot.stream)) ids.push(slot.stream); // a prefix, say
      ui.stream.replaceChildren(
        ...ids.map((id) =>
          el("option", { value: id, text: id ? streamName(id) : "spare (any camera)" }),
        ),
      );
      ui.stream.value = slot.stream;
      ui.fill.value = String(slot.fill);
      ui.slotBg.value = slot.bg.toLowerCase();
      for (const key of ["x", "y", "w", "h", "z"]) ui[key].value = slot[key];
      ui.remove.disabled = layout.slots.length < 2; // TIW needs at least one slot
    }

    function drawPreview() {
      const span = Number(ui.time.max);
      const t = timeline.start + Number(ui.time.value);
      const paused = timeline.pauses.some(([lo, hi]) => lo <= t && t < hi);
      ui.time.disabled = span <= 0;
      ui.timeLabel.textContent = `${clock(t - timeline.start)} of ${clock(span)}${paused ? " (paused)" : ""}`;
      return seatsAt(layout.slots, timeline, t);
    }

    /** Draws everything from the model and writes the JSON it submits. */
    function render() {
      const s = scale();
      ui.canvas.style.width = `${layout.width * s}px`;
      ui.canvas.style.height = `${layout.height * s}px`;
      ui.canvas.style.backgroundColor = layout.background;
      ui.width.value = layout.width;
      ui.height.value = layout.height;
      ui.bg.value = layout.background.toLowerCase();
      drawSlots(drawPreview());
      drawPanel();
      writeJson();
    }

    function select(index) {
      if (index === selected) return;
      selected = index;
      render();
    }

    // Dragging: the body moves a slot, the bottom-right handle resizes it.
    function drag(event, index, mode) {
      if (event.button !== 0) return;
      event.preventDefault();
      select(index);
      const slot = layout.slots[index];
      const from = { x: event.clientX, y: event.clientY, slot: { ...slot } };
      const move = (e) => {
        const dx = (e.clientX - from.x) / scale();
        const dy = (e.clientY - from.y) / scale();
        if (mode === "move") {
          slot.x = from.slot.x + dx;
          slot.y = from.slot.y + dy;
        } else {
          slot.w = Math.min(from.slot.w + dx, layout.width - slot.x);
          slot.h = Math.min(from.slot.h + dy, layout.height - slot.y);
        }
        clampSlot(slot, layout);
        render();
      };
      const stop = () => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", stop);
        window.removeEventListener("pointercancel", stop);
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", stop);
      window.addEventListener("pointercancel", stop);
    }

    // Arrow keys move the focused slot by one canvas pixel (ten with Shift).
    function nudge(event, index) {
      const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (!steps[event.key]) return;
      event.preventDefault();
      const by = event.shiftKey ? 10 : 1;
      const slot = layout.slots[index];
      selected = index;
      slot.x += steps[event.key][0] * by;
      slot.y += steps[event.key][1] * by;
      clampSlot(slot, layout);
      render();
    }

    /** Moves the selected slot one step up or down the drawing order; ZOrders become 0..n-1. */
    function restack(step) {
      const order = layout.slots.map((_, i) => i).sort((a, b) => layout.slots[a].z - layout.slots[b].z || a - b);
      const at = order.indexOf(selected);
      const to = clamp(at + step, 0, order.length - 1);
      order.splice(at, 1);
      order.splice(to, 0, selected);
      order.forEach((index, z) => {
        layout.slots[index].z = z;
      });
      render();
    }

    function addSlot() {
      const n = layout.slots.length;
      const z = Math.max(...layout.slots.map((s) => s.z)) + 1;
      const slot = { x: 20 * n, y: 20 * n, w: 320, h: 240, z, stream: "", fill: 0, bg: "#000000" };
      clampSlot(slot, layout);
      layout.slots.push(slot);
      selected = n;
      render();
    }

    function removeSlot() {
      if (layout.slots.length < 2) return;
      layout.slots.splice(selected, 1);
      selected = Math.min(selected, layout.slots.length - 1);
      render();
    }

    function setCanvas() {
      const read = (input, old) => (Number.isFinite(input.valueAsNumber) ? canvasSize(input.valueAsNumber) : old);
      layout.width = read(ui.width, layout.width);
      layout.height = read(ui.height, layout.height);
      if (COLOR.test(ui.bg.value)) layout.background = ui.bg.value.toUpperCase();
      layout.slots.forEach((slot) => clampSlot(slot, layout));
      render();
    }

    function setSlot() {
      const slot = current();
      slot.stream = ui.stream.value;
      slot.fill = Number(ui.fill.value) === 1 ? 1 : 0;
      if (COLOR.test(ui.slotBg.value)) slot.bg = ui.slotBg.value.toUpperCase();
      for (const key of ["x", "y", "w", "h", "z"]) {
        if (Number.isFinite(ui[key].valueAsNumber)) slot[key] = Math.round(ui[key].valueAsNumber);
      }
      clampSlot(slot, layout);
      render();
    }

    function toggle() {
      const custom = form && form.querySelector("input[name=template][value=custom]");
      root.hidden = !(custom && custom.checked);
      // Typed into the textarea meanwhile: the textarea wins, when it parses.
      if (!root.hidden && textarea && textarea.value !== written && load(textarea.value)) render();
    }

    async function copy() {
      const status = document.getElementById("layout-copy-status");
      const say = (text) => {
        if (status) status.textContent = text;
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        try {
          await navigator.clipboard.writeText(textarea.value);
          say("Copied.");
          return;
        } catch (exc) {
          // Not allowed here: fall through to selecting the text.
        }
      }
      textarea.focus();
      textarea.select();
      say("Selected: press Ctrl+C (⌘C) to copy.");
    }

    ui.width.addEventListener("change", setCanvas);
    ui.height.addEventListener("change", setCanvas);
    ui.bg.addEventListener("change", setCanvas);
    for (const input of [ui.stream, ui.fill, ui.slotBg, ui.x, ui.y, ui.w, ui.h, ui.z]) {
      input.addEventListener("change", setSlot);
    }
    ui.time.addEventListener("input", render);
    ui.add.addEventListener("click", addSlot);
    ui.remove.addEventListener("click", removeSlot);
    ui.raise.addEventListener("click", () => restack(1));
    ui.lower.addEventListener("click", () => restack(-1));
    if (form) form.addEventListener("change", (event) => event.target.name === "template" && toggle());
    if (textarea) {
      textarea.addEventListener("change", () => load(textarea.value) && render());
      const copyButton = document.getElementById("layout-copy");
      if (copyButton) {
        copyButton.hidden = false;
        copyButton.addEventListener("click", copy);
      }
    }

    // A textarea the browser kept (back and forward) is loaded; otherwise the default,
    // and text that does not parse stays there for its author to fix.
    const kept = textarea ? textarea.value : "";
    const unread = kept.trim() !== "" && !load(kept);
    render();
    if (unread) textarea.value = kept;
    toggle();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("layout-editor");
    if (root) {
      root.classList.add("layout-editor");
      start(root);
    }
  });
})();
