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

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_port::parallel;

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
