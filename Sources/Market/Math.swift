// The elementary functions (log, exp) come from the C library, not Foundation,
// so the Market module stays free of Foundation on its hot paths.
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@inline(__always)
func naturalLog(_ x: Double) -> Double { log(x) }

@inline(__always)
func naturalExp(_ x: Double) -> Double { exp(x) }

@inline(__always)
func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
