//! The request surface (SPEC "Requests"): every form answers a time with
//! the same frame; `generate_images` calls back exactly once per requested
//! time, duplicates included; a request keeps the settings it was submitted
//! with; the generator is `Send + Sync`; dropping a future or a stream
//! cancels its requests; `cancel_all` in the middle of 8 threads × 50
//! requests resolves every request exactly once and lets none that was
//! pending succeed afterwards; bad input gives typed errors, never a hang.
//!
//! Where a test must know that a request is still pending, it parks the
//! generator's only worker inside a callback of an earlier request (a
//! "gate"), so nothing is left to timing.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use common::facts::Fixture;
use common::harness::{
    block_on_timeout, collect_stream, describe, generator, gpu_turn, is_no_image, read_code,
    shared_file, DEADLINE, SMALL,
};
use common::readme::fixture_path;
use stills::asset::geometry::Orientation;
use stills::{Error, GeneratedImage, ImageGenerator, Outcome, Size, Time};
use stills::{ImageFuture, ImageResult, ImageStream};

const BFRAMES: &str = "h264_bframes.mp4";

/// What a result shows of the frame: its code, actual time and pixels, or
/// the error's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Frame {
        code: Option<u32>,
        actual: Time,
        width: u32,
        pixels: Vec<u8>,
    },
    Error(String),
}

fn seen(result: &ImageResult) -> Seen {
    match result {
        Ok((image, actual)) => Seen::Frame {
            code: read_code(image, Orientation::IDENTITY).ok(),
            actual: *actual,
            width: image.width(),
            pixels: image.data().to_vec(),
        },
        Err(e) => Seen::Error(error_kind(e)),
    }
}

