//! Calibration: the statistics of each float convolution's inputs over sample images, and the
//! network converted to INT8/INT16 with scales taken from them.

use super::{Layer, Network, SegmentRunner, Timings};
use crate::error::{Error, Result};
use crate::layers::{InputStats, IntConv, Precision, Tensor};
use serde::{Deserialize, Serialize};

/// The largest input magnitude of each float convolution over a set of calibration images:
/// what fixes the power-of-two scale of its quantized input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub model: String,
    pub images: usize,
    /// (layer index, largest |input|)
    pub input_max_abs: Vec<(usize, f32)>,
    /// (layer index, smallest input): a layer never seeing a negative input (the first, on
    /// images) quantizes to unsigned bytes.
    #[serde(default)]
    pub input_min: Vec<(usize, f32)>,
    /// (layer index, counts of |input| in [`HISTOGRAM_BINS`] equal bins over `[0, max]`):
    /// lets a scale trade clipping of rare large values against resolution.
    #[serde(default)]
    pub input_histograms: Vec<(usize, Vec<u64>)>,
    /// (layer index, mean of each input channel): what the quantized weights' error shifts
    /// each output by on average, taken back off the bias.
    #[serde(default)]
    pub input_channel_means: Vec<(usize, Vec<f32>)>,
}

/// Bins of a calibration histogram.
pub const HISTOGRAM_BINS: usize = 512;

impl Calibration {
    /// A calibration file's text (what `zynqdet calibrate` writes), checked: every range and
    /// mean finite, ranges not negative, histograms of [`HISTOGRAM_BINS`] bins. The error names
    /// the first problem; the caller adds the file's name.
    pub fn from_json(text: &str) -> std::result::Result<Calibration, String> {
        let calibration: Calibration =
            serde_json::from_str(text).map_err(|e| format!("not a calibration file: {e}"))?;
        calibration.check()?;
        Ok(calibration)
    }

    fn check(&self) -> std::result::Result<(), String> {
        for &(layer, max_abs) in &self.input_max_abs {
            if !max_abs.is_finite() || max_abs < 0.0 {
                return Err(format!(
                    "layer {layer}: input range {max_abs} is not a magnitude"
                ));
            }
        }
        for &(layer, min) in &self.input_min {
            if !min.is_finite() {
                return Err(format!("layer {layer}: smallest input {min} is not finite"));
            }
        }
        for (layer, bins) in &self.input_histograms {
            if bins.len() != HISTOGRAM_BINS {
                return Err(format!(
                    "layer {layer}: a histogram of {} bins, not {HISTOGRAM_BINS}",
                    bins.len()
                ));
            }
        }
        for (layer, means) in &self.input_channel_means {
            if means.iter().any(|m| !m.is_finite()) {
                return Err(format!("layer {layer}: a channel mean is not finite"));
            }
        }
        Ok(())
    }
}

impl Network {
    /// Measures, over `images` (letterboxed), the input statistics of every float convolution.
    pub fn calibrate(
        &self,
        images: &[Tensor],
        runner: &mut dyn SegmentRunner,
    ) -> Result<Calibration> {
        let convs: Vec<usize> = (0..self.layers.len())
            .filter(|&i| matches!(self.layers[i], Layer::Conv(_)))
            .collect();
        // Two passes: the ranges first, then histograms over them.
        let mut max_abs = vec![0f32; self.layers.len()];
        let mut min = vec![f32::INFINITY; self.layers.len()];
        for image in images {
            self.run(image, runner, &mut Timings::off(), &mut |i, input| {
                let m = input.data.iter().fold(0f32, |m, v| m.max(v.abs()));
                max_abs[i] = max_abs[i].max(m);
                min[i] = input.data.iter().fold(min[i], |m, &v| m.min(v));
            })?;
        }
        let mut histograms = vec![vec![0u64; HISTOGRAM_BINS]; self.layers.len()];
        let mut sums: Vec<Vec<f64>> = vec![Vec::new(); self.layers.len()];
        for image in images {
            self.run(image, runner, &mut Timings::off(), &mut |i, input| {
                if !matches!(self.layers[i], Layer::Conv(_)) {
                    return;
                }
                let plane = input.height * input.width;
                sums[i].resize(input.channels, 0.0);
                for (sum, values) in sums[i].iter_mut().zip(input.data.chunks_exact(plane)) {
                    *sum += values.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64;
                }
                if max_abs[i] > 0.0 {
                    let scale = HISTOGRAM_BINS as f32 / max_abs[i];
                    for v in &input.data {
                        let bin = ((v.abs() * scale) as usize).min(HISTOGRAM_BINS - 1);
                        histograms[i][bin] += 1;
                    }
                }
            })?;
        }
        Ok(Calibration {
            model: self.name.clone(),
            images: images.len(),
            input_max_abs: convs.iter().map(|&i| (i, max_abs[i])).collect(),
            input_min: convs.iter().map(|&i| (i, min[i])).collect(),
            input_histograms: convs
                .iter()
                .map(|&i| (i, std::mem::take(&mut histograms[i])))
                .collect(),
            input_channel_means: convs
                .iter()
                .map(|&i| {
                    let means = sums[i]
                        .iter()
                        .map(|s| (s / images.len().max(1) as f64) as f32)
                        .collect();
                    (i, means)
                })
                .collect(),
        })
    }

