//! Darknet's `[route]`: the channel-wise concatenation of earlier layers' outputs; with
//! `groups`, each input contributes only its `group_id`-th slice of channels (YOLOv4-tiny).

use super::Tensor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Absolute indices of the layers to concatenate.
    pub layers: Vec<usize>,
    pub groups: usize,
    pub group_id: usize,
}

impl Route {
    pub fn forward(&self, inputs: &[&Tensor]) -> Tensor {
        let (h, w) = (inputs[0].height, inputs[0].width);
        let plane = h * w;
        let mut data = Vec::new();
        for t in inputs {
            assert_eq!((t.height, t.width), (h, w));
            let part = t.channels / self.groups;
            let start = self.group_id * part * plane;
            data.extend_from_slice(&t.data[start..start + part * plane]);
        }
        Tensor {
            channels: data.len() / plane,
            height: h,
            width: w,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenates_and_groups() {
        let a = Tensor {
            channels: 2,
            height: 1,
            width: 2,
            data: vec![1.0, 2.0, 3.0, 4.0],
        };
        let b = Tensor {
            channels: 1,
            height: 1,
            width: 2,
            data: vec![5.0, 6.0],
        };
        let all = Route {
            layers: vec![0, 1],
            groups: 1,
            group_id: 0,
        }
        .forward(&[&a, &b]);
        assert_eq!(all.channels, 3);
        assert_eq!(all.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let second_half = Route {
            layers: vec![0],
            groups: 2,
            group_id: 1,
        }
        .forward(&[&a]);
        assert_eq!(second_half.data, vec![3.0, 4.0]);
    }
}
