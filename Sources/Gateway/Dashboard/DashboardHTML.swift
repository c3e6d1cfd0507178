extension DashboardAssets {
    /// The dashboard page. Everything it loads comes from this gateway.
    static let indexHTML = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tickstream · live prices</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M1 12l4-5 3 3 6-8' stroke='%2330c48d' stroke-width='2' fill='none'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<header class="top">
  <h1>tick<span>stream</span></h1>
  <div class="status" id="status"><span class="dot"></span><span id="status-text">connecting…</span></div>
</header>
<section class="panels" aria-label="System">
  <div class="panel"><div class="label">Quotes/s in</div><div class="value" id="p-quotes">–</div></div>
  <div class="panel"><div class="label">Clients</div><div class="value" id="p-clients">–</div></div>
  <div class="panel"><div class="label">Frames/s out</div><div class="value" id="p-frames">–</div></div>
  <div class="panel"><div class="label">Conflated</div><div class="value" id="p-conflated">–</div></div>
  <div class="panel"><div class="label">Swarm p50 / p99</div><div class="value" id="p-swarm">–</div></div>
  <div class="panel"><div class="label">Sink lag</div><div class="value" id="p-sink">–</div></div>
</section>
<main class="layout">
  <section class="chart-card" aria-label="Chart">
    <div class="chart-head">
      <div><span class="chart-symbol" id="chart-symbol">–</span> <span class="chart-price" id="chart-price"></span></div>
      <div class="chart-note" id="chart-note">select a symbol</div>
    </div>
    <canvas id="chart" height="260"></canvas>
  </section>
  <section class="table-card" aria-label="Prices">
    <div class="table-tools">
      <input id="filter" type="search" placeholder="Filter symbols" autocomplete="off" spellcheck="false">
      <span class="count" id="count">0 symbols</span>
    </div>
    <div class="table-wrap">
      <table>
        <thead><tr><th>Symbol</th><th class="num">Last</th><th class="num wide">Bid</th><th class="num wide">Ask</th><th class="num">Chg</th><th class="num wide">Vol</th></tr></thead>
        <tbody id="rows"></tbody>
      </table>
    </div>
  </section>
</main>
<footer class="foot" id="foot">waiting for quotes…</footer>
<script src="/assets/dashboard.js"></script>
</body>
</html>
"""#
}
