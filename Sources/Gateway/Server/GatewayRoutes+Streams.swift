import Hummingbird
import Logging

/// Server-Sent Events, the push transport for browsers that want plain HTTP (the
/// WebSocket one, `/ws`, is `PushConnection` on a shard):
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
                                buffer.writeImmutableBuffer(frame.payload)
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

    /// The `Last-Event-ID` header a reconnecting EventSource sends.
    static func lastEventID(of request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
    }
}
