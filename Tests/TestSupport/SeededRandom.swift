import Foundation

/// SplitMix64: a repeatable random sequence from one 64-bit seed. Every test that draws random input
/// uses it through `FuzzSeed`, so a failure names the seed that reproduces it.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The seed the sequence started from (for failure messages).
    public let seed: UInt64
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed of one randomized test: `REPLICATORD_TEST_SEED` when set (to repeat a failure), else a
/// fresh random one, and printed either way with the test's name.
public enum FuzzSeed {
    public static let variable = "REPLICATORD_TEST_SEED"

    /// Draws (or reads) the seed, prints `<test>: seed N (REPLICATORD_TEST_SEED=N repeats it)` and
    /// returns a generator started from it (its `seed` goes into failure messages).
    public static func generator(
        for test: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> SeededRandom {
        let seed = seed(environment: environment)
        print("\(test): seed \(seed) (\(variable)=\(seed) repeats it)")
        return SeededRandom(seed: seed)
    }

    /// The seed alone: the variable's value when it is a number, else a random one.
    public static func seed(environment: [String: String] = ProcessInfo.processInfo.environment) -> UInt64 {
        if let text = environment[variable], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64(Int64.max))
    }
}
