//! Darknet's `[shortcut]`: adds an earlier layer's output to the previous one, then applies the
//! activation. Only same-shaped inputs are supported (as in the YOLO family's residuals).

use super::activation::Activation;
use super::Tensor;

#[derive(Debug, Clone, PartialEq)]
pub struct Shortcut {
    /// Absolute index of the layer whose output is added.
    pub from: usize,
    pub activation: Activation,
}

impl Shortcut {
    pub fn forward(&self, previous: &Tensor, other: &Tensor) -> Tensor {
        assert_eq!(previous.data.len(), other.data.len());
        let mut out = previous.clone();
        for (o, a) in out.data.iter_mut().zip(&other.data) {
            *o = self.activation.apply(*o + a);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_then_activates() {
        let a = Tensor {
            channels: 1,
            height: 1,
            width: 2,
            data: vec![1.0, -3.0],
        };
        let b = Tensor {
            channels: 1,
            height: 1,
            width: 2,
            data: vec![0.5, 1.0],
        };
        let s = Shortcut {
            from: 0,
            activation: Activation::Leaky,
        };
        assert_eq!(s.forward(&a, &b).data, vec![1.5, -0.2]);
    }
}
