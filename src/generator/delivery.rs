//! The future and the stream a request hands its images over through,
//! shared by [`ImageGenerator`](super::ImageGenerator) and the
//! composition generator: a slot or queue the batch's sink fills, and
//! what dropping them cancels.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::batch::{Batch, ImageResult};
use super::GeneratedImage;

/// What dropping a request's future or stream cancels.
pub(crate) trait Cancel: Send + Sync {
    fn cancel(&self);
}

impl Cancel for Batch {
    fn cancel(&self) {
        Batch::cancel(self);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Slot {
    result: Option<ImageResult>,
    waker: Option<Waker>,
}

/// Where one request's result waits for its future.
pub(crate) struct FutureSlot(Arc<Mutex<Slot>>);

impl FutureSlot {
    pub fn new() -> FutureSlot {
        FutureSlot(Arc::default())
    }

    /// Hands the result over, waking the future's task.
    pub fn filler(&self) -> impl FnOnce(ImageResult) + Send + 'static {
        let slot = self.0.clone();
        move |result| {
            let mut slot = lock(&slot);
            slot.result = Some(result);
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        }
    }

    /// The future; dropping it before the result comes cancels `request`.
    pub fn into_future(self, request: Arc<dyn Cancel>) -> ImageFuture {
        ImageFuture {
            slot: self.0,
            request,
        }
    }
}

/// The future of one image (`image_at`).
pub struct ImageFuture {
    slot: Arc<Mutex<Slot>>,
    request: Arc<dyn Cancel>,
}

impl Future for ImageFuture {
    type Output = ImageResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ImageResult> {
        let mut slot = lock(&self.slot);
        match slot.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for ImageFuture {
    fn drop(&mut self) {
        self.request.cancel();
    }
}

struct Queue {
    ready: VecDeque<GeneratedImage>,
    remaining: usize,
    waker: Option<Waker>,
}

/// Where a batch's items wait for its stream.
pub(crate) struct StreamQueue(Arc<Mutex<Queue>>);

impl StreamQueue {
    /// A queue for `items` items: the stream ends after the last.
    pub fn new(items: usize) -> StreamQueue {
        StreamQueue(Arc::new(Mutex::new(Queue {
            ready: VecDeque::new(),
            remaining: items,
            waker: None,
        })))
    }

    /// Hands one item over, waking the stream's task.
    pub fn pusher(&self) -> impl FnMut(GeneratedImage) + Send + 'static {
        let queue = self.0.clone();
        move |item| {
            let mut q = lock(&queue);
            q.ready.push_back(item);
            q.remaining = q.remaining.saturating_sub(1);
            if let Some(w) = q.waker.take() {
                w.wake();
            }
        }
    }

    /// The stream; dropping it cancels what `request` still has pending.
    pub fn into_stream(self, request: Arc<dyn Cancel>) -> ImageStream {
        ImageStream {
            queue: self.0,
            request,
        }
    }
}

/// The stream of many images (`images`), keyed by requested time, in
/// completion order.
pub struct ImageStream {
    queue: Arc<Mutex<Queue>>,
    request: Arc<dyn Cancel>,
}

impl futures_core::Stream for ImageStream {
    type Item = GeneratedImage;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<GeneratedImage>> {
        let mut q = lock(&self.queue);
        if let Some(item) = q.ready.pop_front() {
            return Poll::Ready(Some(item));
        }
        if q.remaining == 0 {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for ImageStream {
    fn drop(&mut self) {
        self.request.cancel();
    }
}
