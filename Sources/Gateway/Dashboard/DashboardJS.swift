extension DashboardAssets {
    /// The dashboard's script: WebSocket stream with resume, price table with
    /// flashes, canvas chart (history + live), system panels. Hand-written, no libraries.
    static let javaScript = #"""
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const accessToken = params.get("token");
  const maxRate = params.get("maxRate") || "4";
  const $ = (id) => document.getElementById(id);
  const quotes = new Map();      // symbol -> latest quote
  const opens = new Map();       // symbol -> first price seen (for change)
  const rows = new Map();        // symbol -> {tr, cells}
  const dirty = new Map();       // symbol -> direction (+1 / -1 / 0) awaiting paint
  const cursor = new Map();      // partition -> last offset seen (resume token)
  let selected = params.get("symbol");
  let series = [];               // [{t: ms, p: price}] of the selected symbol
  let ws = null, retryMs = 1000, painting = false, subscribedAll = false;

  function withToken(path) {
    const url = new URL(path, location.href);
    if (accessToken) url.searchParams.set("token", accessToken);
    return url.toString();
  }
  function fmt(n, digits) { return Number(n).toFixed(digits); }
  function compact(n) {
    if (n == null) return "–";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }
  // "12.3 / 45.6 ms", or in seconds once the p99 reaches one, so it fits a phone-width panel.
  function latencyPair(p50, p99) {
    return p99 >= 1000 ? fmt(p50 / 1000, 2) + " / " + fmt(p99 / 1000, 2) + " s" : fmt(p50, 1) + " / " + fmt(p99, 1) + " ms";
  }
  function setStatus(kind, text) { $("status").className = "status " + kind; $("status-text").textContent = text; }
  function tokenText() { return [...cursor.entries()].sort((a, b) => a[0] - b[0]).map(([p, o]) => p + ":" + o).join(","); }
  function noteToken(token) {
    if (!token) return;
    for (const pair of token.split(",")) {
      const [p, o] = pair.split(":").map(Number);
      if (!(cursor.get(p) >= o)) cursor.set(p, o);
    }
  }

  // ---- table ----
  function rowFor(sym) {
    let row = rows.get(sym);
    if (row) return row;
    const tr = document.createElement("tr");
    const cells = {};
    for (const [key, cls] of [["sym", "sym"], ["last", "num"], ["bid", "num wide"], ["ask", "num wide"], ["chg", "num"], ["vol", "num wide"]]) {
      const td = document.createElement("td"); td.className = cls; tr.appendChild(td); cells[key] = td;
    }
    cells.sym.textContent = sym;
    tr.addEventListener("click", () => select(sym));
    row = { tr, cells };
    rows.set(sym, row);
    const body = $("rows");
    const after = [...rows.keys()].sort().find((s) => s > sym);
    body.insertBefore(tr, after ? rows.get(after).tr : null);
    applyFilter(row, sym);
    $("count").textContent = rows.size + " symbols";
    return row;
  }
  function applyFilter(row, sym) {
    const f = $("filter").value.trim().toUpperCase();
    row.tr.style.display = !f || sym.toUpperCase().includes(f) ? "" : "none";
  }
  function paint() {
    painting = false;
    for (const [sym, dir] of dirty) {
      const q = quotes.get(sym); if (!q) continue;
      const row = rowFor(sym), c = row.cells;
      c.last.textContent = fmt(q.last, 2); c.bid.textContent = fmt(q.bid, 2); c.ask.textContent = fmt(q.ask, 2);
      c.vol.textContent = compact(q.vol);
      const open = opens.get(sym), chg = open ? (q.last - open) / open * 100 : 0;
      c.chg.textContent = (chg >= 0 ? "+" : "") + fmt(chg, 2) + "%";
      c.chg.className = "num " + (chg > 0 ? "pos" : chg < 0 ? "neg" : "");
      if (dir !== 0) {
        c.last.classList.remove("up", "down"); void c.last.offsetWidth;
        c.last.classList.add(dir > 0 ? "up" : "down");
      }
      row.tr.classList.toggle("selected", sym === selected);
    }
    dirty.clear();
    if (selected) { const q = quotes.get(selected); if (q) $("chart-price").textContent = fmt(q.last, 2); }
    drawChart();
  }
  function schedulePaint() { if (!painting) { painting = true; requestAnimationFrame(paint); } }

  function applyQuote(q, live) {
    if (!q || !q.sym) return;
    const prev = quotes.get(q.sym);
    if (prev && prev.seq >= q.seq) return;
    quotes.set(q.sym, q);
    if (!opens.has(q.sym)) opens.set(q.sym, q.last);
    const dir = prev ? Math.sign(q.last - prev.last) : 0;
    dirty.set(q.sym, live ? dir : 0);
    if (q.sym === selected) { series.push({ t: q.ts / 1e6, p: q.last }); if (series.length > 3000) series.splice(0, series.length - 3000); }
    if (!selected) select(q.sym);
    schedulePaint();
  }

  // ---- chart ----
  async function select(sym) {
    if (selected === sym && series.length) return;
    selected = sym; series = [];
    $("chart-symbol").textContent = sym;
    for (const [s, r] of rows) r.tr.classList.toggle("selected", s === sym);
    const q = quotes.get(sym);
    if (q) series.push({ t: q.ts / 1e6, p: q.last });
    $("chart-note").textContent = "live";
    const sinceNs = (Date.now() - 15 * 60 * 1000) * 1e6;
    try {
      const res = await fetch(withToken("/api/history?symbol=" + encodeURIComponent(sym) + "&since=" + sinceNs + "&limit=3000"));
      if (res.ok && selected === sym) {
        const rows = await res.json();
        const hist = rows.map((r) => ({ t: r.ts / 1e6, p: r.last }));
        const firstLive = series.length ? series[0].t : Infinity;
        series = hist.filter((x) => x.t < firstLive).concat(series);
        $("chart-note").textContent = "15 min history + live";
      } else if (res.status === 501) {
        $("chart-note").textContent = "live (no history store)";
      }
    } catch (e) { /* live only */ }
    schedulePaint();
  }
  function drawChart() {
    const canvas = $("chart"), ctx = canvas.getContext("2d");
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue("--muted"), line = css.getPropertyValue("--line");
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = muted;
    if (series.length < 2) { ctx.fillText(selected ? "waiting for updates…" : "no symbol selected", 10, h / 2); return; }
    let lo = Infinity, hi = -Infinity;
    for (const s of series) { lo = Math.min(lo, s.p); hi = Math.max(hi, s.p); }
    if (hi === lo) { hi += 0.01; lo -= 0.01; }
    const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
    const t0 = series[0].t, t1 = series[series.length - 1].t || t0 + 1;
    const left = 4, right = w - 56, top = 8, bottom = h - 18;
    const x = (t) => left + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (right - left);
    const y = (p) => bottom - (p - lo) / (hi - lo) * (bottom - top);
    ctx.strokeStyle = line; ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const p = lo + (hi - lo) * i / 4, yy = Math.round(y(p)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(right, yy); ctx.stroke();
      ctx.fillText(fmt(p, 2), right + 6, yy + 4);
    }
    const fmtTime = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    ctx.fillText(fmtTime(t0), left, h - 4);
    const endLabel = fmtTime(t1); ctx.fillText(endLabel, right - ctx.measureText(endLabel).width, h - 4);
    const rising = series[series.length - 1].p >= series[0].p;
    const color = css.getPropertyValue(rising ? "--up" : "--down");
    ctx.beginPath();
    series.forEach((s, i) => (i ? ctx.lineTo(x(s.t), y(s.p)) : ctx.moveTo(x(s.t), y(s.p))));
    ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.stroke();
    ctx.lineTo(x(t1), bottom); ctx.lineTo(x(t0), bottom); ctx.closePath();
    ctx.globalAlpha = 0.12; ctx.fillStyle = color; ctx.fill(); ctx.globalAlpha = 1;
  }

  // ---- stream ----
  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let url = proto + "//" + location.host + "/ws?batch=1&maxRate=" + encodeURIComponent(maxRate);
    if (accessToken) url += "&token=" + encodeURIComponent(accessToken);
    ws = new WebSocket(url);
    ws.onopen = () => {
      retryMs = 1000; setStatus("live", "live"); setTimeout(pollStats, 300);
      const symbols = subscribedAll || !quotes.size ? ["*"] : [...quotes.keys()];
      if (cursor.size) send({ op: "resume", token: tokenText(), symbols });
      else send({ op: "subscribe", symbols });
    };
    ws.onmessage = (event) => {
      let msg; try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "batch") msg.frames.forEach(handleFrame); else handleFrame(msg);
    };
    function handleFrame(msg) {
      switch (msg.type) {
        case "snapshot": noteToken(msg.token); applyQuote(msg.quote, false); break;
        case "update": noteToken(msg.token); applyQuote(msg.quote, true); break;
        case "gap": $("foot").textContent = "gap on partitions " + msg.partitions.join(",") + " (" + msg.reason + "), refreshed"; break;
        case "stats": $("foot").textContent = "heartbeat " + new Date(msg.ts).toLocaleTimeString() + " · " + msg.subscribed + " symbols · " + msg.conflated + " conflated for this page"; break;
        case "error":
          if (msg.code === "forbidden" && msg.symbols && msg.symbols.includes("*")) { subscribeAllowed(); break; }
          $("foot").textContent = "error: " + msg.message; break;
      }
    }
    ws.onclose = () => {
      setStatus("down", "reconnecting…");
      setTimeout(connect, retryMs); retryMs = Math.min(retryMs * 2, 15000);
    };
  }
  async function subscribeAllowed() {
    try {
      const res = await fetch(withToken("/api/quotes/latest"));
      if (!res.ok) { $("foot").textContent = "not authorised (" + res.status + ")"; return; }
      const list = await res.json();
      subscribedAll = false;
      list.forEach((q) => applyQuote(q, false));
      send({ op: "subscribe", symbols: list.map((q) => q.sym) });
    } catch (e) { /* stream goes on */ }
  }
  subscribedAll = true;

  // ---- panels ----
  // One poll chain: a poll asked for while one is in flight is dropped, and each poll
  // replaces the pending timer (the socket opening asks for one so the page counts itself).
  let statsTimer = null, statsBusy = false;
  async function pollStats() {
    if (statsBusy) return;
    statsBusy = true; clearTimeout(statsTimer);
    try {
      const res = await fetch("/api/stats");
      if (res.ok) {
        const s = await res.json();
        $("p-quotes").textContent = compact(s.quotesPerSecond);
        $("p-clients").textContent = compact(s.clients);
        $("p-frames").textContent = compact(s.framesPerSecond);
        $("p-conflated").textContent = compact(s.conflated);
        const p50 = s.swarm && s.swarm.p50Millis, p99 = s.swarm && s.swarm.p99Millis;
        $("p-swarm").textContent = p50 == null ? "–" : latencyPair(p50, p99 == null ? 0 : p99);
        $("p-sink").textContent = s.sinkLag == null ? "–" : compact(s.sinkLag);
      }
    } catch (e) { /* next poll */ }
    statsBusy = false;
    statsTimer = setTimeout(pollStats, 2000);
  }

  $("filter").addEventListener("input", () => { for (const [s, r] of rows) applyFilter(r, s); });
  window.addEventListener("resize", schedulePaint);
  connect();
  if (selected) select(selected);
  pollStats();
})();
"""#
}