fn error_kind(e: &Error) -> String {
    format!("{e:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn outcome_result(outcome: Outcome) -> ImageResult {
    match outcome {
        Outcome::Succeeded { image, actual_time } => Ok((image, actual_time)),
        Outcome::Failed(e) => Err(e),
        Outcome::Cancelled => Err(Error::Cancelled),
    }
}

fn exact_bframes(workers: usize) -> ImageGenerator {
    generator(&fixture_path(BFRAMES), workers, |s| {
        s.set_maximum_size(SMALL);
        s.set_exact();
    })
}

/// Receives `n` messages or fails the test at the deadline.
fn receive<T>(rx: &Receiver<T>, n: usize, what: &str) -> Vec<T> {
    let deadline = Instant::now() + DEADLINE;
    (0..n)
        .map(|i| {
            let left = deadline.saturating_duration_since(Instant::now());
            rx.recv_timeout(left)
                .unwrap_or_else(|_| panic!("{what}: only {i} of {n} results before the deadline"))
        })
        .collect()
}

/// Parks the generator's worker inside a callback until the returned
/// sender is dropped or sent to; returns once the worker is parked.
fn close_gate(generator: &ImageGenerator) -> (Sender<()>, Receiver<ImageResult>) {
    let (entered_tx, entered_rx) = channel();
    let (open_tx, open_rx) = channel::<()>();
    let (result_tx, result_rx) = channel();
    generator.generate_image(Time::ZERO, move |result| {
        entered_tx.send(()).ok();
        let _ = open_rx.recv();
        result_tx.send(result).ok();
    });
    entered_rx
        .recv_timeout(DEADLINE)
        .expect("the gate request reached its callback");
    (open_tx, result_rx)
}

#[test]
fn every_request_form_gives_the_same_frame() {
    let _turn = gpu_turn();
    let fx = Fixture::load(BFRAMES);
    let times = [
        Time::ZERO,
        Time::new(1, 4),
        fx.time_between(6655, 3, 7),
        Time::new(123, 100),
        Time::new(25599, 12800),
        Time::new(5, 2),
    ];
    let generator = Arc::new(exact_bframes(1));
    let mut forms: Vec<(&str, HashMap<Time, Seen>)> = Vec::new();

    let copied = times
        .iter()
        .map(|&t| (t, seen(&generator.copy_image(t))))
        .collect();
    forms.push(("copy_image", copied));

    let awaited = times
        .iter()
        .map(|&t| (t, seen(&pollster::block_on(generator.image_at(t)))))
        .collect();
    forms.push(("image_at", awaited));

    let streamed = collect_stream(generator.images(times), DEADLINE)
        .unwrap()
        .iter()
        .map(|item| (item.requested, seen(&item.result)))
        .collect();
    forms.push(("images", streamed));

    let (tx, rx) = channel();
    for t in times {
        let tx = tx.clone();
        generator.generate_image(t, move |r| {
            tx.send((t, seen(&r))).ok();
        });
    }
    forms.push((
        "generate_image",
        receive(&rx, times.len(), "generate_image")
            .into_iter()
            .collect(),
    ));

    let (tx, rx) = channel();
    generator.generate_images(times, move |t, outcome| {
        tx.send((t, seen(&outcome_result(outcome)))).ok();
    });
    forms.push((
        "generate_images",
        receive(&rx, times.len(), "generate_images")
            .into_iter()
            .collect(),
    ));

    for (form, answers) in &forms {
        assert_eq!(answers.len(), times.len(), "{form}");
        for t in times {
            let want = match fx.displayed_at(t) {
                Some(f) => (Some(f.code), Some(fx.time(f.pts))),
                None => (None, None),
            };
            let got = match &answers[&t] {
                Seen::Frame { code, actual, .. } => (*code, Some(*actual)),
                Seen::Error(kind) => {
                    assert_eq!(kind, "NoImageAtTime", "{form} at {t:?}");
                    (None, None)
                }
            };
            assert_eq!(got, want, "{form} at {t:?}");
            assert_eq!(
                answers[&t], forms[0].1[&t],
                "{form} and copy_image differ at {t:?}"
            );
        }
    }
}

#[test]
fn generate_images_calls_back_exactly_once_per_requested_time() {
    let _turn = gpu_turn();
    let fx = Fixture::load(BFRAMES);
    let a = Time::new(1, 10);
    let b = Time::new(1, 2);
    let times = vec![
        a,
        a,
        b,
        a,
        Time::new(3, 1),
        Time::INVALID,
        b,
        Time::INDEFINITE,
    ];
    let generator = exact_bframes(1);
    let calls: Arc<Mutex<Vec<(Time, Seen)>>> = Arc::default();
    let (tx, rx) = channel();
    let record = calls.clone();
    generator.generate_images(times.clone(), move |t, outcome| {
        record
            .lock()
            .unwrap()
            .push((t, seen(&outcome_result(outcome))));
        tx.send(()).ok();
    });
    receive(&rx, times.len(), "generate_images");
    // Anything extra would come right after; give it the chance.
    std::thread::sleep(Duration::from_millis(300));
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), times.len(), "one call per requested time");

    let count = |t: Time, list: &[Time]| list.iter().filter(|&&x| x == t).count();
    let called: Vec<Time> = calls.iter().map(|c| c.0).collect();
    for &t in &times {
        assert_eq!(count(t, &called), count(t, &times), "calls for {t:?}");
    }
    for (t, what) in &calls {
        let frame = t.is_numeric().then(|| fx.displayed_at(*t));
        let want = match frame {
            None => Seen::Error("InvalidTime".into()),
            Some(None) => Seen::Error("NoImageAtTime".into()),
            Some(Some(f)) => {
                let Seen::Frame { pixels, width, .. } = what else {
                    panic!("{t:?}: want code {}, got {what:?}", f.code);
                };
                Seen::Frame {
                    code: Some(f.code),
                    actual: fx.time(f.pts),
                    width: *width,
                    pixels: pixels.clone(),
                }
            }
        };
        assert_eq!(what, &want, "at {t:?}");
    }
    // Duplicates get the same picture.
    let pictures =
        |t: Time| -> Vec<&Seen> { calls.iter().filter(|c| c.0 == t).map(|c| &c.1).collect() };
    for t in [a, b] {
        let all = pictures(t);
        assert!(
            all.windows(2).all(|w| w[0] == w[1]),
            "duplicates of {t:?} differ"
        );
    }

    // The stream too yields one item per requested time.
    let items = collect_stream(generator.images(times.clone()), DEADLINE).unwrap();
    let streamed: Vec<Time> = items.iter().map(|i| i.requested).collect();
    assert_eq!(streamed.len(), times.len());
    for &t in &times {
        assert_eq!(count(t, &streamed), count(t, &times), "items for {t:?}");
    }
}

