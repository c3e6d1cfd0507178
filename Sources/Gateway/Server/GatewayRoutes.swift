import Hummingbird
import Logging

/// The HTTP side of the gateway: dashboard, static assets and JSON/text APIs.
/// Streams (SSE, WebSocket) live in `GatewayRoutes+Streams.swift`.
struct GatewayRoutes: Sendable {
    let hub: QuoteHub
    let stats: GatewayStats
    let auth: GatewayAuth
    let history: (any HistoryQuerying)?
    let configuration: GatewayConfiguration
    let logger: Logger

    func addHTTPRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.asset(DashboardAssets.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/index.html") { _, _ in Self.asset(DashboardAssets.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/assets/dashboard.css") { _, _ in Self.asset(DashboardAssets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/dashboard.js") { _, _ -> Response in
            Self.asset(DashboardAssets.javaScript, type: "text/javascript; charset=utf-8")
        }
        router.get("/healthz") { _, _ in Self.text("ok\n", type: "text/plain; charset=utf-8") }
        router.get("/metrics") { _, _ -> Response in
            var snapshot = stats.snapshot
            snapshot.counters = await hub.currentCounters()
            return Self.text(snapshot.prometheusText, type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/stats") { _, _ -> Response in
            var snapshot = stats.snapshot
            snapshot.counters = await hub.currentCounters()
            return Self.text(snapshot.json, type: "application/json")
        }
        router.get("/api/quotes/latest") { request, _ -> Response in
            let permission: SymbolPermission
            switch await authorise(request) {
            case .success(let granted): permission = granted
            case .failure(let error): return Self.unauthorized(error)
            }
            let quotes = await hub.latestQuotes(permission: permission)
            return Self.json(JSONText.array(ofRaw: quotes))
        }
        router.get("/api/history") { request, _ in await historyResponse(request) }
        // Reached only when a WebSocket upgrade was refused or not asked for.
        router.get("/ws") { request, _ -> Response in
            if case .failure(let error) = await authorise(request) { return Self.unauthorized(error) }
            return Self.error(.upgradeRequired, code: .badRequest, message: "/ws needs a WebSocket upgrade")
        }
        addSSERoute(to: router)
    }

    /// `/api/history?symbol=AAPL&since=<unix ns>&limit=N`: a JSON array of quotes.
    private func historyResponse(_ request: Request) async -> Response {
        let permission: SymbolPermission
        switch await authorise(request) {
        case .success(let granted): permission = granted
        case .failure(let error): return Self.unauthorized(error)
        }
        guard let history else {
            return Self.error(.notImplemented, code: .badRequest, message: "history is not configured on this gateway")
        }
        let query = request.uri.queryParameters
        guard let symbol = query["symbol"].map(String.init), ClientRequest.isValidSymbol(symbol), symbol != "*" else {
            return Self.error(.badRequest, code: .badRequest, message: "symbol= is required")
        }
        guard permission.allows(symbol) else {
            return Self.error(.forbidden, code: .forbidden, message: "not authorised for \(symbol)")
        }
        let since = query["since"].flatMap { Int64($0) } ?? 0
        let limit = min(configuration.historyLimit, query["limit"].flatMap { Int($0) }.map { max(1, $0) } ?? configuration.historyLimit)
        do {
            let rows = try await history.history(symbol: symbol, sinceNs: since, limit: limit)
            return Self.json(JSONText.array(ofRaw: rows))
        } catch {
            logger.warning("history query failed", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
            return Self.error(.internalServerError, code: .badRequest, message: "history query failed")
        }
    }

    // MARK: Auth

    /// The raw access token of a request: `?token=` or `Authorization: Bearer <token>`.
    static func accessToken(of request: Request) -> String? {
        if let token = request.uri.queryParameters["token"], !token.isEmpty { return String(token) }
        if let header = request.headers[.authorization] {
            let prefix = "Bearer "
            if header.hasPrefix(prefix) { return String(header.dropFirst(prefix.count)) }
        }
        return nil
    }

    func authorise(_ request: Request) async -> Result<SymbolPermission, GatewayAuthError> {
        do {
            return .success(try await auth.authorise(token: Self.accessToken(of: request)))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Responses

    static func asset(_ body: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }

    static func text(_ body: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static func error(_ status: HTTPResponse.Status, code: ErrorCode, message: String) -> Response {
        json(ServerFrame.error(code: code, message: message).bytes, status: status)
    }

    static func unauthorized(_ error: GatewayAuthError) -> Response {
        var response = Self.error(.unauthorized, code: .unauthorized, message: error.description)
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}
