// One row of `per_image.csv`: one image super-resolved by one solver at one temperature
// (or from a fixed x_T) with one seed, and its metrics. The CSV is the run's memory: a row
// is appended (and synced) as soon as its image is done, so an interrupted run resumes
// from it, and the summary is computed from it.
import Foundation

public struct EvaluationRecord: Sendable, Equatable {
    public var image: String
    public var solver: String
    /// τ of x_T ~ N(0, τ²I); nil for the bicubic baseline and a fixed x_T.
    public var temperature: Double?
    /// "random", or the file name of the fixed x_T; "-" for the bicubic baseline.
    public var startingNoise: String
    public var seed: UInt64?
    public var psnr: Double
    public var ssim: Double
    public var lrPSNR: Double?
    public var lpips: Double?
    public var evaluations: Int
    public var seconds: Double
    public var output: String

    static let header = "image,solver,temperature,x_t,seed,psnr,ssim,lr_psnr,lpips,nfe,seconds,output"

    /// What identifies the measurement (everything but its results).
    var key: String { [image, solver, temperature.map { "\($0)" } ?? "", startingNoise, seed.map { "\($0)" } ?? ""].joined(separator: "|") }

    var csvLine: String {
        func number(_ v: Double?) -> String { v.map { $0.isFinite ? "\($0)" : ($0 > 0 ? "inf" : "nan") } ?? "" }
        return [CSV.field(image), CSV.field(solver), number(temperature), CSV.field(startingNoise), seed.map { "\($0)" } ?? "",
                number(psnr), number(ssim), number(lrPSNR), number(lpips), "\(evaluations)", number(seconds), CSV.field(output)]
            .joined(separator: ",")
    }

    /// Parses a line written by `csvLine`; nil for anything else (a line cut by an interruption).
    init?(csvLine line: String) {
        let f = CSV.split(line)
        guard f.count == 12 else { return nil }
        func number(_ s: String) -> Double? { s == "inf" ? .infinity : s == "nan" ? .nan : Double(s) }
        guard let psnr = number(f[5]), let ssim = number(f[6]), let nfe = Int(f[9]), let seconds = number(f[10]) else { return nil }
        image = f[0]
        solver = f[1]
        temperature = f[2].isEmpty ? nil : number(f[2])
        startingNoise = f[3]
        seed = f[4].isEmpty ? nil : UInt64(f[4])
        self.psnr = psnr
        self.ssim = ssim
        lrPSNR = number(f[7])
        lpips = number(f[8])
        evaluations = nfe
        self.seconds = seconds
        output = f[11]
    }

    public init(image: String, solver: String, temperature: Double?, startingNoise: String, seed: UInt64?, psnr: Double,
                ssim: Double, lrPSNR: Double?, lpips: Double?, evaluations: Int, seconds: Double, output: String) {
        self.image = image
        self.solver = solver
        self.temperature = temperature
        self.startingNoise = startingNoise
        self.seed = seed
        self.psnr = psnr
        self.ssim = ssim
        self.lrPSNR = lrPSNR
        self.lpips = lpips
        self.evaluations = evaluations
        self.seconds = seconds
        self.output = output
    }
}

/// RFC 4180 fields: quoted when they hold a comma, a quote or a line break.
enum CSV {
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func split(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}