#[test]
fn requests_keep_the_settings_they_were_submitted_with() {
    let _turn = gpu_turn();
    let fx = Fixture::load(BFRAMES);
    let generator = exact_bframes(1);
    let (open, gate_result) = close_gate(&generator);

    // Submitted exact at 160 wide while the worker is parked.
    let times = [Time::new(3, 10), Time::new(13, 10)];
    let (tx, rx) = channel();
    let old_tx = tx.clone();
    generator.generate_images(times, move |t, o| {
        old_tx.send(("old batch", t, outcome_result(o))).ok();
    });
    let old_future = generator.image_at(times[0]);
    let old_stream = generator.images(times);

    generator.configure(|s| {
        s.set_maximum_size(Size::new(80, 0));
        s.set_tolerance_before(Time::POSITIVE_INFINITY).unwrap();
        s.set_tolerance_after(Time::POSITIVE_INFINITY).unwrap();
    });
    generator.generate_images(times, move |t, o| {
        tx.send(("new batch", t, outcome_result(o))).ok();
    });
    open.send(()).unwrap();
    assert!(gate_result.recv_timeout(DEADLINE).unwrap().is_ok());

    let mut results: Vec<(&str, Time, ImageResult)> = receive(&rx, 4, "batches");
    results.push((
        "old future",
        times[0],
        block_on_timeout(old_future, DEADLINE).expect("the future resolved"),
    ));
    for item in collect_stream(old_stream, DEADLINE).unwrap() {
        results.push(("old stream", item.requested, item.result));
    }
    assert_eq!(results.len(), 7);
    for (which, t, result) in results {
        let (image, actual) = result.unwrap_or_else(|e| panic!("{which} at {t:?}: {e}"));
        let (width, frame) = if which.starts_with("old") {
            (160, fx.displayed_at(t).unwrap())
        } else {
            // Infinite tolerances: the nearest sync frame (codes 0, 12, 24,
            // 36, 48 at 0, 0.48, 0.96, 1.44, 1.92 s).
            let code = if t == times[0] { 12 } else { 36 };
            (80, fx.frame_with_code(code).unwrap())
        };
        assert_eq!(image.width(), width, "{which} at {t:?}");
        assert_eq!(actual, fx.time(frame.pts), "{which} at {t:?}");
        assert_eq!(
            read_code(&image, Orientation::IDENTITY),
            Ok(frame.code),
            "{which} at {t:?}"
        );
    }
}

#[test]
fn generator_futures_and_streams_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ImageGenerator>();
    send::<ImageFuture>();
    send::<ImageStream>();
    send::<GeneratedImage>();
    send::<Outcome>();
    send::<Error>();

    // And in use: one generator shared by threads, a future awaited on a
    // thread other than the one that made it.
    let _turn = gpu_turn();
    let fx = Fixture::load(BFRAMES);
    let generator = Arc::new(exact_bframes(1));
    let future = generator.image_at(Time::new(1, 1));
    let shared = generator.clone();
    let handle = std::thread::spawn(move || {
        let other = shared.copy_image(Time::new(1, 2));
        (pollster::block_on(future), other)
    });
    let (here, there) = handle.join().unwrap();
    for (result, t) in [(here, Time::new(1, 1)), (there, Time::new(1, 2))] {
        let (image, actual) = result.unwrap();
        let want = fx.displayed_at(t).unwrap();
        assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(want.code));
        assert_eq!(actual, fx.time(want.pts));
    }
}

/// Records the first wake-up, by the shared event counter.
struct Recorder {
    seq: Arc<AtomicU64>,
    woke_at: Mutex<Option<u64>>,
    thread: Thread,
}

impl Recorder {
    fn new(seq: Arc<AtomicU64>) -> Arc<Recorder> {
        Arc::new(Recorder {
            seq,
            woke_at: Mutex::new(None),
            thread: std::thread::current(),
        })
    }

    fn woke_at(&self) -> Option<u64> {
        *self.woke_at.lock().unwrap()
    }
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let at = self.seq.fetch_add(1, Ordering::SeqCst);
        self.woke_at.lock().unwrap().get_or_insert(at);
        self.thread.unpark();
    }
}

