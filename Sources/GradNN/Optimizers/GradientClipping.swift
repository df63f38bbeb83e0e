// Gradient value clipping (torch.nn.utils.clip_grad_value_): every gradient element is
// clamped to [−limit, limit] before the optimizer step.
import Grad

public func clipGradientValues(_ parameters: [Parameter], limit: Float) {
    precondition(limit > 0, "clip limit must be positive")
    for p in parameters {
        if let g = p.gradient { p.gradient = withoutDerivatives { g.clamped(to: -limit, limit) } }
    }
}
