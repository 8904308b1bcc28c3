//! A batch of requests submitted together: their settings snapshot, their
//! times, and the exactly-once delivery of each one's outcome.
//!
//! Outcomes reach the caller's sink one at a time (it is `FnMut`), but no
//! thread ever blocks waiting for the sink: an outcome resolved while
//! another thread, or the same thread from inside the sink (a handler that
//! calls `cancel_all`), is delivering is queued, and whoever holds the sink
//! hands it over before letting go. So handlers may cancel, and two
//! threads delivering two batches whose handlers cancel each other cannot
//! deadlock.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::generator::settings::GeneratorSettings;
use crate::image::Image;
use crate::render::Size;
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
    /// Each request's own output size, exactly, in place of the settings'
    /// maximum size (a composition asks one source frame at the sizes its
    /// layers are drawn at: one decode, one render per size);
    /// [`Size::NATIVE`] keeps the settings' fit.
    pub sizes: Option<Vec<Size>>,
    states: Vec<AtomicU8>,
    unresolved: AtomicUsize,
    sink: Mutex<Sink>,
    /// Outcomes claimed but not yet handed to the sink.
    outbox: Mutex<VecDeque<(usize, ImageResult)>>,
    /// Signalled whenever a delivery finishes, for `wait_quiet`.
    quiet: (Mutex<()>, Condvar),
}

