//! How the allocator treats the network's large buffers.
//!
//! Every layer's output is a fresh buffer of up to a few MiB (11 MiB for YOLOv3-tiny's first).
//! glibc serves such sizes with `mmap` and hands them back to the kernel on free, so every frame
//! writes to new pages that the kernel must fault in and zero first: a quarter of YOLOv3-tiny's
//! FP32 frame time on a 2-core x86 host. Kept in the heap instead, a frame's buffers are the
//! last frame's, already mapped.

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
