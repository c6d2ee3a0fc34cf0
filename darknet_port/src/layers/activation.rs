//! Darknet's activation functions, shared by every layer that ends in one (convolutions, their
//! blocked epilogues, shortcuts).

/// `$body` with `$f` bound to the activation `$a` as a closure of its own: each arm's loop is
/// compiled for its function (a `dyn Fn` would be a call a value, and no vectors).
macro_rules! with_function {
    ($a:expr, |$f:ident| $body:expr) => {
        match $a {
            Activation::Linear => {
                let $f = |x: f32| Activation::Linear.apply(x);
                $body
            }
            Activation::Relu => {
                let $f = |x: f32| Activation::Relu.apply(x);
                $body
            }
            Activation::Leaky => {
                let $f = |x: f32| Activation::Leaky.apply(x);
                $body
            }
            Activation::Logistic => {
                let $f = |x: f32| Activation::Logistic.apply(x);
                $body
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Linear,
    Relu,
    Leaky,
    Logistic,
}

impl Activation {
    pub fn parse(name: &str) -> Option<Activation> {
        Some(match name {
            "linear" => Activation::Linear,
            "relu" => Activation::Relu,
            "leaky" => Activation::Leaky,
            "logistic" => Activation::Logistic,
            _ => return None,
        })
    }

    /// `out[i] = apply(values[i])`, the activation chosen once, outside the loop, so that the
    /// loop vectorises.
    #[inline]
    pub fn apply_to(self, values: &[f32], out: &mut [f32]) {
        with_function!(self, |f| {
            for (o, &v) in out.iter_mut().zip(values) {
                *o = f(v);
            }
        });
    }

    /// `values[i] = apply(values[i])`, the activation chosen once, outside the loop.
    #[inline]
    pub fn apply_in_place(self, values: &mut [f32]) {
        with_function!(self, |f| {
            for v in values.iter_mut() {
                *v = f(*v);
            }
        });
    }

    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Linear => x,
            Activation::Relu => x.max(0.0),
            Activation::Leaky => {
                if x > 0.0 {
                    x
                } else {
                    0.1 * x
                }
            }
            Activation::Logistic => 1.0 / (1.0 + (-x).exp()),
        }
    }
}
