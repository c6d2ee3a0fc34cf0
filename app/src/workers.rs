//! The threads a single frame's layers split their work over (see `darknet_port::parallel`):
//! `detect`, `calibrate` and `agreement` run one frame at a time and use every core for it.
//! In the pipeline (`run`) only the accelerator stage does (the binarized layers, on the CPU
//! backends): its CPU-layer stages already work on several frames at once.

use darknet_port::parallel::{Job, Workers};

/// Scoped threads started for each call: the first job runs on the caller's thread.
#[derive(Debug)]
pub struct Threads {
    count: usize,
}

impl Workers for Threads {
    fn count(&self) -> usize {
        self.count
    }

    fn run<'a>(&self, jobs: Vec<Job<'a>>) {
        std::thread::scope(|scope| {
            let mut jobs = jobs.into_iter();
            let first = jobs.next();
            for job in jobs {
                scope.spawn(job);
            }
            if let Some(first) = first {
                first();
            }
        });
    }
}

/// `count` threads (0: one per core), kept for the rest of the process.
pub fn threads(count: usize) -> &'static Threads {
    let count = if count == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        count
    };
    Box::leak(Box::new(Threads { count }))
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
    }
}
