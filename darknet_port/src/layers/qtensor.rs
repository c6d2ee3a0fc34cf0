//! Quantized activations: unsigned `bits`-bit levels per channel, stored as bit planes.
//!
//! Layout: for each pixel (row-major), for each bit b (LSB first), `words` u64 words holding bit
//! b of channels 0..63, 64..127, ... (channel c in word c/64, bit c%64). Bit planes turn the
//! binarized convolution into AND + popcount over whole words.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QTensor {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: usize,
    words: usize,
    data: Vec<u64>,
}

impl QTensor {
    pub fn zeros(height: usize, width: usize, channels: usize, bits: usize) -> QTensor {
        assert!((1..=8).contains(&bits), "activation bits must be 1..=8");
        let words = channels.div_ceil(64);
        QTensor {
            height,
            width,
            channels,
            bits,
            words,
            data: vec![0; height * width * bits * words],
        }
    }

    /// u64 words per bit plane of one pixel.
    pub fn words(&self) -> usize {
        self.words
    }

    /// u64 words per pixel (all planes).
    pub fn pixel_stride(&self) -> usize {
        self.bits * self.words
    }

    /// The planes of pixel (y, x): `bits` runs of `words` words.
    pub fn pixel(&self, y: usize, x: usize) -> &[u64] {
        let stride = self.pixel_stride();
        let start = (y * self.width + x) * stride;
        &self.data[start..start + stride]
    }

    /// The planes of every pixel of row `y`, pixel after pixel.
    pub fn row(&self, y: usize) -> &[u64] {
        let len = self.width * self.pixel_stride();
        &self.data[y * len..(y + 1) * len]
    }

    /// The planes of every pixel of row `y`, pixel after pixel.
    pub fn row_mut(&mut self, y: usize) -> &mut [u64] {
        let len = self.width * self.pixel_stride();
        &mut self.data[y * len..(y + 1) * len]
    }

    /// The planes of a run of pixels, numbered row-major (`y * width + x`), pixel after pixel.
    pub fn pixels_mut(&mut self, pixels: std::ops::Range<usize>) -> &mut [u64] {
        let stride = self.pixel_stride();
        &mut self.data[pixels.start * stride..pixels.end * stride]
    }

    pub fn pixel_mut(&mut self, y: usize, x: usize) -> &mut [u64] {
        let stride = self.pixel_stride();
        let start = (y * self.width + x) * stride;
        &mut self.data[start..start + stride]
    }

    pub fn get(&self, y: usize, x: usize, c: usize) -> u8 {
        let planes = self.pixel(y, x);
        let (word, bit) = (c / 64, c % 64);
        (0..self.bits).fold(0u8, |v, b| {
            v | ((((planes[b * self.words + word] >> bit) & 1) as u8) << b)
        })
    }

    pub fn set(&mut self, y: usize, x: usize, c: usize, value: u8) {
        debug_assert!(u32::from(value) < (1 << self.bits));
        let words = self.words;
        let bits = self.bits;
        let planes = self.pixel_mut(y, x);
        let (word, bit) = (c / 64, c % 64);
        for b in 0..bits {
            let w = &mut planes[b * words + word];
            *w = (*w & !(1 << bit)) | ((((value >> b) & 1) as u64) << bit);
        }
    }

    /// Reads the accelerator's memory layout: pixels row-major, `bytes_per_pixel` bytes each,
    /// holding a little-endian bit stream in which channel c occupies bits `bits*c..bits*(c+1)`.
    pub fn from_packed_pixels(
        bytes: &[u8],
        height: usize,
        width: usize,
        channels: usize,
        bits: usize,
        bytes_per_pixel: usize,
    ) -> Result<QTensor, String> {
        let needed = height * width * bytes_per_pixel;
        if bytes.len() != needed {
            return Err(format!(
                "{height}x{width} pixels of {bytes_per_pixel} bytes need {needed} bytes, got {}",
                bytes.len()
            ));
        }
        if channels * bits > bytes_per_pixel * 8 {
            return Err(format!(
                "{channels} channels of {bits} bits do not fit in {bytes_per_pixel} bytes"
            ));
        }
        let mut t = QTensor::zeros(height, width, channels, bits);
        for (p, pixel) in bytes.chunks_exact(bytes_per_pixel).enumerate() {
            let (y, x) = (p / width, p % width);
            for c in 0..channels {
                t.set(y, x, c, read_bits(pixel, c * bits, bits));
            }
        }
        Ok(t)
    }

    /// The inverse of [`QTensor::from_packed_pixels`]; unused bits are zero.
    pub fn to_packed_pixels(&self, bytes_per_pixel: usize) -> Vec<u8> {
        assert!(self.channels * self.bits <= bytes_per_pixel * 8);
        let mut out = vec![0u8; self.height * self.width * bytes_per_pixel];
        for (p, pixel) in out.chunks_exact_mut(bytes_per_pixel).enumerate() {
            let (y, x) = (p / self.width, p % self.width);
            for c in 0..self.channels {
                write_bits(pixel, c * self.bits, self.bits, self.get(y, x, c));
            }
        }
        out
    }

    /// The same activations with rows and columns swapped.
    pub fn transposed(&self) -> QTensor {
        let mut t = QTensor::zeros(self.width, self.height, self.channels, self.bits);
        for y in 0..self.height {
            for x in 0..self.width {
                t.pixel_mut(x, y).copy_from_slice(self.pixel(y, x));
            }
        }
        t
    }

    /// Levels as floats in Darknet's CHW order (the input of a float layer after the segment).
    pub fn to_levels_chw(&self) -> Vec<f32> {
        let plane = self.height * self.width;
        let mut out = vec![0f32; self.channels * plane];
        for y in 0..self.height {
            for x in 0..self.width {
                for c in 0..self.channels {
                    out[c * plane + y * self.width + x] = f32::from(self.get(y, x, c));
                }
            }
        }
        out
    }
}

fn read_bits(bytes: &[u8], start: usize, count: usize) -> u8 {
    (0..count).fold(0u8, |v, i| {
        let bit = start + i;
        v | (((bytes[bit / 8] >> (bit % 8)) & 1) << i)
    })
}

fn write_bits(bytes: &mut [u8], start: usize, count: usize, value: u8) {
    for i in 0..count {
        let bit = start + i;
        bytes[bit / 8] |= ((value >> i) & 1) << (bit % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_packing_round_trip() {
        let mut t = QTensor::zeros(2, 3, 70, 3);
        for y in 0..2 {
            for x in 0..3 {
                for c in 0..70 {
                    t.set(y, x, c, ((y * 7 + x * 3 + c) % 8) as u8);
                }
            }
        }
        assert_eq!(t.get(1, 2, 69), ((7 + 6 + 69) % 8) as u8);
        let packed = t.to_packed_pixels(32);
        // channel 1 of pixel 0 sits in bits 3..6 of byte 0
        assert_eq!((packed[0] >> 3) & 7, 1);
        let back = QTensor::from_packed_pixels(&packed, 2, 3, 70, 3, 32).unwrap();
        assert_eq!(back, t);
        assert!(QTensor::from_packed_pixels(&packed[1..], 2, 3, 70, 3, 32).is_err());
        assert_eq!(t.transposed().transposed(), t);
        assert_eq!(t.transposed().get(2, 1, 5), t.get(1, 2, 5));
    }
}