#[test]
fn dropping_a_future_or_a_stream_cancels_its_requests() {
    let _turn = gpu_turn();
    let fx = Fixture::load(BFRAMES);
    let generator = exact_bframes(1);
    let (open, gate_result) = close_gate(&generator);
    let seq = Arc::new(AtomicU64::new(0));

    // The worker is parked, so nothing can deliver these; a wake-up can
    // only come from the cancellation that dropping them must do.
    let future_recorder = Recorder::new(seq.clone());
    let future_waker = Waker::from(future_recorder.clone());
    let mut future = Box::pin(generator.image_at(Time::new(1, 2)));
    assert!(future
        .as_mut()
        .poll(&mut Context::from_waker(&future_waker))
        .is_pending());
    let stream_recorder = Recorder::new(seq.clone());
    let stream_waker = Waker::from(stream_recorder.clone());
    let mut stream = generator.images([Time::new(1, 4), Time::new(3, 4)]);
    assert!(futures_core::Stream::poll_next(
        Pin::new(&mut stream),
        &mut Context::from_waker(&stream_waker)
    )
    .is_pending());
    assert_eq!(
        (future_recorder.woke_at(), stream_recorder.woke_at()),
        (None, None)
    );

    drop(future);
    assert!(
        future_recorder.woke_at().is_some(),
        "dropping the future did not resolve its request"
    );
    drop(stream);
    assert!(
        stream_recorder.woke_at().is_some(),
        "dropping the stream did not resolve its requests"
    );

    // A stream dropped part-way: the first item taken, the rest cancelled
    // when it goes; requests of others are untouched.
    let (tx, rx) = channel();
    generator.generate_images([Time::new(1, 1)], move |t, o| {
        tx.send((t, outcome_result(o))).ok();
    });
    open.send(()).unwrap();
    assert!(gate_result.recv_timeout(DEADLINE).unwrap().is_ok());
    let (t, result) = receive(&rx, 1, "the request submitted after the drops").remove(0);
    let (image, actual) = result.expect("other requests are not cancelled by a drop");
    let want = fx.displayed_at(t).unwrap();
    assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(want.code));
    assert_eq!(actual, fx.time(want.pts));

    let mut stream = generator.images([Time::new(1, 5), Time::new(2, 5), Time::new(3, 5)]);
    let first = block_on_timeout(
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx)),
        DEADLINE,
    )
    .expect("a first item")
    .expect("the stream is not over");
    assert!(
        first.result.is_ok(),
        "{}",
        describe(&first.result, Orientation::IDENTITY)
    );
    drop(stream);
    let after = generator.copy_image(Time::new(4, 5));
    assert!(after.is_ok(), "{}", describe(&after, Orientation::IDENTITY));
}

/// One request of the cancellation stress test and what became of it.
struct Record {
    time: Time,
    /// Event counter values taken before the request was submitted and
    /// after the submitting call returned.
    submit_start: u64,
    submit_done: u64,
    /// Each delivery: the counter when it began (for callbacks, on entry;
    /// for futures, at the wake-up the delivery makes; for stream items, a
    /// lower bound: the start of the last poll that found nothing) and the
    /// result.
    deliveries: Vec<(Option<u64>, Seen)>,
}

#[derive(Clone, Copy, Debug)]
enum Api {
    GenerateImage,
    GenerateImages,
    ImageAt,
    Images,
    CopyImage,
}

const THREADS: usize = 8;
const PER_THREAD: usize = 50;
/// Requests each thread submits before `cancel_all`, while it runs, and
/// after it returned. A thread of blocking `copy_image` calls would wait
/// out everything queued before its first call returned, leaving nothing
/// for `cancel_all` to find, so it starts once `cancel_all` is called.
const PHASES: [usize; 3] = [25, 15, 10];
const COPY_PHASES: [usize; 3] = [0, 25, 25];

struct Shared {
    generator: ImageGenerator,
    seq: Arc<AtomicU64>,
    /// Callback deliveries so far, so `cancel_all` waits for some work done.
    delivered: Arc<AtomicUsize>,
    before_cancel: Barrier,
    after_cancel: Barrier,
    fx: Fixture,
}

impl Shared {
    fn tick(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }
}

type Slot = Arc<Mutex<Record>>;

fn new_slot(time: Time) -> Slot {
    Arc::new(Mutex::new(Record {
        time,
        submit_start: 0,
        submit_done: 0,
        deliveries: Vec::new(),
    }))
}

/// What a submitting thread still has to drive after submitting.
enum Pending {
    Nothing,
    Future(Slot, Pin<Box<ImageFuture>>, Arc<Recorder>),
    Stream(Vec<Slot>, ImageStream, Option<u64>),
}

