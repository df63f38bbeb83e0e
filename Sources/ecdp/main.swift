// The `ecdp` executable: pick OpenBLAS's kernels (re-executing once if needed), then run.
import ECDPCommandLine

ECDPCommand.selectBLASKernels()
ECDPCommand.runAndExit()
