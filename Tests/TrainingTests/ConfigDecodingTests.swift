// Reading configs: every mistake a user can make in a YAML file or a --set ends in one line
// that names the file, the key and the problem; hostile YAML is refused before it is walked.
import Foundation
import TestSupport
import Testing
@testable import Training

@Suite("Config decoding")
struct ConfigDecodingTests {
    let tinyText = try! String(contentsOfFile: FixturePaths.path("Training/configs/tiny.yaml"), encoding: .utf8)

    func message(_ text: String, overrides: [String] = []) -> String {
        do {
            _ = try TrainingConfig.parse(text, source: "c.yaml", overrides: overrides)
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func typosGetTheNearestKey() {
        #expect(message(tinyText, overrides: ["data.bach=3"]).hasPrefix("--set data.bach=3: unknown key 'data.bach' — did you mean 'data.batch'?"))
        #expect(message(tinyText, overrides: ["schedule.chekpoint_every=3"]).contains("did you mean 'schedule.checkpoint_every'?"))
        #expect(message(tinyText, overrides: ["modle.channels=[16]"]).contains("did you mean 'model'?"))
        // Nothing close: the allowed keys, no guess.
        let far = message(tinyText, overrides: ["optimizer.zzzzzzzz=1"])
        #expect(far.contains("unknown key 'optimizer.zzzzzzzz' (allowed here: lr, rrdb_lr"))
    }

    @Test func wrongTypesNameTheKeyAndTheValue() {
        #expect(message(tinyText, overrides: ["data.batch=four"]) == "--set data.batch=four: 'data.batch' must be an integer, got 'four'")
        #expect(message(tinyText, overrides: ["seed=-1"]) == "--set seed=-1: 'seed' must be a non-negative integer, got '-1'")
        #expect(message(tinyText, overrides: ["data.augment=maybe"]) == "--set data.augment=maybe: 'data.augment' must be true or false, got 'maybe'")
        #expect(message(tinyText, overrides: ["model.channels=[16, x, 32]"]) == "--set model.channels=[16, x, 32]: 'model.channels[1]' must be an integer, got 'x'")
        #expect(message(tinyText, overrides: ["optimizer=3"]).contains("'optimizer' must be a mapping"))
        #expect(message(tinyText, overrides: ["diffusion.parametrization=v"])
            == "--set diffusion.parametrization=v: 'diffusion.parametrization': 'v' is not one of hybrid, eps, x0")
        #expect(message(tinyText, overrides: ["optimizer.decay=0"]) == "--set optimizer.decay=0: 'optimizer.decay' must be greater than 0, got 0.0")
        #expect(message(tinyText.replacingOccurrences(of: "  batch: 2\n", with: "")) == "c.yaml: missing key 'data.batch'")
    }

    @Test func repeatedKeysAndNonMappingsAreRefused() {
        #expect(message(tinyText + "seed: 3\n").hasPrefix("c.yaml: invalid YAML: Parser: expected all keys to be unique"))
        #expect(!message(tinyText + "seed: 3\n").contains("\n"))
        #expect(message("- 1\n- 2\n") == "c.yaml: the config must be a YAML mapping")
        #expect(message("name: [unclosed\n").hasPrefix("c.yaml: invalid YAML"))
        #expect(!message("name: [unclosed\n").contains("\n"))
        #expect(message(tinyText, overrides: ["name"]) == "--set name: expected key=value")
        #expect(message(tinyText, overrides: ["data..batch=1"]) == "--set data..batch=1: empty key")
        #expect(message(tinyText, overrides: ["seed.x=1"]) == "--set seed.x=1: 'seed' is not a mapping")
    }

    @Test func aliasBombsAreRefusedBeforeTheyExpand() {
        // Nine levels of ten aliases each: 10⁹ nodes if expanded.
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let started = Date()
        #expect(message(bomb).contains("expands to more than 10000 values"))
        #expect(Date().timeIntervalSince(started) < 5)
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(message("name: " + deep + "\n").contains("nests deeper than 32 levels"))
        // Aliases of ordinary size are fine.
        let aliased = tinyText.replacingOccurrences(of: "milestones: [300, 400]", with: "milestones: &m [300, 400]")
        #expect(message(aliased) == "no error")
    }

    @Test func overridesEditTheTreeBeforeDecoding() throws {
        let c = try TrainingConfig.parse(tinyText, source: "c.yaml", overrides: [
            "data.train=[/a, /b]", "schedule.iterations_per_epoch=7", "finetune={iq_weight: 0.5, score_matching_weight: 0, rtol: 1e-3, atol: 1e-3, vgg_width_divisor: 1}"])
        #expect(c.data.train == ["/a", "/b"] && c.schedule.iterationsPerEpoch == 7 && c.finetune?.iqWeight == 0.5)
        #expect(try TrainingConfig.parse(c.yaml, source: "round trip") == c)
        // One folder or a list; the saved YAML keeps numbers short and exact.
        let one = try TrainingConfig.parse(tinyText, source: "c.yaml", overrides: ["data.train=/x", "optimizer.lr=2e-4"])
        #expect(one.data.train == ["/x"])
        #expect(one.yaml.contains("  lr: 0.0002\n") && one.yaml.contains("  channels: [16, 32, 32]\n"))
    }

    /// A bad value that came from `--set` is named as the `--set`, not as the file; no
    /// number anywhere may be NaN or infinite.
    @Test func badOverridesNameTheSetArgument() {
        func message(_ overrides: [String], _ text: String? = nil) -> String {
            do { _ = try TrainingConfig.parse(text ?? tinyText, source: "c.yaml", overrides: overrides); return "accepted" } catch {
                return "\(error)"
            }
        }
        #expect(message(["data.batch="]) == "--set data.batch=: 'data.batch' must be an integer, got 'null'")
        #expect(message(["optimizer.lr=nan"]) == "--set optimizer.lr=nan: 'optimizer.lr' must be a finite number, got nan")
        #expect(message(["optimizer.lr=1", "optimizer.lr=-.inf"]) == "--set optimizer.lr=-.inf: 'optimizer.lr' must be a finite number, got -.inf")
        #expect(message(["data.bach=3"]).hasPrefix("--set data.bach=3: unknown key 'data.bach' — did you mean 'data.batch'?"))
        #expect(message(["optimizer.lr=-1"]) == "--set optimizer.lr=-1: 'optimizer.lr' must be greater than 0, got -1.0")
        // The file's own problems stay the file's.
        #expect(message([], tinyText.replacingOccurrences(of: "lr: 1.0e-4", with: "lr: .nan"))
                == "c.yaml: 'optimizer.lr' must be a finite number, got .nan")
    }

    @Test func everyLayoutSectionIsACodingKey() {
        // The section table cannot name a key the decoder does not know.
        #expect(Set(ConfigLayout.root.sections.keys).isSubset(of: ConfigLayout.root.keys))
        #expect(ConfigLayout.nearest("hr_crp", in: ConfigLayout.root.sections["data"]!.keys) == "hr_crop")
        #expect(ConfigLayout.editDistance("kitten", "sitting") == 3 && ConfigLayout.editDistance("", "ab") == 2)
    }
}
