import Hummingbird
import HummingbirdWebSocket
import Logging

/// The two push transports. Both carry the same JSON frames from the hub:
/// - `/ws` — one WebSocket text message per frame; the client sends requests
///   (`subscribe`, `unsubscribe`, `resume`) as text messages.
/// - `/sse?symbols=A,B` — Server-Sent Events, one `data:` line per frame; quote frames
///   carry an `id:` with the stream's multi-partition resume token, so a reconnecting
///   browser's `Last-Event-ID` resumes where it stopped.
extension GatewayRoutes {
    /// Symbols from a comma-separated query value; nil if one is invalid.
    static func symbols(fromQuery value: Substring?) -> [String]? {
        guard let value else { return [] }
        var symbols: [String] = []
        for part in value.split(separator: ",") {
            let symbol = String(part.trimmingSpaces)
            if symbol.isEmpty { continue }
            guard ClientRequest.isValidSymbol(symbol) else { return nil }
            symbols.append(symbol)
        }
        return symbols
    }

    func addSSERoute(to router: Router<BasicRequestContext>) {
        router.get("/sse") { request, _ -> Response in
            let permission: SymbolPermission
            switch await authorise(request) {
            case .success(let granted): permission = granted
            case .failure(let error): return Self.unauthorized(error)
            }
            let query = request.uri.queryParameters
            guard let symbols = Self.symbols(fromQuery: query["symbols"]), !symbols.isEmpty else {
                return Self.error(.badRequest, code: .badRequest, message: "symbols=A,B,... is required")
            }
            var resumeToken: ResumeToken?
            if let text = Self.lastEventID(of: request) ?? query["lastEventId"].map(String.init), !text.isEmpty {
                do {
                    resumeToken = try ResumeToken(parsing: text)
                } catch {
                    return Self.error(.badRequest, code: .badToken, message: "\(error)")
                }
            }
            let maxRate = query["maxRate"].flatMap { Int($0) }
            let hub = self.hub
            let startToken = resumeToken
            let id = await hub.connect(permission: permission, maxRate: maxRate)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    do {
                        if let startToken {
                            await hub.resume(id, token: startToken, symbols: symbols)
                        } else {
                            await hub.subscribe(id, symbols: symbols)
                        }
                        var cursor = startToken ?? ResumeToken()
                        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                        while let frames = await hub.nextFrames(for: id) {
                            var buffer = ByteBuffer()
                            for frame in frames {
                                if let partition = frame.partition {
                                    cursor.advance(partition: partition, offset: frame.offset)
                                    buffer.writeString("id: \(cursor.text)\n")
                                }
                                buffer.writeString("data: ")
                                buffer.writeBytes(frame.bytes)
                                buffer.writeString("\n\n")
                            }
                            try await writer.write(buffer)
                        }
                        await hub.disconnect(id)
                        try await writer.finish(nil)
                    } catch {
                        await hub.disconnect(id)
                        throw error
                    }
                }
            )
        }
    }

    func addWebSocketRoute(to router: Router<BasicWebSocketRequestContext>) {
        let hub = self.hub
        let auth = self.auth
        let maxRequestBytes = configuration.maxRequestBytes
        // Credentials are checked before upgrading: a refused upgrade falls through to
        // the HTTP router's `/ws` route, which answers 401.
        router.ws("/ws", shouldUpgrade: { request, _ in
            (try? await auth.authorise(token: Self.accessToken(of: request))) != nil ? .upgrade([:]) : .dontUpgrade
        }) { inbound, outbound, context in
            let request = context.request
            let permission: SymbolPermission
            do {
                permission = try await auth.authorise(token: Self.accessToken(of: request))
            } catch {
                let frame = ServerFrame.error(code: .unauthorized, message: "\(error)")
                try await Self.write(frame, to: outbound)
                try await outbound.close(.policyViolation, reason: "unauthorized")
                return
            }
            let query = request.uri.queryParameters
            let id = await hub.connect(permission: permission, maxRate: query["maxRate"].flatMap { Int($0) })
            if let symbols = Self.symbols(fromQuery: query["symbols"]), !symbols.isEmpty {
                await hub.subscribe(id, symbols: symbols)
            }
            // The writer runs as a child task; this task reads requests until the
            // client closes, then disconnects, which ends the writer.
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        while let frames = await hub.nextFrames(for: id) {
                            for frame in frames { try await Self.write(frame, to: outbound) }
                            if await hub.hasOverflowed(id) {
                                await hub.disconnect(id)
                                try await outbound.close(.policyViolation, reason: "requests sent faster than answers are read")
                                return
                            }
                        }
                        // Disconnected by the hub (shutdown) or by the reader below.
                        try? await outbound.close(.goingAway, reason: nil)
                    } catch {
                        await hub.disconnect(id)
                    }
                }
                do {
                    for try await message in inbound.messages(maxSize: maxRequestBytes) {
                        switch message {
                        case .text(let text):
                            await hub.handle(requestBytes: Array(text.utf8), from: id)
                        case .binary(let buffer):
                            await hub.handle(requestBytes: Array(buffer.readableBytesView), from: id)
                        }
                    }
                } catch {
                    context.logger.debug("websocket read ended", metadata: ["client": "\(id)", "error": "\(error)"])
                }
                await hub.disconnect(id)
                await group.waitForAll()
            }
        }
    }

    /// The `Last-Event-ID` header a reconnecting EventSource sends.
    static func lastEventID(of request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
    }

    /// One frame as one WebSocket text message, written from the frame's bytes as
    /// they are (no String round trip).
    static func write(_ frame: ServerFrame, to outbound: WebSocketOutboundWriter) async throws {
        let buffer = ByteBuffer(bytes: frame.bytes)
        try await outbound.withTextMessageWriter { writer in try await writer(buffer) }
    }
}