    /// The same network with its float convolutions at `precision`, except the layers named in
    /// `overrides`; quantized inputs take their scales from `calibration`.
    pub fn with_precision(
        &self,
        precision: Precision,
        overrides: &[(usize, Precision)],
        calibration: &Calibration,
    ) -> Result<Network> {
        let mut out = self.clone();
        for (i, layer) in out.layers.iter_mut().enumerate() {
            let wanted = overrides
                .iter()
                .find(|(l, _)| *l == i)
                .map_or(precision, |o| o.1);
            let Layer::Conv(conv) = layer else {
                if overrides.iter().any(|(l, _)| *l == i) {
                    return Err(Error::Model(format!(
                        "layer {i} is not a float convolution: its precision cannot be set"
                    )));
                }
                continue;
            };
            if wanted == Precision::Fp32 {
                continue;
            }
            // The calibration's lists hold (layer, value) pairs.
            fn find<T>(list: &[(usize, T)], layer: usize) -> Option<&T> {
                list.iter().find(|(l, _)| *l == layer).map(|entry| &entry.1)
            }
            let max_abs = *find(&calibration.input_max_abs, i).ok_or_else(|| {
                Error::Model(format!(
                    "the calibration has no range for layer {i}: calibrate this model again"
                ))
            })?;
            let stats = InputStats {
                max_abs,
                min: find(&calibration.input_min, i).map_or(-max_abs, |&min| min),
                histogram: find(&calibration.input_histograms, i).map_or(&[], Vec::as_slice),
                channel_means: find(&calibration.input_channel_means, i).map_or(&[], Vec::as_slice),
            };
            *layer = Layer::IntConv(IntConv::from_float(conv, wanted, &stats));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_files_are_checked_as_they_are_read() {
        let good =
            r#"{"model":"m","images":2,"input_max_abs":[[0,1.5],[3,0.25]],"input_min":[[0,0.0]]}"#;
        let c = Calibration::from_json(good).unwrap();
        assert_eq!(c.input_max_abs, vec![(0, 1.5), (3, 0.25)]);
        let refused = [
            (r#"{"model":"m"}"#, "not a calibration file"),
            (
                r#"{"model":"m","images":1,"input_max_abs":[[0,-1.0]]}"#,
                "not a magnitude",
            ),
            // 1e39 is past f32: it reads as infinity
            (
                r#"{"model":"m","images":1,"input_max_abs":[[0,1e39]]}"#,
                "not a magnitude",
            ),
            (
                r#"{"model":"m","images":1,"input_max_abs":[],"input_min":[[2,-1e39]]}"#,
                "not finite",
            ),
            (
                r#"{"model":"m","images":1,"input_max_abs":[],"input_histograms":[[0,[1,2]]]}"#,
                "2 bins",
            ),
            (
                r#"{"model":"m","images":1,"input_max_abs":[],"input_channel_means":[[0,[1e39]]]}"#,
                "not finite",
            ),
        ];
        for (text, why) in refused {
            let e = Calibration::from_json(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
