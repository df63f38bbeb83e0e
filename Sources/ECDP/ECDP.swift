// The ECDP model (U-Net + RRDB encoder), the conditional MVP SDE, the hybrid
// parametrization and the samplers live in this module (issues #6, #7). Built on Grad.
@_exported import Grad
@_exported import GradNN
