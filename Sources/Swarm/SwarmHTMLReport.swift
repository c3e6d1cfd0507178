import Foundation

/// A self-contained HTML page for a swarm run: inline CSS and SVG charts, no
/// scripts, no fetches, so it opens from a file anywhere.
///
/// Charts: the latency percentile distribution (x axis `1/(1 − percentile)` on a
/// log scale, as HdrHistogram plots it, so 90%, 99%, 99.9% are evenly spaced),
/// deliveries per second over time, and p50/p99 latency over time.
public enum SwarmHTMLReport {
    public static func render(_ summary: SwarmSummary, title: String = "tickstream swarm report") -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font:14px/1.4 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2430;background:#fafbfc}
            h1{font-size:20px}h2{font-size:16px;margin-top:28px}
            table{border-collapse:collapse}td,th{padding:3px 12px;text-align:left;border-bottom:1px solid #e3e6ea}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            svg{background:#fff;border:1px solid #e3e6ea}
            .lost{color:#b42318}
            </style></head><body>
            <h1>\(escape(title))</h1>

            """
        html += summaryTable(summary)
        html += "<h2>Latency percentile distribution</h2>\n" + distributionChart(summary.latency)
        let seconds = summary.timeline.map { Double($0.second + 1) }
        html += "<h2>Throughput</h2>\n" + lineChart(
            series: [Series(name: "deliveries/s", color: "#2f6fdb", points: Array(zip(seconds, summary.timeline.map { Double($0.counters.deliveries) })))],
            xLabel: "second of the run", yLabel: "deliveries/s", yFormat: { formatDecimal($0, places: 0) })
        html += "<h2>Latency over time</h2>\n" + lineChart(
            series: [
                Series(name: "p50", color: "#2f9e44", points: Array(zip(seconds, summary.timeline.map { Double($0.latency.micros(atPercentile: 50)) / 1000 }))),
                Series(name: "p99", color: "#d9480f", points: Array(zip(seconds, summary.timeline.map { Double($0.latency.micros(atPercentile: 99)) / 1000 }))),
            ],
            xLabel: "second of the run", yLabel: "latency (ms)", yFormat: { formatDecimal($0, places: $0 < 10 ? 2 : 0) })
        if !summary.configuration.isEmpty {
            html += "<h2>Configuration</h2>\n<table>"
            for key in summary.configuration.keys.sorted() {
                html += "<tr><th>\(escape(key))</th><td>\(escape(summary.configuration[key] ?? ""))</td></tr>"
            }
            html += "</table>\n"
        }
        html += "</body></html>\n"
        return html
    }

    private static func summaryTable(_ summary: SwarmSummary) -> String {
        let totals = summary.totals
        var rows: [(String, String)] = [
            ("transport", summary.transportDescription),
            ("clients", "\(summary.clients) in \(summary.workers) worker process(es)"),
            ("duration", "\(formatDecimal(summary.durationSeconds, places: 1)) s"),
            ("deliveries", "\(totals.deliveries) (\(formatDecimal(summary.deliveriesPerSecond, places: 1))/s; \(totals.catchUpDeliveries) catch-up)"),
            ("received", "\(totals.records) records, \(totals.bytes) bytes (\(formatBytes(summary.bytesPerSecond))/s)"),
        ]
        for (label, percentile) in SwarmSummary.reportedPercentiles {
            rows.append(("latency \(label)", formatMicros(summary.latency.micros(atPercentile: percentile))))
        }
        rows.append(("latency max", formatMicros(summary.latency.maxMicros)))
        rows.append(("gaps", "\(totals.gaps) (\(totals.missingQuotes) quotes missing)"))
        rows.append(("duplicates", "\(totals.duplicates)"))
        rows.append(("reconnects", "\(totals.reconnects)"))
        rows.append(("pauses", "\(totals.pauses)"))
        if summary.showsGatewayCounters {
            rows.append(("snapshots", "\(totals.snapshots)"))
            rows.append(("gateway gap frames", "\(totals.gatewayGaps)"))
            rows.append(("conflated (slow clients)", "\(totals.conflated) quotes; \(totals.conflatedSkips) seq skips explained, not in gaps"))
        }
        var table = "<table>\n"
        for (name, value) in rows {
            table += "<tr><th>\(escape(name))</th><td class=\"n\">\(escape(value))</td></tr>\n"
        }
        table += "<tr><th>workers lost</th><td class=\"n\(summary.lostWorkers.isEmpty ? "" : " lost")\">\(summary.lostWorkers.count)</td></tr>\n"
        for lost in summary.lostWorkers {
            table += "<tr><td class=\"lost\" colspan=\"2\">worker \(lost.worker): \(escape(lost.reason)) — figures are partial</td></tr>\n"
        }
        return table + "</table>\n"
    }

    struct Series {
        var name: String
        var color: String
        var points: [(Double, Double)]
    }

    static let width = 760.0
    static let height = 300.0
    static let left = 70.0
    static let right = 20.0
    static let top = 20.0
    static let bottom = 40.0

    private static func distributionChart(_ latency: LatencyHistogram) -> String {
        // x = log10(1 / (1 - p)), capped at 99.9999%.
        let cap = 6.0
        let points = latency.distribution().map { point -> (Double, Double) in
            let remaining = max(1 - point.percentile / 100, 1e-6)
            return (min(log10(1 / remaining), cap), Double(point.micros) / 1000)
        }
        let maxX = max(points.map(\.0).max() ?? 3, 3).rounded(.up)
        var ticks: [(Double, String)] = [(0, "0%")]
        let labels = ["90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
        for decade in 1...Int(maxX) where decade <= labels.count {
            ticks.append((Double(decade), labels[decade - 1]))
        }
        return lineChart(series: [Series(name: "latency", color: "#7048e8", points: points)],
                         xLabel: "percentile", yLabel: "latency (ms)", xRange: 0...maxX, xTicks: ticks,
                         yFormat: { formatDecimal($0, places: $0 < 10 ? 2 : 0) }, step: true)
    }

    private static func lineChart(series: [Series], xLabel: String, yLabel: String, xRange: ClosedRange<Double>? = nil,
                                  xTicks: [(Double, String)]? = nil, yFormat: (Double) -> String, step: Bool = false) -> String {
        let allPoints = series.flatMap(\.points)
        let xs = allPoints.map(\.0)
        let range = xRange ?? ((xs.min() ?? 0)...max(xs.max() ?? 1, (xs.min() ?? 0) + 1))
        let maxY = niceCeiling(allPoints.map(\.1).max() ?? 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - range.lowerBound) / (range.upperBound - range.lowerBound) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - y / maxY * plotHeight }
        func f(_ v: Double) -> String { formatDecimal(v, places: 1) }

        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(yLabel)) by \(escape(xLabel))\">\n"
        for i in 0...4 {
            let y = maxY * Double(i) / 4
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(y)))\" stroke=\"#eef0f3\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5c6370\">\(escape(yFormat(y)))</text>\n"
        }
        let ticks = xTicks ?? (0...5).map { i -> (Double, String) in
            let x = range.lowerBound + (range.upperBound - range.lowerBound) * Double(i) / 5
            return (x, formatDecimal(x, places: 0))
        }
        for (x, label) in ticks {
            svg += "<text x=\"\(f(px(x)))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5c6370\">\(escape(label))</text>"
        }
        svg += "\n<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" y2=\"\(f(height - bottom))\" stroke=\"#9aa1ab\"/>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"#9aa1ab\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg += "<text x=\"14\" y=\"\(f(top + plotHeight / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        if allPoints.isEmpty {
            svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#9aa1ab\">no data</text>\n"
        }
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            var path = ""
            var previousY: Double?
            for (x, y) in line.points {
                if path.isEmpty {
                    path = "M\(f(px(x))) \(f(py(y)))"
                } else if step, let previousY, previousY != y {
                    path += " L\(f(px(x))) \(f(py(previousY))) L\(f(px(x))) \(f(py(y)))"
                } else {
                    path += " L\(f(px(x))) \(f(py(y)))"
                }
                previousY = y
            }
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\"/>\n"
            let legendX = width - right - 110
            let legendY = top + 14 + Double(index) * 16
            svg += "<rect x=\"\(f(legendX))\" y=\"\(f(legendY - 9))\" width=\"12\" height=\"3\" fill=\"\(line.color)\"/>"
            svg += "<text x=\"\(f(legendX + 18))\" y=\"\(f(legendY - 4))\" font-size=\"11\">\(escape(line.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// 1, 2, 5 × 10^n at or above `value`.
    private static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
