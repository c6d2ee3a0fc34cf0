//! Darknet's activation functions, shared by every layer that ends in one (convolutions, their
//! blocked epilogues, shortcuts).

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
        self.each(|f| {
            for (o, &v) in out.iter_mut().zip(values) {
                *o = f(v);
            }
        });
    }

    /// `values[i] = apply(values[i])`, the activation chosen once, outside the loop.
    #[inline]
    pub fn apply_in_place(self, values: &mut [f32]) {
        self.each(|f| {
            for v in values.iter_mut() {
                *v = f(*v);
            }
        });
    }

    /// `body` with this activation as a function of its own (so the match is outside the
    /// loops of `body`).
    #[inline(always)]
    fn each(self, body: impl FnOnce(&dyn Fn(f32) -> f32)) {
        match self {
            Activation::Linear => body(&|x| Activation::Linear.apply(x)),
            Activation::Relu => body(&|x| Activation::Relu.apply(x)),
            Activation::Leaky => body(&|x| Activation::Leaky.apply(x)),
            Activation::Logistic => body(&|x| Activation::Logistic.apply(x)),
        }
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