/// Submits the requests of `slots` through `api` (one request, or a batch
/// for the batch forms), recording when.
fn submit(shared: &Arc<Shared>, api: Api, slots: &[Slot]) -> Pending {
    let times: Vec<Time> = slots.iter().map(|s| s.lock().unwrap().time).collect();
    let start = shared.tick();
    for s in slots {
        s.lock().unwrap().submit_start = start;
    }
    let pending = match api {
        Api::GenerateImage => {
            let slot = slots[0].clone();
            let (seq, delivered) = (shared.seq.clone(), shared.delivered.clone());
            shared.generator.generate_image(times[0], move |r| {
                let at = seq.fetch_add(1, Ordering::SeqCst);
                slot.lock().unwrap().deliveries.push((Some(at), seen(&r)));
                delivered.fetch_add(1, Ordering::SeqCst);
            });
            Pending::Nothing
        }
        Api::GenerateImages => {
            let by_time: HashMap<Time, Slot> =
                times.iter().copied().zip(slots.iter().cloned()).collect();
            let (seq, delivered) = (shared.seq.clone(), shared.delivered.clone());
            shared
                .generator
                .generate_images(times.clone(), move |t, o| {
                    let at = seq.fetch_add(1, Ordering::SeqCst);
                    by_time[&t]
                        .lock()
                        .unwrap()
                        .deliveries
                        .push((Some(at), seen(&outcome_result(o))));
                    delivered.fetch_add(1, Ordering::SeqCst);
                });
            Pending::Nothing
        }
        Api::ImageAt => {
            let recorder = Recorder::new(shared.seq.clone());
            let mut future = Box::pin(shared.generator.image_at(times[0]));
            let waker = Waker::from(recorder.clone());
            let polled_at = shared.tick();
            match future.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(r) => {
                    // Delivered before this poll: the poll bounds it.
                    slots[0]
                        .lock()
                        .unwrap()
                        .deliveries
                        .push((Some(polled_at), seen(&r)));
                    Pending::Nothing
                }
                Poll::Pending => Pending::Future(slots[0].clone(), future, recorder),
            }
        }
        Api::Images => {
            Pending::Stream(slots.to_vec(), shared.generator.images(times.clone()), None)
        }
        Api::CopyImage => {
            let r = shared.generator.copy_image(times[0]);
            slots[0].lock().unwrap().deliveries.push((None, seen(&r)));
            Pending::Nothing
        }
    };
    let done = shared.tick();
    for s in slots {
        s.lock().unwrap().submit_done = done;
    }
    pending
}

/// Drives a pending future or stream as far as it goes now (no
/// `deadline`) or to its end; returns whether it ended.
fn drive(shared: &Shared, pending: &mut Pending, deadline: Option<Instant>) -> bool {
    match pending {
        Pending::Nothing => true,
        Pending::Future(slot, future, recorder) => {
            let waker = Waker::from(recorder.clone());
            loop {
                if let Poll::Ready(r) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                    slot.lock()
                        .unwrap()
                        .deliveries
                        .push((recorder.woke_at(), seen(&r)));
                    *pending = Pending::Nothing;
                    return true;
                }
                match deadline {
                    Some(d) if Instant::now() < d => {
                        std::thread::park_timeout(Duration::from_millis(20));
                    }
                    _ => return false,
                }
            }
        }
        Pending::Stream(slots, stream, last_empty) => {
            let recorder = Recorder::new(shared.seq.clone());
            let waker = Waker::from(recorder);
            loop {
                let polled_at = shared.tick();
                match futures_core::Stream::poll_next(
                    Pin::new(stream),
                    &mut Context::from_waker(&waker),
                ) {
                    Poll::Ready(Some(item)) => {
                        let slot = slots
                            .iter()
                            .find(|s| {
                                let r = s.lock().unwrap();
                                r.time == item.requested && r.deliveries.is_empty()
                            })
                            .or_else(|| {
                                slots
                                    .iter()
                                    .find(|s| s.lock().unwrap().time == item.requested)
                            })
                            .expect("an item for a requested time")
                            .clone();
                        slot.lock()
                            .unwrap()
                            .deliveries
                            .push((*last_empty, seen(&item.result)));
                    }
                    Poll::Ready(None) => {
                        *pending = Pending::Nothing;
                        return true;
                    }
                    Poll::Pending => {
                        *last_empty = Some(polled_at);
                        match deadline {
                            Some(d) if Instant::now() < d => {
                                std::thread::park_timeout(Duration::from_millis(20));
                            }
                            _ => return false,
                        }
                    }
                }
            }
        }
    }
}

fn stress_thread(shared: Arc<Shared>, thread: usize) -> Vec<Slot> {
    let api = match thread % 5 {
        0 => Api::GenerateImage,
        1 => Api::GenerateImages,
        2 => Api::ImageAt,
        3 => Api::Images,
        _ => Api::CopyImage,
    };
    // Exact times over the whole file, a different walk per thread.
    let time = |i: usize| {
        let f = shared.fx.frames[(thread * 7 + i * 3) % shared.fx.frames.len()];
        shared.fx.time_between(f.pts, (i % 5) as i64, 5)
    };
    let mut slots = Vec::new();
    let mut pendings = Vec::new();
    let mut i = 0;
    let phases = match api {
        Api::CopyImage => COPY_PHASES,
        _ => PHASES,
    };
    for (phase, &count) in phases.iter().enumerate() {
        if phase == 1 {
            shared.before_cancel.wait();
        } else if phase == 2 {
            shared.after_cancel.wait();
        }
        let group = match api {
            Api::GenerateImages | Api::Images => 5,
            _ => 1,
        };
        let end = i + count;
        while i < end {
            let batch: Vec<Slot> = (i..end.min(i + group)).map(|k| new_slot(time(k))).collect();
            i += batch.len();
            let mut pending = submit(&shared, api, &batch);
            drive(&shared, &mut pending, None);
            pendings.push(pending);
            slots.extend(batch);
        }
    }
    let deadline = Instant::now() + DEADLINE;
    for pending in &mut pendings {
        assert!(
            drive(&shared, pending, Some(deadline)),
            "thread {thread}: a future or stream did not finish by the deadline"
        );
    }
    slots
}

