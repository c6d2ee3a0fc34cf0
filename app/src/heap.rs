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

/// Hands the free memory the allocator holds back to the kernel (glibc's `malloc_trim`). With
/// [`keep_freed_memory`]'s thresholds nothing is returned on its own, and on a long run the
/// freed buffers of many threads fragment: resident memory crept up by about 2.5 MiB per 1,000
/// frames with nothing leaked (heaptrack: 4 KiB unfreed at exit, the live heap bounded by the
/// frames in flight). Called every few seconds, resident memory follows what is in use; the
/// frames after a call pay their page faults once.
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
