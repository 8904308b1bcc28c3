//! Driving an `ImageGenerator` from tests: building one, waiting for its
//! futures and streams with a deadline (a hang must fail a test, not stall
//! it), reading the frame code out of its images, and finding the shared
//! real-world media.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use stills::asset::geometry::Orientation;
use stills::{
    Asset, Error, GeneratedImage, GeneratorSettings, Image, ImageGenerator, ImageResult,
    PixelFormat, Size,
};

use super::framecode::{read_frame_code, FrameCodeError, Picture, PixelLayout};

/// The maximum size the frame-checking tests ask for: small enough to
/// render quickly on lavapipe, large enough for the code band's cells (10
/// pixels wide at 160).
pub const SMALL: Size = Size::new(160, 0);

/// Long enough for any request of these tests on a slow software GPU; a
/// request still pending after it counts as hung.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Taken by every test that renders, so the tests of one binary render one
/// at a time: on lavapipe each render already uses every core, so
/// overlapping renders from parallel tests only slow each other down. The
/// tests of overlap itself (several workers or threads, in `requests.rs`
/// and `frames.rs`) take it too, and overlap renders within themselves.
pub fn gpu_turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// A generator over the file at `path` with `workers` decoders and the
/// settings `configure` makes.
pub fn generator(
    path: &Path,
    workers: usize,
    configure: impl FnOnce(&mut GeneratorSettings),
) -> ImageGenerator {
    let asset = Asset::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let generator = ImageGenerator::new(asset).with_workers(workers);
    generator.configure(configure);
    generator
}

/// A fixture of tests/fixtures, opened.
pub fn open_fixture(name: &str) -> Asset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Asset::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The frame code of an upright 8-bit image, which must have one.
pub fn code8(image: &Image) -> u32 {
    assert_eq!(image.pixel_format(), PixelFormat::Rgba8);
    read_code(image, Orientation::IDENTITY).expect("a readable frame code")
}

/// The frame code drawn into `image`, shown with `orientation` applied.
pub fn read_code(image: &Image, orientation: Orientation) -> Result<u32, FrameCodeError> {
    let layout = match image.pixel_format() {
        PixelFormat::Rgba8 => PixelLayout::Rgba8,
        // The reader takes native-endian samples and the image's are
        // little-endian.
        PixelFormat::Rgba16 if cfg!(target_endian = "little") => PixelLayout::Rgba16,
        PixelFormat::Rgba16 => panic!("16-bit images are little-endian; this host is not"),
    };
    read_frame_code(
        &Picture {
            pixels: image.data(),
            width: image.width(),
            height: image.height(),
            stride: image.stride(),
            layout,
        },
        orientation,
    )
}

/// A one-line account of a result, for failure messages.
pub fn describe(result: &ImageResult, orientation: Orientation) -> String {
    match result {
        Ok((image, actual)) => format!(
            "{}x{} image, code {:?}, actual {actual:?}",
            image.width(),
            image.height(),
            read_code(image, orientation)
        ),
        Err(e) => format!("error {e:?}"),
    }
}

/// Wakes the thread that polls.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` on this thread until it completes or `timeout` passes.
pub fn block_on_timeout<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    let deadline = Instant::now() + timeout;
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::park_timeout(deadline - now);
    }
}

/// Every item of `stream` (an `ImageStream`, or a composition's),
/// until it ends; an error if it has not ended by `timeout`.
pub fn collect_stream(
    mut stream: impl futures_core::Stream<Item = GeneratedImage> + Unpin,
    timeout: Duration,
) -> Result<Vec<GeneratedImage>, String> {
    let mut items = Vec::new();
    loop {
        let next = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut stream), cx)
        });
        match block_on_timeout(next, timeout) {
            Some(Some(item)) => items.push(item),
            Some(None) => return Ok(items),
            None => {
                return Err(format!(
                    "the stream had not ended after {timeout:?} ({} items so far)",
                    items.len()
                ))
            }
        }
    }
}

/// Whether `error` is `NoImageAtTime`.
pub fn is_no_image(error: &Error) -> bool {
    matches!(error, Error::NoImageAtTime { .. })
}

/// One file of the shared media, or `None` (after saying so) when the
/// directory is missing; a missing file in a present directory fails.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = super::media::media_dir()?.join(relative);
    assert!(
        path.is_file(),
        "{} is missing from the shared media",
        path.display()
    );
    Some(path)
}
