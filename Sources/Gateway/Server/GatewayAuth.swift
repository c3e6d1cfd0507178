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
    /// The configured HS256 secret is shorter than the 32 bytes of the hash output.
    case secretTooShort(bytes: Int)

    public var description: String {
        switch self {
        case .missingToken: return "an access token is required (?token= or Authorization: Bearer)"
        case .invalidToken(let reason): return "invalid access token: \(reason)"
        case .secretTooShort(let bytes): return "token secret has \(bytes) bytes; HS256 needs at least \(GatewayAuth.minimumSecretBytes)"
        }
    }
}

/// Verifies access tokens (and mints them for the CLI and tests).
///
/// Without a secret every request is allowed every symbol. With one, a request must
/// carry a valid HS256 token whose `symbols` claim bounds what it may subscribe to.
public struct GatewayAuth: Sendable {
    private let keys: JWTKeyCollection?

    /// Shortest secret accepted: HS256 keys must be at least as long as its output.
    public static let minimumSecretBytes = 32

    /// `secret` nil or empty disables authentication; a shorter one than
    /// `minimumSecretBytes` is refused.
    public init(secret: String?) async throws(GatewayAuthError) {
        if let secret, !secret.isEmpty {
            guard secret.utf8.count >= Self.minimumSecretBytes else { throw .secretTooShort(bytes: secret.utf8.count) }
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

    /// Signs an access token with `secret` (HS256, at least `minimumSecretBytes`).
    public static func mintToken(secret: String, symbols: [String], expiresAt: Date, subject: String? = nil) async throws -> String {
        guard secret.utf8.count >= minimumSecretBytes else { throw GatewayAuthError.secretTooShort(bytes: secret.utf8.count) }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(GatewayClaims(subject: subject, symbols: symbols, expiresAt: expiresAt))
    }
}
