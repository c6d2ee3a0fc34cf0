//! The network's memory, estimated from the plan as it grows (layer outputs, weights and the
//! largest convolution's column matrix), with saturating arithmetic so that absurd values cannot
//! overflow on the way to the comparison with [`crate::limits::max_network_bytes`].

use crate::cfg::SectionView;
use crate::error::Result;
use crate::limits::{human_bytes, max_network_bytes, MAX_MEMORY_ENV};
use crate::plan::{LayerPlan, PlannedLayer, Shape};

fn elements(s: Shape) -> u64 {
    (s.channels as u64)
        .saturating_mul(s.height as u64)
        .saturating_mul(s.width as u64)
}

/// A layer's memory in bytes: what stays allocated (its output and weights) and the scratch
/// its forward pass needs while it runs (a convolution's column matrix).
pub fn layer_bytes(plan: &LayerPlan, input: Shape, output: Shape) -> (u64, u64) {
    let f32s = |n: u64| n.saturating_mul(4);
    let out = f32s(elements(output));
    match plan {
        LayerPlan::Conv(c) => {
            let taps = (input.channels as u64).saturating_mul((c.size as u64).pow(2));
            let weights = f32s(taps.saturating_mul(c.filters as u64) + c.filters as u64);
            let columns = f32s(
                taps.saturating_mul((output.height as u64).saturating_mul(output.width as u64)),
            );
            (out.saturating_add(weights), columns)
        }
        _ => (out, 0),
    }
}

/// The memory of a network with input `input` and layers `layers`, in bytes.
pub fn network_bytes<'a>(
    input: Shape,
    layers: impl IntoIterator<Item = (&'a LayerPlan, Shape, Shape)>,
) -> u64 {
    let (mut kept, mut scratch) = (elements(input).saturating_mul(4), 0u64);
    for (plan, i, o) in layers {
        let (k, s) = layer_bytes(plan, i, o);
        kept = kept.saturating_add(k);
        scratch = scratch.max(s);
    }
    kept.saturating_add(scratch)
}

/// Called by the planner before it adds a layer: refuses a network whose memory up to and
/// including this layer passes the limit. Checking as the plan grows (not once at the end)
/// keeps every later shape computation far from overflow.
pub fn check_layer(
    s: &SectionView,
    input: Shape,
    planned: &[PlannedLayer],
    plan: &LayerPlan,
    layer_input: Shape,
    output: Shape,
) -> Result<()> {
    let limit = max_network_bytes().map_err(|m| s.error(s.line(), m))?;
    let earlier = planned.iter().map(|l| (&l.plan, l.input, l.output));
    let bytes = network_bytes(input, earlier.chain([(plan, layer_input, output)]));
    if bytes <= limit {
        return Ok(());
    }
    Err(s.error(
        s.line(),
        format!(
            "the network needs {} of memory (at least; up to this [{}] layer {}, whose output is \
             {}x{}x{}, for a {}x{}x{} input), more than the limit of {}: set {MAX_MEMORY_ENV} \
             (e.g. {MAX_MEMORY_ENV}={}G) to raise it",
            human_bytes(bytes),
            s.name(),
            planned.len(),
            output.channels,
            output.height,
            output.width,
            input.channels,
            input.height,
            input.width,
            human_bytes(limit),
            bytes.div_ceil(1 << 30),
        ),
    ))
}
