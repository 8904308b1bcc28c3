//! A batch of requests submitted together: their settings snapshot, their
//! times, and the exactly-once delivery of each one's outcome.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::generator::settings::GeneratorSettings;
use crate::image::Image;
use crate::time::Time;

/// What a request ends with: the image and its actual time, or why not.
pub type ImageResult = Result<(Image, Time)>;

/// Receives each request's outcome, by its position in the batch.
pub type Sink = Box<dyn FnMut(usize, ImageResult) + Send>;

const PENDING: u8 = 0;
const DELIVERING: u8 = 1;
const DONE: u8 = 2;

pub struct Batch {
    pub times: Vec<Time>,
    pub settings: GeneratorSettings,
    states: Vec<AtomicU8>,
    unresolved: AtomicUsize,
    sink: Mutex<Sink>,
    /// Signalled whenever a delivery finishes, for `wait_quiet`.
    quiet: (Mutex<()>, Condvar),
}

impl Batch {
    pub fn new(times: Vec<Time>, settings: GeneratorSettings, sink: Sink) -> Batch {
        let n = times.len();
        Batch {
            times,
            settings,
            states: (0..n).map(|_| AtomicU8::new(PENDING)).collect(),
            unresolved: AtomicUsize::new(n),
            sink: Mutex::new(sink),
            quiet: (Mutex::new(()), Condvar::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Hands request `i` its outcome unless it already has one. Returns
    /// whether this call delivered it. The claim is atomic, so a request
    /// raced by a worker and a cancellation gets exactly one outcome.
    pub fn resolve(&self, i: usize, outcome: ImageResult) -> bool {
        let claimed = self.states[i]
            .compare_exchange(PENDING, DELIVERING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if !claimed {
            return false;
        }
        {
            let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
            // A panicking user callback must not poison delivery for the
            // rest of the batch or kill the worker.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sink(i, outcome);
            }));
        }
        self.states[i].store(DONE, Ordering::Release);
        self.unresolved.fetch_sub(1, Ordering::AcqRel);
        let _guard = self.quiet.0.lock().unwrap_or_else(|p| p.into_inner());
        self.quiet.1.notify_all();
        true
    }

    /// Whether request `i` still waits for its outcome.
    pub fn is_pending(&self, i: usize) -> bool {
        self.states[i].load(Ordering::Acquire) == PENDING
    }

    pub fn is_finished(&self) -> bool {
        self.unresolved.load(Ordering::Acquire) == 0
    }

    /// Resolves every request still pending as cancelled.
    pub fn cancel(&self) {
        for i in 0..self.len() {
            self.resolve(i, Err(Error::Cancelled));
        }
    }

    /// Resolves every request still pending with a copy of `error`.
    pub fn fail_all(&self, error: &Error) {
        for i in 0..self.len() {
            if self.is_pending(i) {
                self.resolve(i, Err(error.clone()));
            }
        }
    }

    /// Waits until no delivery of this batch is in progress, so that after
    /// a cancellation returns no outcome is still being handed over.
    pub fn wait_quiet(&self) {
        let mut guard = self.quiet.0.lock().unwrap_or_else(|p| p.into_inner());
        while self
            .states
            .iter()
            .any(|s| s.load(Ordering::Acquire) == DELIVERING)
        {
            guard = self
                .quiet
                .1
                .wait_timeout(guard, std::time::Duration::from_millis(10))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    type Seen = Arc<Mutex<Vec<(usize, bool)>>>;

    fn counting_batch(n: usize) -> (Arc<Batch>, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let batch = Batch::new(
            vec![Time::ZERO; n],
            GeneratorSettings::default(),
            Box::new(move |i, r| s.lock().unwrap().push((i, r.is_ok()))),
        );
        (Arc::new(batch), seen)
    }

    #[test]
    fn each_request_resolves_once() {
        let (batch, seen) = counting_batch(3);
        assert!(batch.resolve(1, Err(Error::DecodeFailed("x".into()))));
        assert!(!batch.resolve(1, Err(Error::Cancelled)));
        batch.cancel();
        assert!(batch.is_finished());
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, vec![(0, false), (1, false), (2, false)]);
    }

    #[test]
    fn racing_resolvers_deliver_exactly_once() {
        let (batch, seen) = counting_batch(200);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let b = batch.clone();
                std::thread::spawn(move || {
                    for i in 0..b.len() {
                        b.resolve(i, Err(Error::Cancelled));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(seen.lock().unwrap().len(), 200);
        assert!(batch.is_finished());
    }

    #[test]
    fn a_panicking_sink_does_not_lose_the_rest() {
        let batch = Batch::new(
            vec![Time::ZERO; 2],
            GeneratorSettings::default(),
            Box::new(|i, _| assert_ne!(i, 0, "user callback panics")),
        );
        assert!(batch.resolve(0, Err(Error::Cancelled)));
        assert!(batch.resolve(1, Err(Error::Cancelled)));
        assert!(batch.is_finished());
    }
}
