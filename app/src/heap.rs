//! How the allocator treats the network's large buffers.
//!
//! Every layer's output is a fresh buffer of up to a few MiB (11 MiB for YOLOv3-tiny's first).
//! glibc serves such sizes with `mmap` and hands them back to the kernel on free, so every frame
//! writes to new pages that the kernel must fault in and zero first: a quarter of YOLOv3-tiny's
//! FP32 frame time on a 2-core x86 host. Kept in the heap instead, a frame's buffers are the
//! last frame's, already mapped: what the commands that handle a bounded number of pictures
//! do. A run of unbounded length cannot let its heap fragment, and maps its large buffers.

/// Keeps freed buffers up to glibc's largest threshold (32 MiB) in the heap, and the heap from
/// being trimmed below 256 MiB of free space. Call once, before the threads start. Nothing to
/// do with other C libraries.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const LARGEST_MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 256 << 20;
        // SAFETY: mallopt only sets two of the allocator's parameters; called from main before
        // any thread starts. A refusal (return 0) leaves glibc's defaults, which work too.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, LARGEST_MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// For a run of unbounded length (`zynqdet run`, and `bench-pipeline`, which measures it):
/// buffers of 1 MiB and more get mappings of their own, handed back whole when freed, and the
/// heap keeps only the smaller ones. The frames' large buffers (layer outputs of several sizes,
/// allocated and freed by different threads in an order that varies from frame to frame) then
/// cannot fragment the heap however long the run: in a 20,000-frame soak the heap held 18-19
/// MiB throughout. The frame buffers themselves are recycled (the pipeline's pools), so what
/// pays the mappings' page faults is the layer outputs, a small part of a frame's time next to
/// the layers that fill them.
pub fn bound_for_long_runs() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 1 << 20;
        // SAFETY: as in keep_freed_memory; setting the threshold also ends glibc's raising of
        // it after each free of a mapped buffer, which would bring the fragmentation back.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD);
        }
    }
}

/// Hands the free memory the allocator holds back to the kernel (glibc's `malloc_trim`): the
/// free pages inside the heap, which no threshold returns on its own. Called every few seconds
/// by a long run, resident memory follows what is in use; the frames after a call pay their
/// page faults once.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks the allocator's own free lists (it takes their locks);
        // it may be called from any thread at any time.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
