// DIV2K's file naming, the one rule the data pipeline, degrade, upscale and metrics share:
// an HR image `0801.png` has its ×4 LR image `0801x4.png` (DIV2K_valid_LR_bicubic/X4/), and an
// SR output is named like its HR image.
import Foundation

public enum DIV2KNames {
    /// The stem of a path: `/data/0801x4.png` → `0801x4`.
    public static func stem(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The LR file name of an HR stem at `scale`: `0801` → `0801x4.png`.
    public static func lowResolutionName(stem: String, scale: Int) -> String { "\(stem)x\(scale).png" }

    /// The HR (and SR) stem of an LR file: `0801x4.png` → `0801`; other names keep their stem.
    public static func highResolutionStem(ofLowResolution path: String, scale: Int) -> String {
        let s = stem(path), suffix = "x\(scale)"
        return s.hasSuffix(suffix) ? String(s.dropLast(suffix.count)) : s
    }
}