#[test]
fn cancel_all_amid_eight_threads_resolves_every_request_once() {
    let _turn = gpu_turn();
    let shared = Arc::new(Shared {
        generator: exact_bframes(1),
        seq: Arc::new(AtomicU64::new(0)),
        delivered: Arc::default(),
        before_cancel: Barrier::new(THREADS + 1),
        after_cancel: Barrier::new(THREADS + 1),
        fx: Fixture::load(BFRAMES),
    });
    let handles: Vec<_> = (0..THREADS)
        .map(|k| {
            let shared = shared.clone();
            std::thread::spawn(move || stress_thread(shared, k))
        })
        .collect();
    // Some requests done, most still queued: then cancel, while the threads
    // go on submitting.
    let deadline = Instant::now() + DEADLINE;
    while shared.delivered.load(Ordering::SeqCst) < 10 {
        assert!(Instant::now() < deadline, "no request was delivered");
        std::thread::sleep(Duration::from_millis(2));
    }
    shared.before_cancel.wait();
    let called_at = shared.tick();
    shared.generator.cancel_all();
    let returned_at = shared.tick();
    shared.after_cancel.wait();
    let slots: Vec<Slot> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("a submitting thread panicked"))
        .collect();
    // Late or duplicate deliveries would come now; give them the chance.
    std::thread::sleep(Duration::from_millis(300));

    assert_eq!(slots.len(), THREADS * PER_THREAD);
    let (mut cancelled, mut delivered_before, mut problems) = (0, 0, Vec::new());
    for slot in &slots {
        let r = slot.lock().unwrap();
        let t = r.time;
        if r.deliveries.len() != 1 {
            problems.push(format!("{t:?}: {} deliveries", r.deliveries.len()));
            continue;
        }
        let (at, what) = &r.deliveries[0];
        let submitted_before = r.submit_done < called_at;
        let submitted_after = r.submit_start > returned_at;
        match what {
            Seen::Error(kind) if kind == "Cancelled" => {
                cancelled += 1;
                if submitted_after {
                    problems.push(format!("{t:?}: submitted after cancel_all, yet cancelled"));
                }
            }
            Seen::Error(kind) => problems.push(format!("{t:?}: failed with {kind}")),
            Seen::Frame { code, actual, .. } => {
                let want = shared.fx.displayed_at(t).expect("times inside the file");
                if (*code, *actual) != (Some(want.code), shared.fx.time(want.pts)) {
                    problems.push(format!("{t:?}: code {code:?} at {actual:?}, want {want:?}"));
                }
                if submitted_before && at.is_some_and(|at| at > returned_at) {
                    problems.push(format!(
                        "{t:?}: submitted before cancel_all, delivered an image after it returned"
                    ));
                }
                if at.is_some_and(|at| at < called_at) {
                    delivered_before += 1;
                }
            }
        }
        if submitted_before && matches!(what, Seen::Error(k) if k == "Cancelled") {
            if let Some(at) = at.filter(|&at| at > returned_at) {
                // A callback or a wake-up after cancel_all returned: the
                // request was still undelivered then.
                problems.push(format!(
                    "{t:?}: cancelled at event {at}, after cancel_all returned at {returned_at}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The test means something only if cancel_all met pending requests
    // and work was done before it.
    assert!(cancelled > 0, "cancel_all found nothing pending");
    assert!(
        delivered_before > 0,
        "nothing was delivered before cancel_all"
    );
}

#[test]
fn an_asset_without_video_gives_no_video_track_everywhere() {
    let _turn = gpu_turn();
    let asset = stills::Asset::open(fixture_path("audio_only.mp4"))
        .expect("an asset without video still opens");
    let generator = ImageGenerator::new(asset).with_workers(1);
    let t = Time::new(1, 2);
    let is_no_video = |r: &ImageResult| matches!(r, Err(Error::NoVideoTrack { .. }));
    let copied = generator.copy_image(t);
    assert!(is_no_video(&copied), "copy_image: {copied:?}");
    let awaited = block_on_timeout(generator.image_at(t), DEADLINE).expect("resolves");
    assert!(is_no_video(&awaited), "image_at: {awaited:?}");
    let items = collect_stream(generator.images([t, Time::ZERO]), DEADLINE).unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|i| is_no_video(&i.result)),
        "images: {items:?}"
    );
    let (tx, rx) = channel();
    generator.generate_images([t, t], move |_, o| {
        tx.send(outcome_result(o)).ok();
    });
    for r in receive(&rx, 2, "generate_images") {
        assert!(is_no_video(&r), "generate_images: {r:?}");
    }
}

/// The result of every time of `times` on `path` (exact mode), asked as a
/// batch and again one at a time; each must resolve within the deadline.
fn every_request_resolves(path: &std::path::Path, times: &[Time]) -> Vec<(Time, ImageResult)> {
    let generator = generator(path, 1, |s| {
        s.set_maximum_size(SMALL);
        s.set_exact();
    });
    let mut results: Vec<(Time, ImageResult)> =
        collect_stream(generator.images(times.to_vec()), DEADLINE)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .into_iter()
            .map(|i| (i.requested, i.result))
            .collect();
    assert_eq!(results.len(), times.len());
    for &t in times {
        let r = block_on_timeout(generator.image_at(t), DEADLINE)
            .unwrap_or_else(|| panic!("{} at {t:?}: no answer", path.display()));
        results.push((t, r));
    }
    results
}

#[test]
fn an_undecodable_bitstream_gives_decode_failed() {
    let Some(path) = shared_file("androidx/invalid-bitstream.webm") else {
        return;
    };
    let _turn = gpu_turn();
    // No packet of this file decodes. The index peeks at each VP9 header to
    // tell hidden frames, and takes the first two packets' garbage for
    // hidden ones, so it shows nothing before 0.08 s: NoImageAtTime is a
    // fair answer there. Every later time holds a packet the index shows.
    let times: Vec<Time> = (0..8).map(|k| Time::new(k, 4)).collect();
    for (t, r) in every_request_resolves(&path, &times) {
        let fine = match &r {
            Err(Error::DecodeFailed(_)) => true,
            Err(e) => t < Time::new(8, 100) && is_no_image(e),
            Ok(_) => false,
        };
        assert!(
            fine,
            "at {t:?}: want DecodeFailed, got {}",
            describe(&r, Orientation::IDENTITY)
        );
    }
}

#[test]
fn corrupt_media_data_gives_images_or_decode_failed() {
    let _turn = gpu_turn();
    // h264_bframes.mp4 with samples in the second and third GOPs damaged
    // (README): the first GOP (codes 0..=11) and the last two (36..=49)
    // are untouched and must come out exactly.
    let fx = Fixture::load(BFRAMES);
    let times: Vec<Time> = fx.frames.iter().map(|f| fx.time(f.pts)).collect();
    let mut problems = Vec::new();
    for (t, r) in every_request_resolves(&fixture_path("corrupt_mdat.mp4"), &times) {
        let want = fx.displayed_at(t).unwrap();
        let clean = want.code <= 11 || want.code >= 36;
        let fine = match &r {
            Ok((image, actual)) => {
                *actual == fx.time(want.pts)
                    && (!clean || read_code(image, Orientation::IDENTITY) == Ok(want.code))
            }
            Err(Error::DecodeFailed(_)) => !clean,
            Err(_) => false,
        };
        if !fine {
            problems.push(format!(
                "at {t:?} (code {}): got {}",
                want.code,
                describe(&r, Orientation::IDENTITY)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Several generators rendering at once on the shared GPU, each checking
/// every frame it gets.
#[test]
fn concurrent_generators_never_lose_the_device() {
    let _turn = gpu_turn();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let fx = Fixture::load(BFRAMES);
                let generator = exact_bframes(2);
                let times: Vec<Time> = fx.frames.iter().map(|f| fx.time(f.pts)).collect();
                let mut problems = Vec::new();
                for _ in 0..8 {
                    for item in collect_stream(generator.images(times.clone()), DEADLINE).unwrap() {
                        let want = fx.displayed_at(item.requested).unwrap();
                        let ok = matches!(&item.result, Ok((image, actual))
                            if *actual == fx.time(want.pts)
                                && read_code(image, Orientation::IDENTITY) == Ok(want.code));
                        if !ok {
                            problems.push(describe(&item.result, Orientation::IDENTITY));
                        }
                    }
                }
                problems
            })
        })
        .collect();
    let problems: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} requests failed, e.g. {}",
        problems.len(),
        8 * 8 * 50,
        problems[0]
    );
}

/// `cancel_all` from inside a `generate_images` handler (issue 12): the
/// handler's own thread is delivering the batch, so a cancellation that
/// waited for the batch's delivery lock would wait on itself. Every
/// request still gets exactly one outcome, the cancelled ones `Cancelled`.
#[test]
fn r12_cancel_all_inside_a_handler_neither_hangs_nor_loses_requests() {
    let generator = Arc::new(exact_bframes(1));
    let weak = Arc::downgrade(&generator);
    let times: Vec<Time> = (0..12).map(|i| Time::new(i, 25)).collect();
    let (tx, rx) = channel();
    generator.generate_images(times.clone(), move |requested, outcome| {
        let first = matches!(outcome, Outcome::Succeeded { .. });
        tx.send((requested, outcome)).ok();
        if first {
            if let Some(generator) = weak.upgrade() {
                generator.cancel_all();
            }
        }
    });
    let outcomes = receive(&rx, times.len(), "a batch cancelled from its own handler");
    let mut seen: Vec<Time> = outcomes.iter().map(|(t, _)| *t).collect();
    seen.sort();
    assert_eq!(seen, times, "one outcome per requested time");
    let cancelled = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Cancelled))
        .count();
    assert!(cancelled > 0, "the handler's cancel_all cancelled the rest");
    // The generator still serves new requests.
    assert!(generator.copy_image(Time::new(1, 2)).is_ok());
}