thread_local! {
    /// How many sinks the calling thread is inside (a handler's own thread).
    static DELIVERING_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether the calling thread is running a sink, where waiting for
/// deliveries to finish would wait on itself.
pub(crate) fn in_delivery() -> bool {
    DELIVERING_DEPTH.with(Cell::get) > 0
}

impl Batch {
    pub fn new(times: Vec<Time>, settings: GeneratorSettings, sink: Sink) -> Batch {
        let n = times.len();
        Batch {
            times,
            settings,
            sizes: None,
            states: (0..n).map(|_| AtomicU8::new(PENDING)).collect(),
            unresolved: AtomicUsize::new(n),
            sink: Mutex::new(sink),
            outbox: Mutex::new(VecDeque::new()),
            quiet: (Mutex::new(()), Condvar::new()),
        }
    }

    /// A batch whose request `i` is rendered at exactly `sizes[i]`.
    pub fn with_sizes(mut self, sizes: Vec<Size>) -> Batch {
        debug_assert_eq!(sizes.len(), self.times.len());
        self.sizes = Some(sizes);
        self
    }

    /// The exact size request `i` is rendered at; [`Size::NATIVE`] where the
    /// settings' maximum size decides.
    pub fn exact_size(&self, i: usize) -> Size {
        self.sizes
            .as_ref()
            .and_then(|s| s.get(i).copied())
            .unwrap_or(Size::NATIVE)
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Hands request `i` its outcome unless it already has one. Returns
    /// whether this call claimed it. The claim is atomic, so a request
    /// raced by a worker and a cancellation gets exactly one outcome. The
    /// outcome reaches the sink before this returns, unless the sink is
    /// busy (another thread's delivery, or this thread's own when called
    /// from inside the sink): then its current holder delivers it next.
    pub fn resolve(&self, i: usize, outcome: ImageResult) -> bool {
        let claimed = self.states[i]
            .compare_exchange(PENDING, DELIVERING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if !claimed {
            return false;
        }
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((i, outcome));
        self.deliver_queued();
        true
    }

    /// Drains the outbox into the sink if no one holds it. After letting go
    /// it looks again, because an outcome queued while the sink was held,
    /// by a thread that then found the sink busy, is this thread's to
    /// deliver.
    fn deliver_queued(&self) {
        loop {
            // This thread is already inside the sink: the outer call
            // drains what was just queued when the handler returns.
            if in_delivery_of(self) {
                return;
            }
            let mut sink = match self.sink.try_lock() {
                Ok(sink) => sink,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return,
            };
            let inside = DeliveryScope::enter(self);
            while let Some((i, outcome)) = self.next_queued() {
                // A panicking user callback must not poison delivery for
                // the rest of the batch or kill the worker.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    sink(i, outcome);
                }));
                self.states[i].store(DONE, Ordering::Release);
                self.unresolved.fetch_sub(1, Ordering::AcqRel);
                let _guard = self.quiet.0.lock().unwrap_or_else(|p| p.into_inner());
                self.quiet.1.notify_all();
            }
            drop(inside);
            drop(sink);
            if self
                .outbox
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
            {
                return;
            }
        }
    }

    fn next_queued(&self) -> Option<(usize, ImageResult)> {
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
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

thread_local! {
    /// The batches whose sink the calling thread is running.
    static DELIVERING_BATCHES: std::cell::RefCell<Vec<*const Batch>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn in_delivery_of(batch: &Batch) -> bool {
    DELIVERING_BATCHES.with(|b| b.borrow().contains(&(batch as *const Batch)))
}

/// Marks the calling thread as inside `batch`'s sink while it lives.
struct DeliveryScope(*const Batch);

impl DeliveryScope {
    fn enter(batch: &Batch) -> DeliveryScope {
        DELIVERING_BATCHES.with(|b| b.borrow_mut().push(batch));
        DELIVERING_DEPTH.with(|d| d.set(d.get() + 1));
        DeliveryScope(batch)
    }
}

impl Drop for DeliveryScope {
    fn drop(&mut self) {
        DELIVERING_BATCHES.with(|b| {
            let mut b = b.borrow_mut();
            if let Some(pos) = b.iter().rposition(|&p| p == self.0) {
                b.remove(pos);
            }
        });
        DELIVERING_DEPTH.with(|d| d.set(d.get() - 1));
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
        assert!(batch.resolve(1, Err(Error::InvalidTime("x".into()))));
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

    /// A handler that cancels its own batch (what `cancel_all` from inside
    /// a `generate_images` handler does) must not deadlock on the sink it
    /// is running in; the cancellations arrive after it returns.
    #[test]
    fn a_sink_can_cancel_its_own_batch() {
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let slot: Arc<Mutex<Option<Arc<Batch>>>> = Arc::new(Mutex::new(None));
        let (s, me) = (seen.clone(), slot.clone());
        let batch = Arc::new(Batch::new(
            vec![Time::ZERO; 3],
            GeneratorSettings::default(),
            Box::new(move |i, r| {
                s.lock().unwrap().push((i, r.is_ok()));
                if i == 0 {
                    let batch = me.lock().unwrap().clone().unwrap();
                    batch.cancel();
                    assert!(in_delivery(), "the handler knows it is inside a delivery");
                }
            }),
        ));
        *slot.lock().unwrap() = Some(batch.clone());
        let (done, finished) = std::sync::mpsc::channel();
        let b = batch.clone();
        std::thread::spawn(move || {
            b.resolve(0, Err(Error::InvalidTime("x".into())));
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("no deadlock");
        assert!(batch.is_finished());
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(0, false), (1, false), (2, false)]
        );
        *slot.lock().unwrap() = None;
    }

    /// Two threads each delivering a batch whose handler cancels the
    /// other's: with a blocking sink lock they would wait on each other.
    #[test]
    fn handlers_cancelling_each_others_batches_do_not_deadlock() {
        type Slot = Arc<Mutex<Option<Arc<Batch>>>>;
        let slots: [Slot; 2] = [Arc::default(), Arc::default()];
        let gate = Arc::new(std::sync::Barrier::new(2));
        let make = |other: Slot, gate: Arc<std::sync::Barrier>| {
            Arc::new(Batch::new(
                vec![Time::ZERO; 2],
                GeneratorSettings::default(),
                Box::new(move |i, _| {
                    if i == 0 {
                        gate.wait();
                        if let Some(b) = other.lock().unwrap().clone() {
                            b.cancel();
                        }
                    }
                }),
            ))
        };
        let a = make(slots[1].clone(), gate.clone());
        let b = make(slots[0].clone(), gate.clone());
        *slots[0].lock().unwrap() = Some(a.clone());
        *slots[1].lock().unwrap() = Some(b.clone());
        let (done, finished) = std::sync::mpsc::channel();
        for batch in [a.clone(), b.clone()] {
            let done = done.clone();
            std::thread::spawn(move || {
                batch.resolve(0, Err(Error::InvalidTime("x".into())));
                done.send(()).unwrap();
            });
        }
        for _ in 0..2 {
            finished
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("no deadlock");
        }
        assert!(a.is_finished() && b.is_finished());
        for slot in &slots {
            *slot.lock().unwrap() = None;
        }
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
