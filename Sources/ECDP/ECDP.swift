// The ECDP model (U-Net + RRDB encoder), the conditional MVP SDE, the hybrid
// parametrization and the samplers. Built on Grad and GradNN.
@_exported import Grad
@_exported import GradNN