/// Issue 11: images from another video track than the default, chosen by
/// the stream index `stills probe` lists. `two_video_tracks.mp4` holds
/// stream 0 (320×240, 25 fps) and stream 1 (160×120, 10 fps), each frame
/// coded with its own index.
#[test]
fn r11_images_come_from_the_video_track_asked_for() {
    let _turn = gpu_turn();
    let path = fixture_path("two_video_tracks.mp4");
    let generator = generator(&path, 1, |s| {
        s.set_exact();
        s.set_track(Some(1));
    });
    for n in [0u32, 7, 19] {
        // Mid-frame on the 10 fps grid.
        let (image, actual) = generator
            .copy_image(Time::new(i64::from(2 * n + 1), 20))
            .unwrap_or_else(|e| panic!("stream 1 frame {n}: {e}"));
        assert_eq!((image.width(), image.height()), (160, 120));
        assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(n));
        assert_eq!(actual, Time::new(i64::from(n), 10));
    }
    for track in [Some(0), None] {
        generator.configure(|s| s.set_track(track));
        let (image, _) = generator
            .copy_image(Time::new(2 * 13 + 1, 50))
            .unwrap_or_else(|e| panic!("stream {track:?} frame 13: {e}"));
        assert_eq!((image.width(), image.height()), (320, 240));
        assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(13));
    }
    generator.configure(|s| s.set_track(Some(2)));
    match generator.copy_image(Time::ZERO) {
        Err(e @ Error::NoSuchTrack { stream: 2, .. }) => {
            let Error::NoSuchTrack { video_tracks, .. } = &e else {
                unreachable!()
            };
            assert_eq!(video_tracks, &[0, 1]);
            assert!(
                e.to_string()
                    .ends_with("stream 2 is not a video track (video tracks: 0, 1)"),
                "{e}"
            );
        }
        other => panic!("stream 2: {other:?}"),
    }
}

/// Several renders in flight on one device, each on its own pipeline (a
/// GPU's default is four; lavapipe gets one unless asked): workers decoding
/// different groups render side by side, and every image is still its
/// frame.
#[test]
fn renders_in_flight_side_by_side_give_the_right_frames() {
    let _turn = gpu_turn();
    let pool = stills::GeneratorPool::new()
        .with_workers(4)
        .with_renders_in_flight(3);
    let asset = stills::Asset::open(fixture_path("h264_bframes.mp4")).unwrap();
    let generator = ImageGenerator::with_pool(asset, &pool);
    generator.configure(|s| {
        s.set_exact();
        s.set_maximum_size(Size::new(80, 0));
    });
    // Mid-frame times of all 50 frames (25 fps), two groups of pictures.
    let times: Vec<Time> = (0..50).map(|n| Time::new(2 * n + 1, 50)).collect();
    let items = collect_stream(generator.images(times), DEADLINE).unwrap();
    assert_eq!(items.len(), 50);
    for item in items {
        let n = (item.requested.value() - 1) / 2;
        let (image, _) = item.result.unwrap_or_else(|e| panic!("frame {n}: {e}"));
        assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(n as u32));
    }
}
