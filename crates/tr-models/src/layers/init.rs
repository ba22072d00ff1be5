//! Weight initialisation schemes of the course and of PyTorch's layer
//! defaults, as [`candle_nn::Init`] values.

use candle_nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use candle_nn::Init;

/// How a linear or convolution layer is initialised.
///
/// | scheme | weight | bias | used by |
/// |---|---|---|---|
/// | [`LayerInit::Torch`] | `U(-1/√fan_in, 1/√fan_in)` | same | PyTorch `nn.Linear`/`nn.Conv2d` defaults (MLP, CNN, LSTM head, transformer FF) |
/// | [`LayerInit::KaimingFanOut`] | `N(0, √(2/fan_out))` | `N(-1/√fan_out, 1/√fan_out)` | LineCNN convs and linears, ResNet projection |
/// | [`LayerInit::Uniform`] | `U(-r, r)` | `0` | transformer token embedding and output `fc` (r = 0.1) |
/// | [`LayerInit::KaimingNoBias`] | `N(0, √(2/fan_out))` | none | torchvision ResNet convs |
///
/// The course's Kaiming bias line is `nn.init.normal_(bias, -bound, bound)`:
/// `normal_` takes *mean* and *std*, so the bias is drawn from a normal with
/// mean `-1/√fan_out` and standard deviation `1/√fan_out` — reproduced as
/// written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerInit {
    /// PyTorch's default (`kaiming_uniform_(a=√5)`, i.e. `U(±1/√fan_in)`, bias alike).
    Torch,
    /// The course's `kaiming_normal_(mode="fan_out", nonlinearity="relu")`
    /// with its normal bias (see above).
    KaimingFanOut,
    /// torchvision's ResNet conv init, for layers without bias.
    KaimingNoBias,
    /// `U(-r, r)` weights and zero bias (the Transformers' `init_weights`).
    Uniform(f64),
}

/// Kaiming normal, fan-out mode, ReLU gain: `N(0, √(2/fan_out))`.
pub const KAIMING_NORMAL_FAN_OUT: Init = Init::Kaiming {
    dist: NormalOrUniform::Normal,
    fan: FanInOut::FanOut,
    non_linearity: NonLinearity::ReLU,
};

impl LayerInit {
    /// Init of a weight whose fan-in and fan-out (PyTorch's definition:
    /// channels times kernel area) are given.
    pub fn weight(self, fan_in: usize, _fan_out: usize) -> Init {
        match self {
            LayerInit::Torch => symmetric_uniform(1.0 / (fan_in.max(1) as f64).sqrt()),
            LayerInit::KaimingFanOut | LayerInit::KaimingNoBias => KAIMING_NORMAL_FAN_OUT,
            LayerInit::Uniform(r) => symmetric_uniform(r),
        }
    }

    /// Init of the bias, or `None` when the scheme has no bias.
    pub fn bias(self, fan_in: usize, fan_out: usize) -> Option<Init> {
        match self {
            LayerInit::Torch => Some(symmetric_uniform(1.0 / (fan_in.max(1) as f64).sqrt())),
            LayerInit::KaimingFanOut => {
                let bound = 1.0 / (fan_out.max(1) as f64).sqrt();
                Some(Init::Randn {
                    mean: -bound,
                    stdev: bound,
                })
            }
            LayerInit::KaimingNoBias => None,
            LayerInit::Uniform(_) => Some(Init::Const(0.0)),
        }
    }
}

/// `U(-bound, bound)`.
pub fn symmetric_uniform(bound: f64) -> Init {
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// Xavier (Glorot) uniform: `U(±√(6/(fan_in+fan_out)))`, PyTorch's init of
/// the attention input projection.
pub fn xavier_uniform(fan_in: usize, fan_out: usize) -> Init {
    symmetric_uniform((6.0 / (fan_in + fan_out).max(1) as f64).sqrt())
}
