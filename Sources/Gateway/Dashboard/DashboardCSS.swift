extension DashboardAssets {
    /// Styles: system fonts only, dark theme, one column below 760 px, two-wide panels at phone width.
    static let css = #"""
:root {
  --bg: #0e1116; --card: #161b22; --line: #262d36; --text: #e6edf3; --muted: #8b949e;
  --up: #30c48d; --down: #f0575d; --accent: #4ea1ff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { padding: 12px; max-width: 1400px; margin: 0 auto; }
.top { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
h1 { font-size: 20px; margin: 4px 0; letter-spacing: .5px; }
h1 span { color: var(--accent); }
.status { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); }
.status.live .dot { background: var(--up); box-shadow: 0 0 6px var(--up); }
.status.down .dot { background: var(--down); }
.panels { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 8px; margin: 12px 0; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; min-width: 0; }
.label { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.value { font-size: 18px; font-variant-numeric: tabular-nums; margin-top: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.1fr); gap: 12px; align-items: start; }
.chart-card, .table-card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px; min-width: 0; }
.chart-card { position: sticky; top: 8px; }
.chart-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; margin-bottom: 6px; }
.chart-symbol { font-weight: 600; font-size: 18px; }
.chart-price { font-variant-numeric: tabular-nums; color: var(--muted); }
.chart-note { color: var(--muted); font-size: 12px; }
canvas { width: 100%; height: 260px; display: block; }
.table-tools { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
input[type=search] { flex: 1; min-width: 0; background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 7px 9px; font-size: 14px; }
.count { color: var(--muted); font-size: 12px; white-space: nowrap; }
.table-wrap { max-height: 70vh; overflow: auto; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { position: sticky; top: 0; background: var(--card); color: var(--muted); font-weight: 500; font-size: 12px; text-align: left; padding: 6px; border-bottom: 1px solid var(--line); }
td { padding: 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #1c232c; }
tbody tr.selected { background: #1d2a3a; }
td.sym { font-weight: 600; }
.pos { color: var(--up); } .neg { color: var(--down); }
@keyframes flash-up { from { background: rgba(48, 196, 141, .45); } to { background: transparent; } }
@keyframes flash-down { from { background: rgba(240, 87, 93, .45); } to { background: transparent; } }
td.up { animation: flash-up .7s ease-out; }
td.down { animation: flash-down .7s ease-out; }
.foot { color: var(--muted); font-size: 12px; margin: 10px 2px; }
@media (max-width: 1000px) { .panels { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
@media (max-width: 760px) {
  body { padding: 8px; }
  .layout { grid-template-columns: minmax(0, 1fr); }
  .chart-card { position: static; }
  canvas { height: 200px; }
  .wide { display: none; }
  .panels { gap: 6px; }
  .value { font-size: 15px; }
  .table-wrap { max-height: none; }
}
@media (max-width: 480px) {
  .panels { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .panel { padding: 6px 9px; }
  h1 { font-size: 18px; }
}
"""#
}
