//! `[dropout]`: drops a share of its inputs while training; at inference its output is its
//! input, as in Darknet (whose `forward_dropout_layer` returns at once when not training).

use super::{Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::{Plain, PlainLayer, Tensor};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// The share of inputs dropped while training: read and checked, unused at inference.
    pub probability: f32,
}

impl PlainLayer for Dropout {
    fn kind(&self) -> &'static str {
        "dropout"
    }

    fn forward(&self, input: &Tensor) -> Tensor {
        input.clone()
    }
}

pub(super) fn parse_dropout(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let probability = s.float_or("probability", 0.5)?;
    if !(0.0..1.0).contains(&probability) {
        return Err(s.error(
            s.line(),
            format!("[dropout] probability {probability} is not in [0, 1)"),
        ));
    }
    let layer = Plain(Arc::new(Dropout { probability }));
    Ok((LayerPlan::Plain(layer), earlier.input))
}

#[cfg(test)]
mod tests {
    use crate::darknet_weights::import;
    use crate::layers::Tensor;
    use crate::network::{CpuRunner, Network, Timings};

    const HEAD: &str = "[net]\nwidth=8\nheight=8\nchannels=3\n";
    const CONV1: &str =
        "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n";
    const POOL: &str = "[maxpool]\nsize=2\nstride=2\n";
    const CONV2: &str = "[convolutional]\nfilters=7\nsize=1\nstride=1\npad=0\nactivation=linear\n";
    const YOLO: &str = "[yolo]\nmask=0\nanchors=2,2\nclasses=2\nnum=1\n";
    const DROPOUT: &str = "[dropout]\nprobability=.5\n";

    /// The network of `cfg` with the same weights whatever the cfg's dropouts, and its heads
    /// on one image.
    fn heads(cfg: &str) -> Vec<(usize, Vec<u32>)> {
        let dir = tempfile::tempdir().unwrap();
        let (c, w) = (dir.path().join("t.cfg"), dir.path().join("t.weights"));
        std::fs::write(&c, cfg).unwrap();
        // conv1: 4 biases, scales, means, variances, 4*3*9 weights; conv2: 7 biases, 7*4
        let floats = 4 * 4 + 4 * 27 + 7 + 7 * 4;
        let mut bytes: Vec<u8> = [0i32, 2, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        bytes.extend(1000u64.to_le_bytes());
        for i in 0..floats {
            bytes.extend(((i * 37 % 23) as f32 / 11.0 - 0.9).abs().to_le_bytes());
        }
        std::fs::write(&w, bytes).unwrap();
        let model = import(&c, &w, vec!["a".into(), "b".into()]).unwrap();
        let net = Network::from_model(&model, &c).unwrap();
        let mut image = Tensor::zeros(3, 8, 8);
        for (i, v) in image.data.iter_mut().enumerate() {
            *v = (i * 13 % 17) as f32 / 16.0;
        }
        let heads = net
            .forward(&image, &mut CpuRunner, &mut Timings::new())
            .unwrap();
        let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect();
        heads.0.iter().map(|(i, t)| (*i, bits(t))).collect()
    }

    #[test]
    fn dropout_is_the_identity_at_inference() {
        let plain = heads(&[HEAD, CONV1, POOL, CONV2, YOLO].concat());
        let dropped = heads(&[HEAD, CONV1, DROPOUT, POOL, CONV2, DROPOUT, YOLO].concat());
        assert_eq!(plain[0].0, 3);
        assert_eq!(dropped[0].0, 5, "dropouts count as layers, as in Darknet");
        assert_eq!(plain[0].1, dropped[0].1);
    }

    #[test]
    fn a_probability_out_of_range_names_its_line() {
        let cfg = crate::cfg::Cfg::parse(
            &[HEAD, CONV1, "[dropout]\nprobability=1.5\n"].concat(),
            std::path::Path::new("t.cfg"),
        )
        .unwrap();
        let e = super::super::Plan::from_cfg(&cfg).unwrap_err().to_string();
        assert_eq!(e, "t.cfg:12: [dropout] probability 1.5 is not in [0, 1)");
    }
}
