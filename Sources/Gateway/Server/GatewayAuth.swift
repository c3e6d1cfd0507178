import Foundation
import JWTKit

/// The claims of a gateway access token (JWT, HS256).
///
/// `{"sub":"alice","symbols":["AAPL","MSFT"],"exp":1732460000}` — `symbols` lists the
/// symbols the holder may subscribe to (`"*"` = all); `exp` is required.
public struct GatewayClaims: JWTPayload, Equatable {
    public var subject: SubjectClaim?
    public var symbols: [String]
    public var expiration: ExpirationClaim

    enum CodingKeys: String, CodingKey {
        case subject = "sub"
        case symbols
        case expiration = "exp"
    }

    public init(subject: String? = nil, symbols: [String], expiresAt: Date) {
        self.subject = subject.map { SubjectClaim(value: $0) }
        self.symbols = symbols
        self.expiration = ExpirationClaim(value: expiresAt)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try expiration.verifyNotExpired()
    }
}

/// Why a request's credentials were refused.
public enum GatewayAuthError: Error, Hashable, CustomStringConvertible {
    /// A secret is configured but the request carried no token.
    case missingToken
    /// The token failed verification (signature, format or expiry); `reason` says which.
    case invalidToken(reason: String)

    public var description: String {
        switch self {
        case .missingToken: return "an access token is required (?token= or Authorization: Bearer)"
        case .invalidToken(let reason): return "invalid access token: \(reason)"
        }
    }
}

/// Verifies access tokens (and mints them for the CLI and tests).
///
/// Without a secret every request is allowed every symbol. With one, a request must
/// carry a valid HS256 token whose `symbols` claim bounds what it may subscribe to.
public struct GatewayAuth: Sendable {
    private let keys: JWTKeyCollection?

    /// `secret` nil or empty disables authentication.
    public init(secret: String?) async {
        if let secret, !secret.isEmpty {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            self.keys = keys
        } else {
            self.keys = nil
        }
    }

    /// Whether tokens are checked at all.
    public var isEnabled: Bool { keys != nil }

    /// The permission a request's token grants; `token` is the raw JWT text, if any.
    public func authorise(token: String?) async throws(GatewayAuthError) -> SymbolPermission {
        guard let keys else { return .all }
        guard let token, !token.isEmpty else { throw .missingToken }
        do {
            let claims = try await keys.verify(token, as: GatewayClaims.self)
            return SymbolPermission(claim: claims.symbols)
        } catch let error as JWTError {
            throw .invalidToken(reason: error.errorType.description)
        } catch {
            throw .invalidToken(reason: "\(error)")
        }
    }

    /// Signs an access token with `secret` (HS256).
    public static func mintToken(secret: String, symbols: [String], expiresAt: Date, subject: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(GatewayClaims(subject: subject, symbols: symbols, expiresAt: expiresAt))
    }
}
