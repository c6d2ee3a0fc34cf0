//! Buffers of the layer outputs a frame has finished with, kept for the next frame's layers. A
//! network's layers have the same sizes every frame, so a layer that writes every value of its
//! output can take the last frame's buffer: already mapped, and with no need to be zeroed (a
//! fresh zeroed buffer costs a memset, or the kernel's zeroing of new pages: several percent of
//! a float frame). Kept per thread (the thread that runs a frame's forward allocates its layers'
//! outputs and ends with them), and bounded, so memory stays flat however long a run.

use std::cell::RefCell;

/// At most this many buffers a thread ...
const MAX_BUFFERS: usize = 64;
/// ... and this many bytes: a frame's outputs of YOLOv3/v4-tiny are about 30-40 MiB.
const MAX_BYTES: usize = 64 << 20;

/// A thread's spare buffers, oldest first, and the lengths its layers have asked for: only
/// buffers of those lengths are kept (a pool's or a route's output is not asked for again, and
/// would only take room).
struct Spare {
    buffers: Vec<Vec<f32>>,
    wanted: Vec<usize>,
}

thread_local! {
    static SPARE: RefCell<Spare> = const {
        RefCell::new(Spare {
            buffers: Vec::new(),
            wanted: Vec::new(),
        })
    };
}

/// A buffer of `len` values for a caller that writes every one of them: the smallest spare one
/// large enough, its old values left in place (debug builds fill it with NaN, so that a value a
/// layer failed to write shows in the tests), else a new zeroed one.
pub(crate) fn buffer(len: usize) -> Vec<f32> {
    let spare = SPARE.with_borrow_mut(|spare| {
        if !spare.wanted.contains(&len) {
            if spare.wanted.len() == MAX_BUFFERS {
                spare.wanted.remove(0);
            }
            spare.wanted.push(len);
        }
        let best = spare
            .buffers
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i)?;
        Some(spare.buffers.remove(best))
    });
    let Some(mut data) = spare else {
        return vec![0.0; len];
    };
    if data.len() >= len {
        data.truncate(len);
    } else {
        data.resize(len, 0.0);
    }
    if cfg!(debug_assertions) {
        data.fill(f32::NAN);
    }
    data
}

/// Keeps `data` for a later [`buffer`] on this thread, if its length is one asked for; the
/// oldest spares go when there are too many.
pub fn keep(data: Vec<f32>) {
    SPARE.with_borrow_mut(|spare| {
        if !spare.wanted.contains(&data.len()) {
            return;
        }
        spare.buffers.push(data);
        let bytes = |b: &[Vec<f32>]| b.iter().map(|b| b.capacity() * 4).sum::<usize>();
        while spare.buffers.len() > MAX_BUFFERS || bytes(&spare.buffers) > MAX_BYTES {
            spare.buffers.remove(0);
        }
    });
}

/// A layer's scratch buffer from the spares, given back when it goes out of scope (on every
/// return path): [`buffer`] and [`keep`] around a value the layer only borrows.
pub(crate) struct Scratch(Vec<f32>);

impl Scratch {
    /// Scratch of `len` values for a caller that writes every one of them (see [`buffer`]).
    pub(crate) fn new(len: usize) -> Scratch {
        Scratch(buffer(len))
    }
}

impl std::ops::Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl std::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        keep(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_is_taken_again_and_the_spares_stay_bounded() {
        // a length no layer asked for is not kept
        keep(vec![1.0f32; 999]);
        assert!(buffer(999).iter().all(|&v| v == 0.0), "a new zeroed one");
        let data = vec![1.0f32; 1000];
        let address = data.as_ptr();
        assert_eq!(buffer(1000).len(), 1000);
        keep(data);
        // the smallest large enough: the kept one, shortened, not a new one
        let again = buffer(600);
        assert_eq!((again.as_ptr(), again.len()), (address, 600));
        // none left: a new zeroed one
        assert!(buffer(10).iter().all(|&v| v == 0.0));
        let big = 1 << 20;
        assert_eq!(buffer(big).len(), big);
        for _ in 0..2 * MAX_BUFFERS {
            keep(vec![0.0; big]);
        }
        let held = SPARE.with_borrow(|s| s.buffers.iter().map(|b| b.capacity() * 4).sum::<usize>());
        assert!(held <= MAX_BYTES, "{held} bytes held");
        assert!(SPARE.with_borrow(|s| s.buffers.len()) <= MAX_BUFFERS);
    }

    #[test]
    fn scratch_goes_back_to_the_spares_when_dropped() {
        let address = {
            let scratch = Scratch::new(4321);
            scratch.as_ptr()
        };
        // held among the spares (not freed, whose memory a new buffer might reuse too)
        let held = SPARE.with_borrow(|s| s.buffers.iter().any(|b| b.as_ptr() == address));
        assert!(held, "the dropped scratch is a spare");
    }
}
