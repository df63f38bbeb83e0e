// The ECDP model (U-Net + RRDB encoder), the conditional MVP SDE, the hybrid
// parametrization and the samplers. Built on Grad and GradNN.
import Grad
import GradNN
