/* The teaching report: one run's events, stepped through on the topology picture, layer by layer.
 *
 * Everything shown comes from the JSON in <script id="dataplane-run"> (format in views/report.py) and reaches
 * the page through textContent or attributes, never as markup. The selected event drives every view; the
 * address #event=ID (with &view=NAME and &find=TEXT, the host or flow filter) selects one on load, so a link
 * can point at a moment of the run.
 */
"use strict";

(function () {
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ROW = 22;                     // px, as --row in report.css: the event list is virtualised on it
  var PALETTE = ["#4c6ef5", "#12b886", "#f59f00", "#e64980", "#7950f2", "#15aabf", "#fa5252", "#82c91e", "#868e96"];
  var LAYER_COLOURS = {"ethernet": 0, "vlan": 8, "arp": 2, "ipv4": 1, "ipv6": 1, "icmp": 3, "icmpv6": 3, "udp": 2,
                       "tcp": 2, "sctp": 2, "sctp chunk": 4, "payload": 5, "fragment data": 5, "padding": 8,
                       "undissected": 6};
  var VIEWS = [["layers", "Layers"], ["encapsulation", "Encapsulation and bytes"], ["fragments", "Fragments"],
               ["conversations", "Conversations"], ["icmp", "ICMP errors"]];

  var run = JSON.parse(document.getElementById("dataplane-run").textContent);
  var events = run.events, frames = run.frames;
  var state = {selected: null, visible: [], view: "layers", frameShown: null};

  // ------------------------------------------------------------------ small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAll(node, attrs, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    setAll(node, attrs, children);
    return node;
  }
  function setAll(node, attrs, children) {
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "cls") { node.setAttribute("class", attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }
  function colour(layer, index) {
    var i = LAYER_COLOURS[layer.name];
    return PALETTE[(i === undefined ? index : i) % PALETTE.length];
  }
  function fmtTime(ns) {
    return (ns / 1e9).toFixed(6) + " s";
  }
  function field(layer, name) {
    for (var i = 0; i < layer.fields.length; i++) { if (layer.fields[i].name === name) { return layer.fields[i].value; } }
    return null;
  }
  function frameOf(event) { return event && event.frame !== undefined && event.frame !== null ? frames[event.frame] : null; }

  // ------------------------------------------------------------------ what each event is, in a row

  function protocolOf(e) {
    var f = frameOf(e);
    if (f) { return f.protocol; }
    return e.kind === "app" ? "app" : "note";
  }
  function rowOf(e) {
    var f = frameOf(e), from = "", to = "", summary;
    if (e.kind === "send") { from = e.node; to = e.to; }
    else if (e.kind === "receive") { from = e.from || ""; to = e.node; }
    else if (e.kind === "drop") { from = e.node; to = e.link ? "(" + e.link + ")" : ""; }
    if (e.kind === "drop") { summary = "dropped: " + e.text + (e.detail ? " (" + e.detail + ")" : ""); }
    else if (e.kind === "note" || e.kind === "app") { summary = (e.kind === "app" ? e.app + ": " : "") + e.text; }
    else { summary = (e.kind === "send" ? "sent " : "received ") + (e.packet ? e.packet + " " : "") + (f ? shortSummary(f.summary) : ""); }
    return {from: from, to: to, summary: summary, protocol: protocolOf(e)};
  }
  // The Ethernet addresses are in the layer view; the list starts with what the frame carries.
  function shortSummary(text) {
    return text.replace(/^[0-9a-f]{2}(:[0-9a-f]{2}){5} > [0-9a-f]{2}(:[0-9a-f]{2}){5}, (?=.)/, "");
  }
  var rows = events.map(rowOf);

  // Events by packet number (a packet keeps its number hop after hop), for the path on the picture.
  var byPacket = {};
  events.forEach(function (e) {
    var p = packetOf(e);
    if (p) { (byPacket[p] = byPacket[p] || []).push(e.id); }
  });
  function packetOf(e) {
    if (e.packet) { return e.packet; }
    if (e.kind === "drop" && e.of !== null && e.of !== undefined) { return events[e.of].packet; }
    if (e.kind === "note" && e.during !== null && e.during !== undefined) { return events[e.during].packet; }
    return null;
  }
  var dropsOf = {};
  events.forEach(function (e) {
    if (e.kind === "drop" && e.of !== null && e.of !== undefined) { (dropsOf[e.of] = dropsOf[e.of] || []).push(e); }
  });

  // ------------------------------------------------------------------ header, filters, the event list

  function header() {
    document.getElementById("title").textContent = "dataplane: " + run.topology;
    document.title = "dataplane report: " + run.topology;
    var l = run.ledger || {};
    document.getElementById("subtitle").textContent = events.length + " events, " + frames.length + " distinct frames; " +
      (l.transmitted || 0) + " frames transmitted, " + (l.arrived || 0) + " arrived, " + (l.drops || 0) + " dropped; run ended at " +
      fmtTime(run.time_ns || 0);
    var notes = [], cut = run.trimmed || {};
    if (run.frames_without_bytes) {
      notes.push("bytes (hex dumps) kept for the first " + run.bytes_kept + " of " + frames.length + " frames");
    }
    if (run.packets_not_recorded) { notes.push("the first " + (l.arrived || 0) + " packets replayed are here (" + run.packets_not_recorded + " more went through)"); }
    if (cut.frames) { notes.push("layers and P4 traces kept for the first " + run.detail_kept + " frames (" + cut.frames + " without)"); }
    ["fragments", "conversations", "icmp_errors"].forEach(function (k) {
      if (cut[k]) { notes.push(cut[k] + " more " + k.replace("_", " ") + " not listed"); }
    });
    if (notes.length) {
      var t = document.getElementById("truncation");
      t.hidden = false;
      t.textContent = "A large run: " + notes.join("; ") + ".";
    }
  }

  var filters = {protocols: {}, terms: []};
  function buildFilters() {
    var box = document.getElementById("protocol-filter");
    var seen = {};
    rows.forEach(function (r) { seen[r.protocol] = (seen[r.protocol] || 0) + 1; });
    var order = ["ARP", "ND", "ICMP", "ICMPv6", "IPv4", "IPv6", "UDP", "TCP", "SCTP", "other", "note", "app"];
    Object.keys(seen).forEach(function (p) { if (order.indexOf(p) < 0) { order.push(p); } });
    order.forEach(function (p) {
      if (!seen[p]) { return; }
      filters.protocols[p] = true;
      var input = el("input", {type: "checkbox", "data-protocol": p});
      input.checked = true;
      input.addEventListener("change", function () { filters.protocols[p] = input.checked; applyFilters(); });
      box.appendChild(el("label", {}, [input, p + " (" + seen[p] + ")"]));
    });
    var flow = document.getElementById("flow-filter");
    flow.addEventListener("input", function () {
      filters.terms = flow.value.toLowerCase().split(/\s+/).filter(Boolean);
      applyFilters();
    });
  }
  function matches(i) {
    var r = rows[i], e = events[i];
    if (!filters.protocols[r.protocol]) { return false; }
    if (!filters.terms.length) { return true; }
    var hay = (e.node + " " + r.from + " " + r.to + " " + r.summary + " " + r.protocol).toLowerCase();
    return filters.terms.every(function (t) { return hay.indexOf(t) >= 0; });
  }
  function applyFilters() {
    state.visible = [];
    for (var i = 0; i < events.length; i++) { if (matches(i)) { state.visible.push(i); } }
    document.getElementById("event-count").textContent = "(" + state.visible.length + " of " + events.length + " shown)";
    document.getElementById("event-spacer").style.height = (state.visible.length * ROW) + "px";
    drawRows(true);
  }

  var list, rowsBox;
  function drawRows(force) {
    var top = list.scrollTop, height = list.clientHeight || 400;
    var first = Math.max(0, Math.floor(top / ROW) - 10), last = Math.min(state.visible.length, Math.ceil((top + height) / ROW) + 10);
    if (!force && rowsBox.dataset.first === String(first) && rowsBox.dataset.last === String(last)) { return; }
    rowsBox.dataset.first = first;
    rowsBox.dataset.last = last;
    rowsBox.style.top = (first * ROW) + "px";
    clear(rowsBox);
    for (var k = first; k < last; k++) {
      var i = state.visible[k], e = events[i], r = rows[i];
      var row = el("div", {cls: "event-row" + (e.kind === "drop" ? " drop" : "") + (i === state.selected ? " selected" : ""),
                           role: "option", "data-event": i, "aria-selected": i === state.selected ? "true" : "false"},
                   [el("span", {text: String(e.id)}), el("span", {text: fmtTime(e.time_ns)}), el("span", {text: e.node}),
                    el("span", {text: r.from}), el("span", {text: r.to}), el("span", {text: r.protocol}),
                    el("span", {text: r.summary, title: r.summary})]);
      rowsBox.appendChild(row);
    }
  }
  function scrollToSelected() {
    var k = state.visible.indexOf(state.selected);
    if (k < 0) { return; }
    var y = k * ROW, h = list.clientHeight || 400;
    if (y < list.scrollTop || y + ROW > list.scrollTop + h) { list.scrollTop = Math.max(0, y - h / 2); }
    drawRows(true);
  }
  function step(delta) {
    if (!state.visible.length) { return; }
    var k = state.visible.indexOf(state.selected);
    k = k < 0 ? (delta > 0 ? 0 : state.visible.length - 1) : Math.min(state.visible.length - 1, Math.max(0, k + delta));
    select(state.visible[k], true);
  }

  // ------------------------------------------------------------------ selection and the address

  function select(id, updateAddress) {
    if (id === null || id === undefined || !events[id]) { return; }
    state.selected = id;
    state.frameShown = null;
    scrollToSelected();
    drawPath();
    renderViews();
    if (updateAddress) { writeAddress(); }
  }
  function writeAddress() {
    var find = document.getElementById("flow-filter").value.trim();
    var hash = "#event=" + state.selected + (state.view !== "layers" ? "&view=" + state.view : "") +
      (find ? "&find=" + encodeURIComponent(find) : "");
    try { history.replaceState(null, "", hash); } catch (err) { /* a file: page may refuse: the view still works */ }
  }
  function readAddress() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv.length === 2) { out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]); }
    });
    return out;
  }

  // ------------------------------------------------------------------ the path on the topology picture

  var topo = null, centres = {};
  function prepareTopology() {
    topo = document.querySelector("#topology svg");
    if (!topo) { return; }
    Array.prototype.forEach.call(topo.querySelectorAll("g[data-node]"), function (g) {
      var text = g.querySelector("text");
      centres[g.getAttribute("data-node")] = {x: parseFloat(text.getAttribute("x")), y: parseFloat(text.getAttribute("y")) - 4};
      g.addEventListener("click", function () {
        document.getElementById("flow-filter").value = g.getAttribute("data-node");
        filters.terms = [g.getAttribute("data-node").toLowerCase()];
        applyFilters();
      });
    });
    var defs = svg("defs", {}, [svg("marker", {id: "path-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerUnits: "userSpaceOnUse", markerWidth: "11",
                                               markerHeight: "11", orient: "auto-start-reverse"},
                                    [svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#d9480f"})])]);
    topo.insertBefore(defs, topo.firstChild);
    topo.appendChild(svg("g", {id: "path-layer"}));
  }
  function hopLine(a, b, cls, label) {
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
    var ux = dx / len, uy = dy / len, off = 6;          // beside the link, so both directions show
    var x1 = a.x + ux * 28 - uy * off, y1 = a.y + uy * 28 + ux * off, x2 = b.x - ux * 30 - uy * off, y2 = b.y - uy * 30 + ux * off;
    var g = svg("g", {cls: "path-step"});
    g.appendChild(svg("line", {cls: cls, x1: x1, y1: y1, x2: x2, y2: y2}));
    g.appendChild(svg("text", {cls: "path-number", x: (x1 + x2) / 2 - uy * 10, y: (y1 + y2) / 2 + ux * 10, text: label}));
    return g;
  }
  function dropMark(p, reason) {
    var g = svg("g", {cls: "drop-marker"}, [svg("title", {text: "dropped: " + reason})]);
    g.appendChild(svg("line", {cls: "drop-mark", x1: p.x - 9, y1: p.y - 9, x2: p.x + 9, y2: p.y + 9}));
    g.appendChild(svg("line", {cls: "drop-mark", x1: p.x - 9, y1: p.y + 9, x2: p.x + 9, y2: p.y - 9}));
    return g;
  }
  function drawPath() {
    if (!topo) { return; }
    var layer = clear(topo.querySelector("#path-layer"));
    Array.prototype.forEach.call(topo.querySelectorAll(".on-path, .selected-node"), function (n) {
      n.classList.remove("on-path");
      n.classList.remove("selected-node");
    });
    var e = events[state.selected], caption = document.getElementById("path-caption");
    var here = topo.querySelector('g[data-node="' + cssEscape(e.node) + '"]');
    if (here) { here.classList.add("selected-node"); }
    var packet = packetOf(e);
    if (!packet) { caption.textContent = e.node + ": " + rows[e.id].summary; return; }
    var ids = byPacket[packet] || [], hops = 0, drops = 0, current = hopEvent(e);
    ids.forEach(function (id) {
      var x = events[id];
      if (x.kind === "send") {
        hops++;
        var a = centres[x.node], b = centres[x.to];
        if (a && b) { layer.appendChild(hopLine(a, b, "path-hop" + (id === current ? " current" : ""), String(hops))); }
        mark('g[data-link="' + cssEscape(x.link) + '"]');
        mark('g[data-node="' + cssEscape(x.node) + '"]');
        mark('g[data-node="' + cssEscape(x.to) + '"]');
      } else if (x.kind === "drop") {
        drops++;
        var at = centres[x.node];
        if (x.link && events[x.of] && centres[events[x.of].to]) {       // lost on the link: mark its middle
          var peer = centres[events[x.of].to];
          at = {x: (at.x + peer.x) / 2, y: (at.y + peer.y) / 2};
        }
        if (at) { layer.appendChild(dropMark(at, x.text)); }
      }
    });
    caption.textContent = "Packet " + packet + ": " + hops + " hop" + (hops === 1 ? "" : "s") +
      (drops ? ", dropped (marked \u2716)" : "") + "; the selected event is at " + e.node + ".";
  }
  function hopEvent(e) {
    if (e.kind === "send") { return e.id; }
    if (e.kind === "receive") { return e.sent_by; }
    return null;
  }
  function mark(selector) {
    var n = topo.querySelector(selector);
    if (n) { n.classList.add("on-path"); }
  }
  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(String(s)) : String(s).replace(/["\\]/g, "\\$&"); }

  // ------------------------------------------------------------------ the views of the selected event

  function buildTabs() {
    var nav = document.getElementById("tabs");
    VIEWS.forEach(function (v) {
      var b = el("button", {role: "tab", "data-view": v[0], text: v[1]});
      b.addEventListener("click", function () { showView(v[0]); writeAddress(); });
      nav.appendChild(b);
    });
  }
  function showView(name) {
    if (!VIEWS.some(function (v) { return v[0] === name; })) { name = "layers"; }
    state.view = name;
    Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
      b.setAttribute("aria-selected", b.getAttribute("data-view") === name ? "true" : "false");
    });
    Array.prototype.forEach.call(document.querySelectorAll(".view"), function (v) {
      v.hidden = v.getAttribute("data-view") !== name;
    });
  }
  function renderViews() {
    var e = events[state.selected];
    var hop = hopOf(e);
    renderLayers(e, hop);
    renderEncapsulation(e, hop);
    renderFragments(e);
    renderConversations(e);
    renderIcmp(e);
  }

  // The hop an event belongs to: the frame a node received and what it sent because of it.
  function hopOf(e) {
    var receive = null, sends = [];
    if (e.kind === "receive") { receive = e; }
    else if (e.kind === "send") {
      if (e.caused_by !== null && e.caused_by !== undefined) { receive = events[e.caused_by]; }
      else { sends = [e]; }
    } else if (e.kind === "drop" && e.of !== null && e.of !== undefined) { return hopOf(events[e.of]); }
    else if (e.kind === "note" && e.during !== null && e.during !== undefined) { return hopOf(events[e.during]); }
    if (receive) { sends = (receive.caused || []).map(function (i) { return events[i]; }); }
    return {receive: receive, sends: sends, node: receive ? receive.node : e.node};
  }

  // -- layers (In layers / Out layers), each with what the device did there

  function renderLayers(e, hop) {
    var box = clear(document.getElementById("view-layers"));
    box.appendChild(el("h3", {text: "At " + hop.node + " (" + nodeKind(hop.node) + "), " + fmtTime(e.time_ns)}));
    if (e.kind === "app" || (e.kind === "note" && !hop.receive && !hop.sends.length)) {
      box.appendChild(el("p", {text: e.text}));
      return;
    }
    var cols = el("div", {cls: "layers-columns"});
    var left = el("div", {cls: "in-layers"}, [el("h4", {text: "In layers"})]);
    var right = el("div", {cls: "out-layers"}, [el("h4", {text: "Out layers"})]);
    if (hop.receive) {
      var r = hop.receive;
      left.appendChild(frameStack(r, "port " + r.port + " (" + r.interface + ") from " + (r.from || "?"), [], r.did || []));
      (r.pipeline || []).length && left.appendChild(pipelineList(r.pipeline));
      (dropsOf[r.id] || []).forEach(function (d) { left.appendChild(sentence("dropped: " + d.text + (d.detail ? " (" + d.detail + ")" : ""), null, "drop")); });
    } else {
      left.appendChild(el("p", {cls: "muted", text: "Nothing received: " + hop.node + " made this frame itself (an application, a timer or its stack)."}));
    }
    if (!hop.sends.length) { right.appendChild(el("p", {cls: "muted", text: "Nothing sent: the frame stopped here (" + ((hop.receive && hop.receive.fate) || "no fate") + ")."})); }
    hop.sends.forEach(function (s) {
      var made = s.made ? s.made : s.origin;
      var did = [(made === "forwarded" ? "forwarded" : made === "fragment" ? "a fragment made here" : "a new frame made here (" + s.origin + ")") +
                 " out of " + s.interface + " to " + s.to];
      (dropsOf[s.id] || []).forEach(function (d) { did.push("dropped: " + d.text + (d.detail ? " (" + d.detail + ")" : "")); });
      right.appendChild(frameStack(s, "port " + s.port + " (" + s.interface + ") to " + s.to + " on link " + s.link, s.changes || [], did));
    });
    cols.appendChild(left);
    cols.appendChild(right);
    box.appendChild(cols);
  }
  function nodeKind(name) {
    var n = (run.nodes || []).filter(function (x) { return x.name === name; })[0];
    return n ? n.kind + (n.program ? ", " + n.program : "") : "node";
  }
  function frameStack(ev, portLine, changes, did) {
    var f = frames[ev.frame];
    var wrap = el("div", {cls: "frame", "data-event": ev.id});
    var head = el("div", {cls: "frame-head"}, [ev.kind === "receive" ? "Received " : "Sent ", (ev.packet || "") + ", " + f.length + " bytes  "]);
    var show = el("button", {cls: "source-link", text: "show bytes"});
    show.addEventListener("click", function () { state.frameShown = ev.id; renderViews(); showView("encapsulation"); writeAddress(); });
    head.appendChild(show);
    wrap.appendChild(head);
    if (f.trimmed) { wrap.appendChild(el("p", {cls: "muted", text: f.summary + " (its layers were not kept: see the note at the top)"})); }
    var list = el("ol", {cls: "layer-stack"});
    list.appendChild(el("li", {style: "--c:#adb5bd"}, [el("span", {cls: "layer-name", text: "Port: "}), portLine]));
    did.forEach(function (text) { list.appendChild(sentence(text, null, /dropped/.test(text) ? "drop" : "")); });
    f.layers.forEach(function (layer, i) {
      var item = el("li", {style: "--c:" + colour(layer, i), "data-layer": layer.name},
                    [el("span", {cls: "layer-name", text: layer.title || layer.name}),
                     el("span", {cls: "muted", text: "  bytes " + layer.offset + "\u2013" + (layer.offset + layer.length - 1) + " (" + layer.length + ")"})]);
      if (layer.quoted) { item.appendChild(el("span", {cls: "muted", text: "  quoted by the ICMP error"})); }
      if (layer.problem) { item.appendChild(sentence(layer.problem, null, "drop")); }
      changes.filter(function (c) { return c.layer === layer.name; }).forEach(function (c) {
        var text = c.field ? c.field + " " + c.old + " \u2192 " + c.new : (c.new === "added" ? "header added" : "header removed");
        item.appendChild(sentence(text, c.source, ""));
      });
      list.appendChild(item);
    });
    wrap.appendChild(list);
    return wrap;
  }
  function sentence(text, source, cls) {
    var s = el("span", {cls: "sentence " + (cls || "")}, [text]);
    if (source) { s.appendChild(document.createTextNode(" (")); s.appendChild(sourceLink(source)); s.appendChild(document.createTextNode(")")); }
    return s;
  }
  function pipelineList(steps) {
    var ul = el("ul", {cls: "pipeline"}, []);
    steps.forEach(function (p) {
      var li = el("li");
      if (p.kind === "table") {
        li.appendChild(document.createTextNode("table " + p.table + ": " + (p.hit ? "hit " + (p.match || "") : "miss") + " \u2192 " +
          p.action + argsText(p.args) + " "));
        if (p.source) { li.appendChild(sourceLink(p.source)); }
      } else if (p.kind === "action") {
        li.appendChild(document.createTextNode("action " + p.action + argsText(p.args) + " "));
        if (p.source) { li.appendChild(sourceLink(p.source)); }
      } else if (p.kind === "parser-error") { li.textContent = "parser error: " + p.error; }
      else if (p.kind === "to-cpu") { li.textContent = "sent to the control plane (CPU port)"; }
      else { li.textContent = p.kind; }
      ul.appendChild(li);
    });
    return el("div", {}, [el("div", {cls: "frame-head", text: "P4 pipeline"}), ul]);
  }
  function argsText(args) {
    var keys = Object.keys(args || {});
    return keys.length ? "(" + keys.map(function (k) { return k + "=" + args[k]; }).join(", ") + ")" : "";
  }
  // "MyIngress.ipv4_forward, programs/ipv4_router.p4:142" or "programs/x.p4:12": a link that shows the line.
  function sourceLink(where) {
    var m = /([^\s,]+):(\d+)$/.exec(where);
    var span = el("span", {cls: "source"});
    if (!m) { span.textContent = where; return span; }
    var file = m[1], line = parseInt(m[2], 10);
    var text = run.sources && run.sources[file];
    var link = el("button", {cls: "source-link", "data-source": file + ":" + line, text: where});
    span.appendChild(link);
    if (!text) { return span; }
    var lines = text.split("\n");
    span.appendChild(el("code", {cls: "source-line", text: "  " + (lines[line - 1] || "").trim()}));
    var pre = null;
    link.addEventListener("click", function () {
      if (pre) { pre.remove(); pre = null; return; }
      pre = el("pre", {cls: "source"});
      for (var n = Math.max(1, line - 4); n <= Math.min(lines.length, line + 4); n++) {
        pre.appendChild(el("span", {cls: n === line ? "hit" : ""}, [String(n).padStart(4) + "  " + lines[n - 1]]));
        pre.appendChild(document.createTextNode("\n"));
      }
      span.appendChild(pre);
    });
    return span;
  }

  // -- encapsulation: nested boxes and the coloured hex dump

  function renderEncapsulation(e, hop) {
    var box = clear(document.getElementById("view-encapsulation"));
    var choices = [];
    if (hop.receive) { choices.push(hop.receive); }
    hop.sends.forEach(function (s) { choices.push(s); });
    if (!choices.length && frameOf(e)) { choices.push(e); }
    if (!choices.length) { box.appendChild(el("p", {cls: "muted", text: "This event has no frame."})); return; }
    var shown = choices.filter(function (c) { return c.id === state.frameShown; })[0] ||
                choices.filter(function (c) { return c.id === e.id; })[0] || choices[0];
    var pick = el("div", {cls: "frame-pick"}, ["Frame: "]);
    choices.forEach(function (c) {
      var b = el("button", {cls: "source-link", text: (c.kind === "receive" ? "in from " + c.from : "out to " + c.to) + " (" + frames[c.frame].length + " bytes)"});
      if (c === shown) { b.style.fontWeight = "bold"; }
      b.addEventListener("click", function () { state.frameShown = c.id; renderViews(); });
      pick.appendChild(b);
      pick.appendChild(document.createTextNode("  "));
    });
    box.appendChild(pick);
    var f = frames[shown.frame];
    box.appendChild(el("p", {text: f.summary}));
    box.appendChild(encapsulation(f));
    box.appendChild(hexDump(f));
  }
  function encapsulation(f) {
    var boxes = [], root = el("div", {cls: "encap"});
    f.layers.forEach(function (layer, i) {
      var end = layer.offset + layer.length;
      var b = el("div", {cls: "box", style: "--c:" + colour(layer, i), "data-layer": layer.name},
                 [el("div", {cls: "box-label"}, [layer.title || layer.name,
                   el("span", {cls: "where", text: "offset " + layer.offset + ", header " + layer.length + " bytes" +
                     (layer.quoted ? ", quoted" : "")})])]);
      boxes.push({el: b, end: end});
      var parent = layer.parent === null || layer.parent === undefined ? null : boxes[layer.parent];
      (parent ? parent.el : root).appendChild(b);
    });
    // Each box's whole extent: its header and everything it carries.
    f.layers.forEach(function (layer, i) {
      var p = layer.parent;
      while (p !== null && p !== undefined) { boxes[p].end = Math.max(boxes[p].end, boxes[i].end); p = f.layers[p].parent; }
    });
    f.layers.forEach(function (layer, i) {
      var span = boxes[i].end - layer.offset;
      if (span > layer.length) {
        boxes[i].el.firstChild.lastChild.textContent += "; with what it carries " + span + " bytes";
      }
    });
    return root;
  }
  function hexDump(f) {
    var wrap = el("div", {cls: "hexdump"});
    if (!f.bytes) { wrap.appendChild(el("p", {cls: "muted", text: "The bytes of this frame were not kept (see the note at the top)."})); return wrap; }
    var owner = byteOwners(f), n = f.bytes.length / 2;
    for (var start = 0; start < n; start += 16) {
      var line = el("div", {cls: "hexline"}, [el("span", {cls: "off", text: start.toString(16).padStart(4, "0") + "  "})]);
      for (var i = start; i < Math.min(n, start + 16); i++) {
        var o = owner[i];
        var b = el("span", {cls: "byte", "data-offset": i, "data-layer": o.layer, "data-field": o.field,
                            style: "--c:" + tint(colour(f.layers[o.layer], o.layer), o.field)},
                   [f.bytes.substr(i * 2, 2)]);
        line.appendChild(b);
        line.appendChild(document.createTextNode(i % 8 === 7 ? "  " : " "));
      }
      wrap.appendChild(line);
    }
    wrap.addEventListener("mouseover", function (ev) {
      var t = ev.target;
      if (!t.classList || !t.classList.contains("byte")) { return; }
      showTip(ev, byteText(f, parseInt(t.getAttribute("data-offset"), 10)));
      Array.prototype.forEach.call(wrap.querySelectorAll(".byte.hover"), function (x) { x.classList.remove("hover"); });
      Array.prototype.forEach.call(wrap.querySelectorAll('.byte[data-layer="' + t.getAttribute("data-layer") + '"][data-field="' +
        t.getAttribute("data-field") + '"]'), function (x) { x.classList.add("hover"); });
    });
    wrap.addEventListener("mouseleave", hideTip);
    return wrap;
  }
  function byteOwners(f) {
    var owner = [];
    f.layers.forEach(function (layer, li) {
      for (var i = layer.offset; i < layer.offset + layer.length; i++) { owner[i] = {layer: li, field: -1}; }
      layer.fields.forEach(function (fd, fi) {
        var a = Math.floor(fd.offset_bits / 8), b = Math.ceil((fd.offset_bits + fd.width_bits) / 8);
        for (var i = a; i < b; i++) { if (owner[i] && owner[i].layer === li && owner[i].field < 0) { owner[i].field = fi; } }
      });
    });
    return owner;
  }
  function byteText(f, offset) {
    var lines = ["byte " + offset];
    f.layers.forEach(function (layer) {
      if (offset < layer.offset || offset >= layer.offset + layer.length) { return; }
      lines.push(layer.title || layer.name);
      layer.fields.forEach(function (fd) {
        if (fd.offset_bits < (offset + 1) * 8 && fd.offset_bits + fd.width_bits > offset * 8) {
          lines.push(layer.name + "." + fd.name + " = " + fd.value + (fd.text ? " (" + fd.text + ")" : "") +
                     "  [bits " + fd.offset_bits + "+" + fd.width_bits + "]");
        }
      });
    });
    return lines.join("\n");
  }
  function tint(hex, fieldIndex) {
    var alpha = fieldIndex < 0 ? 0.18 : (fieldIndex % 2 ? 0.28 : 0.45);
    var r = parseInt(hex.substr(1, 2), 16), g = parseInt(hex.substr(3, 2), 16), b = parseInt(hex.substr(5, 2), 16);
    return "rgba(" + r + "," + g + "," + b + "," + alpha + ")";
  }
  var tip = null;
  function showTip(ev, text) {
    tip = tip || document.getElementById("tooltip");
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = (ev.clientX + 14) + "px";
    tip.style.top = (ev.clientY + 14) + "px";
  }
  function hideTip() { if (tip) { tip.hidden = true; } }

  // -- fragments

  function renderFragments(e) {
    var box = clear(document.getElementById("view-fragments"));
    var all = run.fragments || [];
    if (!all.length) { box.appendChild(el("p", {cls: "muted", text: "No datagram was fragmented in this run."})); return; }
    var frame = e.frame, mine = all.filter(function (d) { return d.fragments.some(function (x) { return x.frame === frame || x.event === e.id; }) || d.original_frame === frame; });
    var shown = mine.length ? mine : all.slice(0, 1);
    box.appendChild(el("p", {cls: "muted", text: all.length + " fragmented datagram" + (all.length === 1 ? "" : "s") + " in the run; " +
      (mine.length ? "the selected frame belongs to the one below." : "showing the first (select a fragment to see its own).")}));
    shown.forEach(function (d) { box.appendChild(datagramView(d)); });
  }
  function datagramView(d) {
    var wrap = el("div", {cls: "datagram", "data-datagram": d.key});
    wrap.appendChild(el("h4", {text: d.version + " datagram " + d.src + " \u2192 " + d.dst + " id " + d.id + " (" + d.protocol + "), " +
      d.data_length + " bytes of data" + (d.reassembled_at ? "; reassembled at " + d.reassembled_at.node : "; not reassembled")}));
    // One bar per place fragments were made: a router may cut a host's fragment again.
    var total = Math.max(1, d.data_length), bars = {};
    d.fragments.forEach(function (x, i) {
      var bar = bars[x.made_at];
      if (!bar) {
        bar = bars[x.made_at] = el("div", {cls: "frag-bar", "data-made-at": x.made_at});
        wrap.appendChild(el("div", {cls: "muted", text: "made at " + x.made_at + " (" + x.made_by + "):"}));
        wrap.appendChild(bar);
      }
      bar.appendChild(el("div", {style: "left:" + (100 * x.offset / total) + "%;width:" + (100 * x.length / total) + "%;background:" + PALETTE[i % PALETTE.length],
                                 title: "fragment " + (i + 1) + ": bytes " + x.offset + "\u2013" + (x.offset + x.length - 1)}, [String(i + 1)]));
    });
    var table = el("table", {cls: "fragments"}, [el("tr", {}, ["#", "data offset", "length", "MF", "made at", "first sent", "packet"].map(function (h) { return el("th", {text: h}); }))]);
    d.fragments.forEach(function (x, i) {
      var go = el("button", {cls: "source-link", text: "event " + x.event});
      go.addEventListener("click", function () { select(x.event, true); });
      table.appendChild(el("tr", {}, [el("td", {text: String(i + 1)}), el("td", {text: String(x.offset)}), el("td", {text: String(x.length)}),
        el("td", {text: x.mf ? "1" : "0"}), el("td", {text: x.made_at + " (" + x.made_by + ")"}), el("td", {}, [go]), el("td", {text: x.packet || ""})]));
    });
    wrap.appendChild(table);
    return wrap;
  }

  // -- conversations: ladder diagrams with each end's state

  function renderConversations(e) {
    var box = clear(document.getElementById("view-conversations"));
    var all = run.conversations || [];
    if (!all.length) { box.appendChild(el("p", {cls: "muted", text: "No TCP connection or SCTP association in this run."})); return; }
    var mine = all.filter(function (c) { return c.segments.some(function (s) { return s.send === e.id || s.receive === e.id; }); });
    var c = mine[0] || all[0];
    var pick = el("select", {id: "conversation-pick"});
    all.forEach(function (x, i) {
      var o = el("option", {value: String(i), text: x.protocol + " " + x.a.endpoint + " \u2194 " + x.b.endpoint + " (" + x.segments.length + ")"});
      if (x === c) { o.selected = true; }
      pick.appendChild(o);
    });
    pick.addEventListener("change", function () { var s = all[parseInt(pick.value, 10)].segments[0]; if (s) { select(s.send, true); } });
    box.appendChild(el("label", {}, [all.length + " conversation" + (all.length === 1 ? "" : "s") + ": ", pick]));
    box.appendChild(ladder(c, e.id));
  }
  function ladder(c, selectedId) {
    var LIMIT = 300, segs = c.segments.slice(0, LIMIT);
    var W = 860, xa = 240, xb = 620, top = 50, step = 30, H = top + segs.length * step + 40;
    var s = svg("svg", {cls: "ladder", width: W, height: H, viewBox: "0 0 " + W + " " + H, "data-conversation": c.key});
    s.appendChild(svg("defs", {}, [svg("marker", {id: "ladder-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto"},
                                     [svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#1c5fb0"})])]));
    s.appendChild(svg("text", {x: xa, y: 16, "text-anchor": "middle", text: c.a.node + " " + c.a.endpoint}));
    s.appendChild(svg("text", {x: xb, y: 16, "text-anchor": "middle", text: c.b.node + " " + c.b.endpoint}));
    s.appendChild(svg("text", {cls: "state", x: xa - 10, y: 34, "text-anchor": "end", text: c.a.initial || ""}));
    s.appendChild(svg("text", {cls: "state", x: xb + 10, y: 34, text: c.b.initial || ""}));
    s.appendChild(svg("line", {cls: "lifeline", x1: xa, y1: 24, x2: xa, y2: H - 10}));
    s.appendChild(svg("line", {cls: "lifeline", x1: xb, y1: 24, x2: xb, y2: H - 10}));
    segs.forEach(function (g, i) {
      var y = top + i * step, fromA = g.dir === "a>b";
      var x1 = fromA ? xa : xb, x2 = fromA ? xb : xa;
      if (g.receive === null || g.receive === undefined) { x2 = (x1 + x2) / 2; }
      var row = svg("g", {cls: "segment-row" + (g.send === selectedId || g.receive === selectedId ? " selected" : ""), "data-event": g.send});
      row.appendChild(svg("line", {cls: "segment" + (g.receive === null || g.receive === undefined ? " lost" : ""), x1: x1, y1: y, x2: x2, y2: y + step - 8}));
      row.appendChild(svg("text", {x: (xa + xb) / 2, y: y + 8, "text-anchor": "middle", text: g.label}));
      row.appendChild(svg("text", {cls: "state", x: xa - 10, y: y + step - 6, "text-anchor": "end", text: (g.states_a || []).join(" \u2192 ")}));
      row.appendChild(svg("text", {cls: "state", x: xb + 10, y: y + step - 6, text: (g.states_b || []).join(" \u2192 ")}));
      row.appendChild(svg("title", {text: fmtTime(g.time_ns) + "  " + g.label}));
      row.style.cursor = "pointer";
      row.addEventListener("click", function () { select(g.send, true); });
      s.appendChild(row);
    });
    var wrap = el("div", {cls: "ladder-wrap"});
    wrap.appendChild(el("p", {cls: "muted", text: (c.protocol === "TCP" ? "Relative sequence numbers (from each end's initial one). " : "") +
      "Each end's state after each " + (c.protocol === "TCP" ? "segment" : "packet") + " is written beside it." +
      (c.segments.length > LIMIT ? " Showing the first " + LIMIT + " of " + c.segments.length + "." : "")}));
    wrap.appendChild(s);
    return wrap;
  }

  // -- ICMP errors against the packet they quote

  function renderIcmp(e) {
    var box = clear(document.getElementById("view-icmp"));
    var all = run.icmp_errors || [];
    if (!all.length) { box.appendChild(el("p", {cls: "muted", text: "No ICMP error in this run."})); return; }
    var mine = all.filter(function (x) { return x.event === e.id || x.quoted_event === e.id || (x.path || []).indexOf(e.id) >= 0; });
    var shown = mine.length ? mine : all.slice(0, 1);
    box.appendChild(el("p", {cls: "muted", text: all.length + " ICMP error" + (all.length === 1 ? "" : "s") + " in the run" +
      (mine.length ? "." : "; showing the first (select an error or the packet it answers to see its own).")}));
    shown.forEach(function (x) {
      var pair = el("div", {cls: "icmp-pair", "data-icmp-error": x.event});
      var err = frames[events[x.event].frame];
      var left = el("div", {}, [el("h4", {text: x.title + ", sent by " + events[x.event].node})]);
      left.appendChild(layerList(err.layers, function (l) { return l.quoted; }));
      var right = el("div", {}, [el("h4", {text: "The packet it quotes" + (x.quoted_event !== null ? ", as " + events[x.quoted_event].node + " received it" : "")})]);
      if (x.quoted_event !== null) {
        var original = frames[events[x.quoted_event].frame].layers;
        right.appendChild(layerList(original, function () { return false; }));
        right.appendChild(quoteDifferences(err.layers, original));
      }
      else { right.appendChild(el("p", {cls: "muted", text: "Not found among the run's frames."})); }
      pair.appendChild(left);
      pair.appendChild(right);
      box.appendChild(pair);
    });
  }
  // What the quote says differently from the packet as received: the device changed it before it gave up
  // (a TTL already decremented), or the quote is cut short.
  function quoteDifferences(errorLayers, original) {
    var box = el("div", {cls: "quote-differences"});
    var quoted = errorLayers.filter(function (l) { return l.quoted; });
    var lines = [];
    quoted.forEach(function (q) {
      var o = original.filter(function (l) { return l.name === q.name && !l.quoted; })[0];
      if (!o) { return; }
      q.fields.forEach(function (f) {
        var was = field(o, f.name);
        if (was !== null && String(was) !== String(f.value)) { lines.push(q.name + "." + f.name + ": quoted " + f.value + ", received " + was); }
      });
      if (q.note) { lines.push(q.note); }
    });
    box.appendChild(el("div", {cls: "frame-head", text: lines.length ? "The quote differs from the packet as received:" : "The quote matches the packet as received."}));
    lines.forEach(function (t) { box.appendChild(el("span", {cls: "sentence", text: t})); });
    return box;
  }
  function layerList(layers, emphasise) {
    var ol = el("ol", {cls: "layer-stack"});
    layers.forEach(function (l, i) {
      var li = el("li", {style: "--c:" + colour(l, i)}, [el("span", {cls: "layer-name", text: (emphasise(l) ? "quoted: " : "") + (l.title || l.name)})]);
      if (l.note) { li.appendChild(el("span", {cls: "sentence", text: l.note})); }
      ol.appendChild(li);
    });
    return ol;
  }

  // ------------------------------------------------------------------ start

  function start() {
    (window.__earlyErrors || []).forEach(window.__noteError);
    header();
    prepareTopology();
    buildTabs();
    buildFilters();
    list = document.getElementById("event-list");
    rowsBox = document.getElementById("event-rows");
    var pending = false;
    list.addEventListener("scroll", function () {
      if (pending) { return; }
      pending = true;
      requestAnimationFrame(function () { pending = false; drawRows(false); });
    });
    list.addEventListener("click", function (ev) {
      var row = ev.target.closest && ev.target.closest(".event-row");
      if (row) { select(parseInt(row.getAttribute("data-event"), 10), true); list.focus(); }
    });
    document.addEventListener("keydown", function (ev) {
      var tag = (ev.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "select" || tag === "textarea") { return; }
      var keys = {"ArrowDown": 1, "j": 1, "ArrowUp": -1, "k": -1, "PageDown": 20, "PageUp": -20};
      if (keys[ev.key] !== undefined) { step(keys[ev.key]); ev.preventDefault(); }
      else if (ev.key === "Home") { select(state.visible[0], true); ev.preventDefault(); }
      else if (ev.key === "End") { select(state.visible[state.visible.length - 1], true); ev.preventDefault(); }
    });
    var address = readAddress();
    if (address.find) {                      // #find=TEXT: the host or flow filter, for a shared link
      document.getElementById("flow-filter").value = address.find;
      filters.terms = address.find.toLowerCase().split(/\s+/).filter(Boolean);
    }
    applyFilters();
    showView(address.view || "layers");
    var first = address.event !== undefined ? parseInt(address.event, 10) : firstInteresting();
    if (events.length) { select(events[first] ? first : 0, false); }
    window.addEventListener("hashchange", function () {
      var a = readAddress();
      if (a.view) { showView(a.view); }
      if (a.event !== undefined && parseInt(a.event, 10) !== state.selected) { select(parseInt(a.event, 10), false); }
    });
    document.body.setAttribute("data-ready", "true");
  }
  function firstInteresting() {
    for (var i = 0; i < events.length; i++) { if (events[i].kind === "receive") { return i; } }
    return 0;
  }
  start();
})();
