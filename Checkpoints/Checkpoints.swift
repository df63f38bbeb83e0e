// HDF5 training state, safetensors, the pure-Swift PyTorch reader and key maps (issue #5).
@_exported import GradNN
