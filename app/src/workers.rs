//! The threads a single frame's layers split their work over (see `darknet_port::parallel`):
//! `detect`, `calibrate` and `agreement` run one frame at a time and use every core for it.
//! In the pipeline (`run`) only the accelerator stage does (the binarized layers, on the CPU
//! backends): its CPU-layer stages already work on several frames at once.

use darknet_port::parallel::{Job, Workers};
use std::sync::Mutex;

/// A pool of threads kept for the whole process (rayon's): a layer's jobs go to threads that
/// are already running. Threads started for each call cost a layer about 3 ms each when the
/// other core was busy (measured while a fuzzer ran), seven times a frame on Tinier-YOLO.
pub struct Threads {
    pool: rayon::ThreadPool,
    count: usize,
}

impl std::fmt::Debug for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Threads({})", self.count)
    }
}

impl Workers for Threads {
    fn count(&self) -> usize {
        self.count
    }

    fn run<'a>(&self, jobs: Vec<Job<'a>>) {
        // The scope returns when every job has run (a job's panic is passed on to the caller).
        self.pool.scope(|scope| {
            for job in jobs {
                scope.spawn(move |_| job());
            }
        });
    }
}

/// The pool of `count` threads (0: one per core), made on first use and kept for the rest of
/// the process; later calls with the same count share it.
pub fn threads(count: usize) -> &'static Threads {
    static POOLS: Mutex<Vec<&'static Threads>> = Mutex::new(Vec::new());
    let count = if count == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        count
    };
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.iter().find(|p| p.count == count) {
        return pool;
    }
    let threads = started_threads(count);
    pools.push(threads);
    threads
}

/// A pool of `count` threads started now, so on the CPUs this thread may use (see [`pin_to`]),
/// kept for the rest of the process and shared with no one.
pub fn started_threads(count: usize) -> &'static Threads {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(count.max(1))
        .thread_name(|i| format!("layer-worker-{i}"))
        .build()
        .expect("starting the layer worker threads");
    Box::leak(Box::new(Threads {
        pool,
        count: count.max(1),
    }))
}

/// The CPUs this thread may run on, in order (from `sched_getaffinity`).
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> std::io::Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain bits, valid zeroed; the kernel writes at most its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is this thread; the size is the set's own.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: CPU_ISSET reads a bit of the set, below CPU_SETSIZE.
    Ok((0..libc::CPU_SETSIZE as usize)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// Lets this thread, and the threads it starts from now on, run on `cpus` only.
#[cfg(target_os = "linux")]
pub fn pin_to(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: as in `allowed_cpus`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: CPU_SET writes a bit of the set; cpus come from `allowed_cpus`, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: pid 0 is this thread; the size is the set's own.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_port::parallel;

    #[cfg(target_os = "linux")]
    #[test]
    fn pinning_narrows_the_cpus_and_can_be_undone() {
        let all = allowed_cpus().unwrap();
        assert!(!all.is_empty());
        // on a thread of its own: the test runner's threads keep their CPUs
        std::thread::spawn(move || {
            pin_to(&all[..1]).unwrap();
            assert_eq!(allowed_cpus().unwrap(), all[..1]);
            let child = std::thread::spawn(|| allowed_cpus().unwrap())
                .join()
                .unwrap();
            assert_eq!(child, all[..1], "threads started later inherit the CPUs");
            pin_to(&all).unwrap();
            assert_eq!(allowed_cpus().unwrap(), all);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn every_job_runs_once_on_its_own_part() {
        let workers = threads(3);
        assert_eq!(workers.count(), 3);
        let mut out = vec![0usize; 10];
        parallel::with_workers(workers, || {
            let jobs: Vec<Job> = out
                .chunks_mut(4)
                .enumerate()
                .map(|(i, part)| Box::new(move || part.fill(i + 1)) as Job)
                .collect();
            parallel::run(jobs);
        });
        assert_eq!(out, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
        assert!(std::ptr::eq(workers, threads(3)), "one pool a count");
    }
}
