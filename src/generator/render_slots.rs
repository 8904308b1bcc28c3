//! The pool's frame pipelines, and how many renders may be in flight at
//! once. Each render holds its pipeline from upload to readback, waiting
//! for the GPU the while: with one pipeline, every worker queued behind a
//! whole render, and the GPU sat idle during each readback. With several,
//! one picture's readback waits while the next one's passes run. A CPU
//! adapter (lavapipe) runs every submission on one queue thread, so there
//! a second pipeline would only hold a second set of buffers: one slot.
//!
//! Generic over what a slot holds, so the waiting and counting are tested
//! without a GPU.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Renders in flight at once on a GPU, unless the pool says otherwise:
/// enough to keep a readback and the next frame's passes overlapping for
/// every few decoding workers, few enough that the pipelines' buffers (a
/// few frames' worth each) stay small.
pub(crate) const GPU_RENDERS_IN_FLIGHT: usize = 4;

/// Up to `limit` slots handed out at once; idle ones are kept for reuse.
pub(crate) struct RenderSlots<T> {
    state: Mutex<State<T>>,
    freed: Condvar,
}

struct State<T> {
    idle: Vec<T>,
    busy: usize,
    /// `None` until the first slot is made (the limit may depend on what
    /// it is made for, such as the adapter).
    limit: Option<usize>,
}

impl<T> RenderSlots<T> {
    /// Slots limited to `limit` in flight, or, with `None`, to what the
    /// first `take` decides.
    pub fn new(limit: Option<usize>) -> RenderSlots<T> {
        RenderSlots {
            state: Mutex::new(State {
                idle: Vec::new(),
                busy: 0,
                limit: limit.map(|l| l.max(1)),
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one render: an idle one, a new one from `make` while
    /// fewer than the limit are in flight, else the next one freed.
    /// `limit_for` sets the limit from the first slot made when none was
    /// given. A failed `make` takes no slot.
    pub fn take<E>(
        &self,
        make: impl FnOnce() -> Result<T, E>,
        limit_for: impl FnOnce(&T) -> usize,
    ) -> Result<Slot<'_, T>, E> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.idle.pop() {
                state.busy += 1;
                return Ok(Slot::new(self, item));
            }
            if state.limit.is_none_or(|limit| state.busy < limit) {
                break;
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        // Made outside the lock, counted as busy meanwhile so that no
        // other thread makes one past the limit.
        state.busy += 1;
        drop(state);
        match make() {
            Ok(item) => {
                let mut state = self.lock();
                if state.limit.is_none() {
                    state.limit = Some(limit_for(&item).max(1));
                }
                Ok(Slot::new(self, item))
            }
            Err(e) => {
                self.release(None);
                Err(e)
            }
        }
    }

    /// At most `limit` in flight from now on (at least one).
    pub fn set_limit(&self, limit: usize) {
        self.lock().limit = Some(limit.max(1));
        self.freed.notify_all();
    }

    /// Makes one idle slot ahead of the first render, if there is none.
    pub fn prepare<E>(
        &self,
        make: impl FnOnce() -> Result<T, E>,
        limit_for: impl FnOnce(&T) -> usize,
    ) -> Result<(), E> {
        {
            let state = self.lock();
            if state.busy > 0 || !state.idle.is_empty() {
                return Ok(());
            }
        }
        self.take(make, limit_for).map(Slot::keep)
    }

    /// Drops every idle slot (after a failure that may have left shared
    /// state broken): the next renders start from fresh ones.
    pub fn clear(&self) {
        self.lock().idle.clear();
    }

    fn release(&self, item: Option<T>) {
        let mut state = self.lock();
        state.busy -= 1;
        state.idle.extend(item);
        drop(state);
        self.freed.notify_one();
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.busy, state.idle.len())
    }
}

/// One slot in use. Dropped without [`Slot::keep`] (a failed render, or a
/// panic unwinding through it), its content is discarded rather than
/// reused; either way its place is freed.
pub(crate) struct Slot<'a, T> {
    slots: &'a RenderSlots<T>,
    item: Option<T>,
    kept: bool,
}

impl<'a, T> Slot<'a, T> {
    fn new(slots: &'a RenderSlots<T>, item: T) -> Slot<'a, T> {
        Slot {
            slots,
            item: Some(item),
            kept: false,
        }
    }

    pub fn get(&mut self) -> &mut T {
        self.item
            .as_mut()
            .expect("a slot holds its item until dropped")
    }

    /// Puts the slot back for the next render.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl<T> Drop for Slot<'_, T> {
    fn drop(&mut self) {
        let item = self.item.take().filter(|_| self.kept);
        self.slots.release(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn idle_slots_are_reused_and_failures_discard_theirs() {
        let slots = RenderSlots::new(Some(2));
        let made = AtomicUsize::new(0);
        let make = || -> Result<usize, ()> { Ok(made.fetch_add(1, Ordering::SeqCst)) };
        let mut a = slots.take(make, |_| 9).unwrap();
        assert_eq!(*a.get(), 0);
        a.keep();
        assert_eq!(slots.counts(), (0, 1));
        let b = slots.take(make, |_| 9).unwrap();
        assert_eq!(made.load(Ordering::SeqCst), 1, "the idle one was reused");
        drop(b);
        assert_eq!(slots.counts(), (0, 0), "a dropped slot is discarded");
        let failed = slots.take(|| Err::<usize, _>("no GPU"), |_| 9);
        assert_eq!(failed.err(), Some("no GPU"));
        assert_eq!(slots.counts(), (0, 0), "a failed make takes no slot");
    }

    #[test]
    fn the_first_slot_sets_the_limit_when_none_was_given() {
        let slots = RenderSlots::new(None);
        let a = slots.take(|| Ok::<_, ()>("cpu"), |_| 1).unwrap();
        assert_eq!(slots.lock().limit, Some(1));
        a.keep();
        slots.prepare(|| Ok::<_, ()>("again"), |_| 5).unwrap();
        assert_eq!(slots.counts(), (0, 1), "prepare keeps the idle one");
        slots.clear();
        assert_eq!(slots.counts(), (0, 0));
    }

    #[test]
    fn no_more_than_the_limit_are_in_flight_and_waiters_get_freed_slots() {
        const LIMIT: usize = 3;
        let slots = Arc::new(RenderSlots::new(Some(LIMIT)));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (slots, in_flight, most, start) = (
                    slots.clone(),
                    in_flight.clone(),
                    most.clone(),
                    start.clone(),
                );
                std::thread::spawn(move || {
                    start.wait();
                    for round in 0..20 {
                        let slot = slots.take(|| Ok::<_, ()>(i), |_| LIMIT).unwrap();
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if (i + round) % 5 == 0 {
                            drop(slot);
                        } else {
                            slot.keep();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= LIMIT);
        assert!(
            most.load(Ordering::SeqCst) > 1,
            "slots were used side by side"
        );
        let (busy, idle) = slots.counts();
        assert_eq!(busy, 0);
        assert!(idle <= LIMIT);
    }
}
