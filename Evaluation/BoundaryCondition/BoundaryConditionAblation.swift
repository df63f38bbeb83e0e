// The BC paper's ablations answered from score matrices, without running the network again
// (docs/boundary-condition.md): Fig. 3 (how the gain of x̃_T grows with the number of
// references R and of candidates K) and App. E (how well the candidates' score sequences on
// two references agree). A search with K candidates on R references gives the matrix
// S[k][i]; scoring the same candidates (same seed, so the same x_T^k) on held-out test
// patches gives T[k][j]. A subset of candidates and references picks its winner from S, and
// the winner's mean over T is what that subset's x̃_T achieves on the test patches.
import Foundation
import Grad

public enum BoundaryConditionAblation {
    /// One setting of an ablation: the test score of the subset's winner, mean and sample
    /// standard deviation over the draws, and the gain over a random x_T (the mean test
    /// score of all candidates, the expected score of x_T ~ N(0, I)).
    public struct Point: Sendable, Equatable {
        public var candidates: Int
        public var references: Int
        public var draws: [Double]
        public var mean: Double
        public var standardDeviation: Double
        public var gainOverRandom: Double
    }

    /// For each (K, R) in `settings`, `draws` random subsets (K of the candidates, R of the
    /// references, without replacement, from `seed`); the winner of each by its mean score
    /// on the subset's references, and its mean test score.
    /// - Parameters: `search[k][i]` and `test[k][j]` for the same candidates k.
    public static func subsetWinners(search: [[Double]], test: [[Double]], lowerIsBetter: Bool,
                                     settings: [(candidates: Int, references: Int)], draws: Int, seed: UInt64) throws -> [Point] {
        guard !search.isEmpty, search.count == test.count else {
            throw EvaluationInputError("the search and test score matrices must hold the same candidates (\(search.count) and \(test.count))")
        }
        let testMeans = test.map { mean($0) }
        let random = mean(testMeans)
        var rng = RandomGenerator(seed: seed)
        return try settings.map { setting in
            guard setting.candidates >= 1, setting.candidates <= search.count,
                  setting.references >= 1, setting.references <= search[0].count else {
                throw EvaluationInputError("ablation K = \(setting.candidates), R = \(setting.references) exceeds the search's "
                    + "\(search.count) candidates × \(search[0].count) references")
            }
            let values = (0..<draws).map { _ -> Double in
                let ks = sample(setting.candidates, of: search.count, using: &rng)
                let rs = sample(setting.references, of: search[0].count, using: &rng)
                var best = ks[0], bestScore = mean(rs.map { search[ks[0]][$0] })
                for k in ks.dropFirst() {
                    let s = mean(rs.map { search[k][$0] })
                    if lowerIsBetter ? s < bestScore : s > bestScore { best = k; bestScore = s }
                }
                return testMeans[best]
            }
            let m = mean(values)
            return Point(candidates: setting.candidates, references: setting.references, draws: values, mean: m,
                         standardDeviation: standardDeviation(values), gainOverRandom: lowerIsBetter ? random - m : m - random)
        }
    }

    /// Pearson and Spearman correlation of the candidates' scores on every pair of
    /// references (columns of `search`): do references agree on which x_T is good?
    public struct Correlation: Sendable, Equatable {
        public var first: Int
        public var second: Int
        public var pearson: Double
        public var spearman: Double
    }

    public static func referenceCorrelations(_ search: [[Double]]) -> [Correlation] {
        guard let r = search.first?.count else { return [] }
        let columns = (0..<r).map { i in search.map { $0[i] } }
        let ranks = columns.map(rank)
        var out: [Correlation] = []
        for i in 0..<r {
            for j in (i + 1)..<r {
                out.append(Correlation(first: i, second: j, pearson: pearson(columns[i], columns[j]), spearman: pearson(ranks[i], ranks[j])))
            }
        }
        return out
    }

    /// k distinct indices below n (partial Fisher–Yates), in draw order.
    static func sample(_ k: Int, of n: Int, using rng: inout RandomGenerator) -> [Int] {
        var pool = Array(0..<n)
        for i in 0..<k { pool.swapAt(i, i + rng.nextInt(below: n - i)) }
        return Array(pool.prefix(k))
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

    /// The sample standard deviation (n − 1); 0 for a single value.
    static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    /// Ranks 1…n, ties given their average rank.
    static func rank(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, v[order[j + 1]] == v[order[i]] { j += 1 }
            for t in i...j { ranks[order[t]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return ranks
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let ma = mean(a), mb = mean(b)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }
}
